//! Spec → runtime contract: the checked model as plain `const` data. Generated code (codegen,
//! `model!`, build.rs) emits one `ModelPlan` per spec; the CLI builds the same value at run time
//! from a YAML spec. The training engine walks `ops` forward and in reverse; the fold and the
//! folded executor read the `folded` table.
//!
//! Everything here is `'static` borrowed data so that a plan can be a `const` item in a `no_std`
//! crate. Names follow the compiler's layout table (`encoder.2.ffn1.hrf.0.weight`).

pub use crate::kernels::activation::Activation;

/// A whole model: identity, shapes, the op list and both layout tables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelPlan {
    /// CamelCase type prefix (`ConformerLightHrf`).
    pub name: &'static str,
    /// snake_case module name (`conformer_light_hrf`).
    pub module: &'static str,
    /// Hex digest of the span-free model IR: equal for the YAML and `model!` forms of one model,
    /// different as soon as any shape, kind or option differs. Checkpoints and weight files
    /// record it.
    pub spec_hash: &'static str,
    /// Log-Mel bins per input frame.
    pub features: usize,
    /// Longest input accepted, in frames.
    pub max_frames: usize,
    /// Named dims after evaluation, in spec order.
    pub dims: &'static [(&'static str, i64)],
    /// Class names, in logit order.
    pub classes: &'static [&'static str],
    /// Dropout probability used in training mode (residual branches and attention output).
    pub dropout: f32,
    /// Every op from features to logits, in execution order.
    pub ops: &'static [PlanOp],
    /// The training model's parameters and buffers (HRF layers present, Q/K/V separate).
    pub train: TablePlan,
    /// The deployed model's parameters and buffers (all folds applied).
    pub folded: TablePlan,
}

/// One layout table: the params arena and the buffers arena, each a list of named slots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TablePlan {
    pub params: &'static [SlotPlan],
    pub buffers: &'static [SlotPlan],
}

/// One tensor in an arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotPlan {
    /// Dotted name (`encoder.0.attn.q.weight`).
    pub name: &'static str,
    /// Row-major shape: linear `(out, in)`, conv `(out, in, kernel)`, depthwise `(channels, kernel)`.
    pub shape: &'static [usize],
    /// Offset (in `f32`s) in its arena.
    pub offset: usize,
}

impl SlotPlan {
    /// Number of values.
    pub const fn len(&self) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < self.shape.len() {
            n *= self.shape[i];
            i += 1;
        }
        n
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot's range in its arena.
    pub const fn range(&self) -> core::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// Total length of a slot list, usable in `const` items (array lengths of generated types).
pub const fn slots_len(slots: &[SlotPlan]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < slots.len() {
        n += slots[i].len();
        i += 1;
    }
    n
}

impl TablePlan {
    /// The param slot called `name`.
    pub fn param(&self, name: &str) -> Option<&'static SlotPlan> {
        self.params.iter().find(|s| s.name == name)
    }

    /// The buffer slot called `name`.
    pub fn buffer(&self, name: &str) -> Option<&'static SlotPlan> {
        self.buffers.iter().find(|s| s.name == name)
    }

    /// Length of the params arena in `f32`s.
    pub const fn params_len(&self) -> usize {
        slots_len(self.params)
    }

    /// Length of the buffers arena in `f32`s.
    pub const fn buffers_len(&self) -> usize {
        slots_len(self.buffers)
    }
}

/// One op of the model, mirroring the compiler's `ir::Op`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlanOp {
    /// CMVN `(x − mean) / std` per feature; buffers `{name}.mean`, `{name}.std` (train table).
    FeatureNorm {
        name: &'static str,
        features: usize,
    },
    /// Conv1d (padding `kernel / 2`, params `{name}.weight` `(out, in, k)`, `{name}.bias`)
    /// followed by ReLU.
    ConvSubsample(ConvPlan),
    /// Adds sinusoidal positions (interleaved sin/cos) to `(frames, width)`.
    Positions {
        width: usize,
    },
    Block(BlockPlan),
    /// SpeechFormer merge: average-pool by `factor` (last window partial), LayerNorm, Linear.
    Merge(MergePlan),
    /// LayerNorm over `width` (`{name}.gamma`, `{name}.beta`).
    FinalNorm {
        name: &'static str,
        width: usize,
    },
    /// Masked mean over valid frames: `(frames, width)` → `(width)`.
    Pool {
        width: usize,
    },
    /// Linear `width → classes` (`{name}.weight`, `{name}.bias`).
    Classifier {
        name: &'static str,
        width: usize,
        classes: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    /// `frontend.conv.0`
    pub name: &'static str,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvPlan {
    /// Output length for `n` input frames: ⌊(n + 2p − k) / s⌋ + 1, or 0 when the padded input
    /// is shorter than the kernel (or empty), as the conv kernel computes it.
    pub fn out_len(&self, n: usize) -> usize {
        if n == 0 || n + 2 * self.padding < self.kernel {
            return 0;
        }
        (n + 2 * self.padding - self.kernel) / self.stride + 1
    }
}

