//! hrf spec compiler: spec text → `Node` → `SpecAst` → `ModelIr` → `CheckedModel` → layout → tokens.
//!
//! Stages, one file each: `frontend` (text/tokens → `Node`), `convert` (`Node` → `SpecAst`),
//! `lower` (dims evaluated, defaults), `check` (every error collected → `ModelIr`), `layout`
//! (parameter and activation tables, counts, FLOPs), `budget` (the model-wide memory bound),
//! `codegen` (tokens), `build` (build.rs API).

pub mod ast;
pub mod budget;
pub mod build;
pub mod check;
pub mod codegen;
pub mod convert;
pub mod diagnostics;
pub mod expr;
pub mod frontend;
pub mod ir;
pub mod layout;
pub mod lower;
pub mod node;
pub mod presets;
pub mod suggest;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use ir::ModelIr;
pub use layout::Layout;
pub use node::{Node, Span};

/// A model that passed every check, with its layouts. Contains no spans, so `==` compares
/// models regardless of which front-end (YAML or `model!`) they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedModel {
    pub ir: ModelIr,
    /// Training model: HRF layers, separate Q/K/V, LayerNorm/BatchNorm parameters, CMVN buffers.
    pub train: Layout,
    /// Deployed model: HRF folded into W1, LN γ/β into the next linear, BN into the depthwise
    /// conv, CMVN into the first conv, Q/K/V fused.
    pub folded: Layout,
}

impl CheckedModel {
    /// Identity of the model for checkpoints and weight files: blake3 of the span-free IR's
    /// `Debug` text, as 32 hex digits. Equal for the YAML and `model!` forms of one model;
    /// different as soon as any shape, kind, option or class name differs.
    pub fn spec_hash(&self) -> String {
        let digest = blake3::hash(format!("{:?}", self.ir).as_bytes());
        digest.as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Everything after parsing: `Node` → `SpecAst` → lower → check → layout → memory budget
/// ([`budget`]: the configured budget, at the default training batch).
///
/// Both front-ends call this. On error, every diagnostic is returned in source order; a
/// diagnostic's span is whatever the `Node` carried (`Span::Text` for YAML, `Span::Tokens` for
/// `model!`; errors inside a dim expression point at the offending token through
/// `Scalar::pieces`). One mistake gives one diagnostic: values that depend on a failed one are
/// skipped by later checks.
pub fn compile_node(root: Node) -> Result<CheckedModel, Diagnostics> {
    // Conversion, lowering and checking errors are reported together, in source order: failed
    // values are `None` downstream and the checks that need them are skipped (no cascade).
    let (ast, mut diags) = convert::convert(&root)?;
    let (lowered, lower_diags) = lower::lower(&ast);
    diags.extend(lower_diags);
    let checked = check::check(&lowered);
    let ir = match checked {
        Ok(ir) if diags.is_empty() => ir,
        Ok(_) => {
            convert::sort_by_position(&mut diags);
            return Err(diags);
        }
        Err(more) => {
            diags.extend(more);
            convert::sort_by_position(&mut diags);
            return Err(diags);
        }
    };
    let (train, folded) = layout::build(&ir).map_err(|message| {
        let mut diags = Diagnostics::new();
        diags
            .error(&lowered.name.span, message)
            .help("reduce the dims: the model does not fit in memory");
        diags
    })?;
    let model = CheckedModel { ir, train, folded };
    budget::check(&model, &lowered)?;
    Ok(model)
}

/// Parses and compiles a YAML spec. `path_for_messages` is only used by
/// [`Diagnostics::render`] callers; pass the same path and `text` there to print errors.
pub fn compile_yaml(path_for_messages: &str, text: &str) -> Result<CheckedModel, Diagnostics> {
    let _ = path_for_messages;
    let root = frontend::yaml::parse_yaml(text)?;
    compile_node(root)
}
