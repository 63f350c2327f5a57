//! Stage 1 output: `SpecAst`, the typed spec as written (values unevaluated, every field with its
//! span), produced from a `Node` tree by `convert` for both front-ends.

use crate::expr::Expr;
use crate::node::{Scalar, Span};

/// A value with the span of the text it came from.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// An integer field: a literal or an expression over dims (`4 * d`). `expr` is `None` when the
/// text failed to parse (that error is already reported).
#[derive(Clone, Debug)]
pub struct DimExpr {
    pub expr: Option<Expr>,
    /// The text as written, to map byte offsets of `expr` back to source spans.
    pub scalar: Scalar,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    ConvTransformer,
    Conformer,
    SpeechFormer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Swish,
    Gelu,
}

/// `hrf: { init: … }`: how the HRF chain and W1' start (README, "HRF variants").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HrfInit {
    /// Every factor drawn like any linear (the HRF paper's plain initialisation).
    #[default]
    Default,
    /// H = [I; 0] plus small noise and W1' = [W1, small noise] (ExpandNets, DBB).
    Identity,
    /// Factors with equal spectral scale whose product is a standard W1 draw (Arora et al. 2018).
    Balanced,
}

/// `hrf: { decay: … }`: where weight decay acts on the HRF chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HrfDecay {
    /// AdamW's decoupled decay on each factor, like any weight matrix.
    #[default]
    Factors,
    /// An L2 penalty λ/2·‖W1'·H_k·…·H_1‖² on the merged matrix instead (RepVGG's custom L2).
    Merged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Mean,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionsKind {
    Sinusoidal,
    None,
}

#[derive(Clone, Debug)]
pub struct SpecAst {
    pub name: Spanned<String>,
    pub input: InputAst,
    /// `dims:` in source order: (name, name's span, definition).
    pub dims: Vec<(Spanned<String>, DimExpr)>,
    /// `dims:` was written but could not be read (not a map, or its key misspelt): that error
    /// is already reported, so names that would have been defined there are not reported again.
    pub dims_unreadable: bool,
    pub frontend: FrontendAst,
    pub encoder: Vec<EncoderItemAst>,
    /// Span of the `encoder:` key, for errors about the whole stack.
    pub encoder_span: Span,
    pub pool: Option<Spanned<PoolKind>>,
    pub dropout: Option<Spanned<f64>>,
    pub classes: Vec<Spanned<String>>,
    pub classes_span: Span,
}

#[derive(Clone, Debug)]
pub struct InputAst {
    pub features: DimExpr,
    pub max_frames: DimExpr,
}

#[derive(Clone, Debug)]
pub struct FrontendAst {
    pub conv_subsample: Option<ConvSubsampleAst>,
    pub positions: Option<Spanned<PositionsKind>>,
}

#[derive(Clone, Debug)]
pub struct ConvSubsampleAst {
    pub layers: Option<DimExpr>,
    pub channels: DimExpr,
    pub kernel: Option<DimExpr>,
    pub stride: Option<DimExpr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum EncoderItemAst {
    Blocks(Box<BlockGroupAst>),
    Merge(Box<MergeAst>),
}

/// `- repeat: n` `block: kind` with its sublayers.
#[derive(Clone, Debug)]
pub struct BlockGroupAst {
    pub repeat: Option<DimExpr>,
    pub block: Spanned<BlockKind>,
    pub ffn: FfnAst,
    pub attention: AttentionAst,
    /// Conformer only.
    pub conv: Option<ConvAst>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FfnAst {
    pub hidden: DimExpr,
    pub act: Option<Spanned<Activation>>,
    pub hrf: Option<HrfAst>,
}

/// `hrf: { expand: r, depth: k, bias: b, init: i, decay: w, lr_scale: x }`; `span` is the `hrf`
/// key.
#[derive(Clone, Debug)]
pub struct HrfAst {
    pub expand: Option<DimExpr>,
    pub depth: Option<DimExpr>,
    pub bias: Option<Spanned<bool>>,
    pub init: Option<Spanned<HrfInit>>,
    pub decay: Option<Spanned<HrfDecay>>,
    pub lr_scale: Option<Spanned<f64>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct AttentionAst {
    pub heads: DimExpr,
    pub window: Option<DimExpr>,
}

#[derive(Clone, Debug)]
pub struct ConvAst {
    pub kernel: Option<DimExpr>,
    pub span: Span,
}

/// `- merge: { factor: f, width: w }` between SpeechFormer stages.
#[derive(Clone, Debug)]
pub struct MergeAst {
    pub factor: DimExpr,
    pub width: Option<DimExpr>,
    pub span: Span,
}
