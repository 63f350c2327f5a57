//! Stage 3 output: `ModelIr`, the checked, fully evaluated model as an explicit list of ops that
//! layout and codegen walk in order. No spans: two front-ends of one model give equal IR.

pub use crate::ast::{Activation, BlockKind, HrfDecay, HrfInit, PoolKind, PositionsKind};

/// The whole model, train-time structure (HRF layers present, Q/K/V separate).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelIr {
    /// CamelCase type prefix (`ConformerLightHrf`).
    pub name: String,
    /// snake_case module name (`conformer_light_hrf`).
    pub module: String,
    /// Log-Mel bins per input frame.
    pub features: usize,
    pub max_frames: usize,
    /// Named dims after evaluation, in spec order.
    pub dims: Vec<(String, i64)>,
    pub classes: Vec<String>,
    pub dropout: f64,
    pub pool: PoolKind,
    /// Every op from features to logits, in execution order.
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// CMVN: `(x − mean) / std` per feature; statistics are buffers folded into the first conv.
    FeatureNorm {
        name: String,
        features: usize,
    },
    /// Conv1d (same padding `kernel / 2`) followed by ReLU.
    ConvSubsample(ConvIr),
    /// Adds sinusoidal positions to `(frames, width)`.
    Positions {
        width: usize,
        frames: usize,
    },
    Block(BlockIr),
    /// SpeechFormer merge: average-pool by `factor` (last window partial), LayerNorm, Linear.
    Merge(MergeIr),
    /// Final LayerNorm over `width`.
    FinalNorm {
        name: String,
        width: usize,
    },
    /// Masked mean over valid frames: `(frames, width)` → `(width)`.
    Pool {
        width: usize,
    },
    Classifier {
        name: String,
        width: usize,
        classes: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConvIr {
    pub name: String,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// Sequence lengths at `max_frames` input.
    pub in_frames: usize,
    pub out_frames: usize,
}

impl ConvIr {
    /// Output length for `n` input frames: ⌊(n + 2p − k) / s⌋ + 1, or 0 when the padded input
    /// is shorter than the kernel (or empty), as the conv kernel computes it.
    pub fn out_len(&self, n: usize) -> usize {
        if n == 0 || n + 2 * self.padding < self.kernel {
            return 0;
        }
        (n + 2 * self.padding - self.kernel) / self.stride + 1
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlockIr {
    /// `encoder.2`
    pub name: String,
    pub kind: BlockKind,
    pub width: usize,
    /// Sequence length at `max_frames` input.
    pub frames: usize,
    /// Residual sublayers in order: `x += scale · f(LN x)`.
    pub sublayers: Vec<SublayerIr>,
    /// Conformer: a LayerNorm closes the block (`encoder.2.norm`).
    pub final_norm: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SublayerIr {
    /// `encoder.2.ffn1`
    pub name: String,
    /// ½ for the Conformer's macaron FFNs, 1 otherwise.
    pub residual_scale: f64,
    pub kind: SublayerKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SublayerKind {
    Ffn(FfnIr),
    Attention(AttentionIr),
    /// Conformer conv module: pointwise d→2d, GLU, depthwise k, BatchNorm, Swish, pointwise d→d.
    ConvModule {
        width: usize,
        kernel: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct FfnIr {
    pub width: usize,
    pub hidden: usize,
    pub act: Activation,
    pub hrf: Option<HrfIr>,
}

/// HRF chain `d → m → … → m` (`depth` linear layers, `m = expand · d`) before the FFN's W1.
#[derive(Clone, PartialEq)]
pub struct HrfIr {
    pub expand: usize,
    pub depth: usize,
    pub bias: bool,
    /// m = expand · width.
    pub inner: usize,
    /// How the chain and W1' are initialised (training only; the folded model is unchanged).
    pub init: HrfInit,
    /// Where weight decay acts: on each factor, or on the merged W1'·H_k·…·H_1.
    pub decay: HrfDecay,
    /// The chain's (H_1…H_k, W1') learning rate relative to the rest, in [0, 100].
    pub lr_scale: f64,
}

impl HrfIr {
    /// Whether every variant key has its default (then the IR reads as it did before they
    /// existed).
    pub fn is_plain_variant(&self) -> bool {
        self.init == HrfInit::Default && self.decay == HrfDecay::Factors && self.lr_scale == 1.0
    }
}

/// Derived-style, but the variant keys appear only when they differ from their defaults: the
/// spec hash is blake3 of the IR's `Debug` text, so specs that do not use `init`, `decay` or
/// `lr_scale` keep the hash (and the checkpoints) they had before those keys existed.
impl core::fmt::Debug for HrfIr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = f.debug_struct("HrfIr");
        s.field("expand", &self.expand)
            .field("depth", &self.depth)
            .field("bias", &self.bias)
            .field("inner", &self.inner);
        if self.init != HrfInit::Default {
            s.field("init", &self.init);
        }
        if self.decay != HrfDecay::Factors {
            s.field("decay", &self.decay);
        }
        if self.lr_scale != 1.0 {
            s.field("lr_scale", &self.lr_scale);
        }
        s.finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttentionIr {
    pub width: usize,
    pub heads: usize,
    pub head_dim: usize,
    /// Local window (frames attended around each query, `|i − j| ≤ window / 2`); `None` = global.
    pub window: Option<usize>,
}

impl AttentionIr {
    /// Keys each of `n` queries attends, summed: n² for global attention, the clipped window
    /// sizes for local attention.
    pub fn score_count(&self, n: usize) -> usize {
        match self.window {
            None => n * n,
            Some(w) => {
                let half = w / 2;
                (0..n)
                    .map(|i| (i + half).min(n - 1) + 1 - i.saturating_sub(half))
                    .sum()
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MergeIr {
    /// `merge.0`
    pub name: String,
    pub factor: usize,
    pub in_width: usize,
    pub out_width: usize,
    pub in_frames: usize,
    pub out_frames: usize,
}

impl ModelIr {
    /// Sequence length after each op for an input of `n` frames, replaying the frontend convs and
    /// merges (⌈n / factor⌉).
    pub fn frames_after_frontend(&self, n: usize) -> usize {
        self.ops.iter().fold(n, |n, op| match op {
            Op::ConvSubsample(c) => c.out_len(n),
            _ => n,
        })
    }
}
