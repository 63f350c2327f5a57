//! Stage 4 (layout): one table of every parameter, buffer and activation (dotted name, shape,
//! offset) for the training model and for the folded model; parameter counts and FLOPs are
//! derived from these tables.

mod tables;

use crate::ir::{ModelIr, Op, SublayerKind};

/// Input frames per second of audio (10 ms hop).
pub const FRAMES_PER_SECOND: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// Learned (train) or deployed (folded) weights: saved in checkpoints.
    Param,
    /// Not learned but stored: CMVN statistics, BatchNorm running statistics.
    Buffer,
    /// Per-utterance working memory, sized at `max_frames`.
    Activation,
}

/// How a sequence length is derived from the input length: each stage refers to an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The input frames, `n`.
    Input,
    /// Conv1d output: ⌊(len(prev) + 2p − k) / s⌋ + 1.
    Conv {
        prev: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    /// Merge pooling: ⌈len(prev) / factor⌉.
    Merge { prev: usize, factor: usize },
    /// Once per utterance (after pooling).
    Utterance,
}

/// What a slot costs when the model runs (2 FLOPs per multiply-add).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    None,
    /// A weight applied at every frame of `stage`: `macs` multiply-adds per frame.
    PerFrame {
        stage: usize,
        macs: usize,
    },
    /// Attention scores at `stage`: QKᵀ and AV each cost `head_dim` multiply-adds per score
    /// (per head); `window` clips the keys each query sees.
    Attention {
        stage: usize,
        heads: usize,
        head_dim: usize,
        window: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// Dotted name (`encoder.2.ffn1.hrf.0.weight`), used for checkpoints and codegen fields.
    pub name: String,
    /// Row-major shape; linear weights are `(out, in)`, convs `(out, in, kernel)`, depthwise
    /// convs `(channels, kernel)`; activations are per utterance at `max_frames`.
    pub shape: Vec<usize>,
    /// Offset in its arena (params, buffers and activations are three separate arenas).
    pub offset: usize,
    pub kind: SlotKind,
    pub cost: Cost,
}

impl Slot {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A table of slots plus the sequence-length stages they refer to.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub slots: Vec<Slot>,
    pub stages: Vec<Stage>,
}

impl Layout {
    pub fn params(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.kind == SlotKind::Param)
    }

    pub fn buffers(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.kind == SlotKind::Buffer)
    }

    pub fn activations(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.kind == SlotKind::Activation)
    }

    pub fn get(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    /// Number of `f32` values in the arena of `kind`.
    pub fn arena_len(&self, kind: SlotKind) -> usize {
        self.slots
            .iter()
            .filter(|s| s.kind == kind)
            .map(Slot::len)
            .sum()
    }

    pub fn param_count(&self) -> usize {
        self.arena_len(SlotKind::Param)
    }

    /// Sequence length of `stage` for an input of `n` frames.
    pub fn frames(&self, stage: usize, n: usize) -> usize {
        match self.stages.get(stage) {
            None | Some(Stage::Input) => n,
            Some(Stage::Utterance) => 1,
            Some(&Stage::Conv {
                prev,
                kernel,
                stride,
                padding,
            }) => {
                let m = self.frames(prev, n);
                if m == 0 {
                    0
                } else {
                    (m + 2 * padding).saturating_sub(kernel) / stride + 1
                }
            }
            Some(&Stage::Merge { prev, factor }) => self.frames(prev, n).div_ceil(factor),
        }
    }

    /// Forward FLOPs for one utterance of `n` input frames: 2 per multiply-add of every linear,
    /// conv and attention product (QKᵀ and AV); elementwise ops are not counted.
    pub fn forward_flops(&self, n: usize) -> u64 {
        let mut macs: u64 = 0;
        for slot in &self.slots {
            macs += match slot.cost {
                Cost::None => 0,
                Cost::PerFrame { stage, macs } => (self.frames(stage, n) * macs) as u64,
                Cost::Attention {
                    stage,
                    heads,
                    head_dim,
                    window,
                } => {
                    let t = self.frames(stage, n);
                    let scores = crate::ir::AttentionIr {
                        width: 0,
                        heads,
                        head_dim,
                        window,
                    }
                    .score_count(t);
                    (2 * heads * scores * head_dim) as u64
                }
            };
        }
        2 * macs
    }

    /// Forward FLOPs per second of audio, for an utterance of `n` input frames (attention makes
    /// the cost per second grow with the length, so the length is part of the figure).
    pub fn flops_per_second(&self, n: usize) -> f64 {
        if n == 0 {
            return 0.0;
        }
        self.forward_flops(n) as f64 * FRAMES_PER_SECOND as f64 / n as f64
    }
}

/// Parameter counts, with the definitions `hrf inspect` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamCounts {
    /// Trainable parameters of the training model (HRF chains included).
    pub train: usize,
    /// Trainable parameters after deHRF: each HRF chain merged into its FFN's W1. This is the
    /// plain light model's size; it equals `train` for specs without `hrf`.
    pub folded: usize,
    /// `f32` weights stored by the deployed model, after the extra affine folds (LayerNorm γ/β
    /// into the next linear, BatchNorm into the depthwise conv, CMVN into the first conv, fused
    /// Q/K/V). The LayerNorm/BatchNorm parameters are gone, but folding CMVN into a padded first
    /// conv adds an `edge_bias` (channels × kernel), so a wide first kernel can make this larger
    /// than `folded`.
    pub deployed: usize,
}

impl crate::CheckedModel {
    pub fn param_counts(&self) -> ParamCounts {
        let without_hrf = strip_hrf(&self.ir);
        let folded = tables::table(&without_hrf, false)
            .map(|l| l.param_count())
            .unwrap_or(0);
        ParamCounts {
            train: self.train.param_count(),
            folded,
            deployed: self.folded.param_count(),
        }
    }
}

/// The same model with every HRF chain removed (what deHRF produces, structurally).
pub fn strip_hrf(ir: &ModelIr) -> ModelIr {
    let mut out = ir.clone();
    for op in &mut out.ops {
        if let Op::Block(b) = op {
            for s in &mut b.sublayers {
                if let SublayerKind::Ffn(f) = &mut s.kind {
                    f.hrf = None;
                }
            }
        }
    }
    out
}

/// Builds the training and folded layouts. `Err` names the first tensor too large to address.
pub fn build(ir: &ModelIr) -> Result<(Layout, Layout), String> {
    Ok((tables::table(ir, false)?, tables::table(ir, true)?))
}