/// Which block family; only informational (the sublayer list says what runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKindPlan {
    ConvTransformer,
    Conformer,
    SpeechFormer,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockPlan {
    /// `encoder.2`
    pub name: &'static str,
    pub kind: BlockKindPlan,
    pub width: usize,
    /// Residual sublayers in order: `x += scale · f(LN x)`.
    pub sublayers: &'static [SublayerPlan],
    /// Conformer: a LayerNorm closes the block (`{name}.norm`).
    pub final_norm: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SublayerPlan {
    /// `encoder.2.ffn1`; its pre-LN is `{name}.norm`.
    pub name: &'static str,
    /// ½ for the Conformer's macaron FFNs, 1 otherwise.
    pub residual_scale: f32,
    pub kind: SublayerKindPlan,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SublayerKindPlan {
    /// `{name}.hrf.{i}` (train only), `{name}.w1`, `{name}.w2`.
    Ffn(FfnPlan),
    /// Train: `{name}.q`, `.k`, `.v`, `.proj`; folded: `{name}.qkv` (1/√head_dim pre-applied), `.proj`.
    Attention(AttentionPlan),
    /// Conformer conv module: `{name}.pw1` d→2d, GLU, `{name}.dw` depthwise k, `{name}.bn`
    /// BatchNorm (train only; folded into `dw`, which then has a bias), Swish, `{name}.pw2` d→d.
    ConvModule { width: usize, kernel: usize },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FfnPlan {
    pub width: usize,
    pub hidden: usize,
    pub act: Activation,
    pub hrf: Option<HrfPlan>,
}

/// HRF chain `d → m → … → m` (`depth` linear layers, `m = expand · d`) before the FFN's W1.
///
/// `init`, `decay` and `lr_scale` are training-only variants (README, "HRF variants"); the
/// folded model does not depend on them. Mirrors the compiler's `ir::HrfIr`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HrfPlan {
    pub expand: usize,
    pub depth: usize,
    pub bias: bool,
    /// m = expand · width.
    pub inner: usize,
    pub init: HrfInit,
    pub decay: HrfDecay,
    /// The chain's (H_1…H_k, W1', weights and biases) learning rate relative to the rest.
    pub lr_scale: f32,
}

/// How an HRF chain and its W1' are initialised (`hrf: { init: … }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HrfInit {
    /// Every factor drawn like any linear layer.
    Default,
    /// `H_1 = [I; 0]`, inner `H_j = I` (plus 1e-3-scaled noise), `W1' = [W1, noise]`.
    Identity,
    /// Balanced factors (`L_{j+1}ᵀL_{j+1} = L_j L_jᵀ`) whose product is a standard W1 draw.
    Balanced,
}

/// Where weight decay acts on an HRF chain (`hrf: { decay: … }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HrfDecay {
    /// AdamW's decoupled decay on each factor.
    Factors,
    /// An L2 penalty `λ/2·‖W1'·H_k·…·H_1‖²` on the merged matrix, no decoupled decay on the
    /// chain's factors.
    Merged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionPlan {
    pub width: usize,
    pub heads: usize,
    pub head_dim: usize,
    /// Local window: query `i` sees keys with `|i − j| ≤ window / 2`; `None` = global.
    pub window: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergePlan {
    /// `merge.0`; params `{name}.norm.*`, `{name}.proj.*`.
    pub name: &'static str,
    pub factor: usize,
    pub in_width: usize,
    pub out_width: usize,
}

impl ModelPlan {
    /// The index in `ops` of the block whose closing norm folds into the classifier (through
    /// the mean pooling): the last block, when no `FinalNorm` follows the blocks. Every other
    /// closing norm feeds a next LayerNorm and stays. The folds, the executor and the ONNX
    /// lowering all ask this (the compiler's layout states the same rule for its tables).
    pub fn closing_norm_block(&self) -> Option<usize> {
        let last = self
            .ops
            .iter()
            .rposition(|op| matches!(op, PlanOp::Block(_)))?;
        let final_norm = self
            .ops
            .iter()
            .any(|op| matches!(op, PlanOp::FinalNorm { .. }));
        (!final_norm).then_some(last)
    }

    /// Sequence length after the frontend convs and merges for `n` input frames.
    pub fn frames_after(&self, n: usize, ops: usize) -> usize {
        self.ops[..ops.min(self.ops.len())]
            .iter()
            .fold(n, |n, op| match op {
                PlanOp::ConvSubsample(c) => c.out_len(n),
                PlanOp::Merge(m) => n.div_ceil(m.factor),
                _ => n,
            })
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
}
