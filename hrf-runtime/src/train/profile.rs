//! Optional per-kernel-group timing of the training step (for `benches/train_step.rs`): wall
//! time of each layer kind's forward and backward, accumulated over steps.

use std::time::Instant;

/// The groups a step's time is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Input,
    FrontendConv,
    LayerNormResidual,
    Ffn,
    Attention,
    ConvModule,
    Merge,
    Head,
}

const PARTS: [(Part, &str); 8] = [
    (Part::Input, "batch packing + CMVN + positions"),
    (Part::FrontendConv, "frontend conv (im2col + GEMM + ReLU)"),
    (Part::LayerNormResidual, "pre-LN + dropout + residual"),
    (Part::Ffn, "FFN branch (HRF + W1 + act + W2)"),
    (Part::Attention, "attention branch (QKV + core + proj)"),
    (Part::ConvModule, "conv module (pw1 GLU dw BN swish pw2)"),
    (Part::Merge, "merge (pool + LN + linear)"),
    (Part::Head, "final LN + pool + classifier + CE"),
];

/// Accumulated forward and backward seconds per group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepProfile {
    forward: [f64; 8],
    backward: [f64; 8],
}

impl StepProfile {
    pub(crate) fn add(&mut self, part: Part, backward: bool, since: Instant) {
        let i = PARTS.iter().position(|(p, _)| *p == part).unwrap_or(0);
        let t = since.elapsed().as_secs_f64();
        if backward {
            self.backward[i] += t;
        } else {
            self.forward[i] += t;
        }
    }

    /// `(group, forward seconds, backward seconds)` for every group with time recorded.
    pub fn rows(&self) -> impl Iterator<Item = (&'static str, f64, f64)> + '_ {
        PARTS
            .iter()
            .enumerate()
            .map(|(i, (_, name))| (*name, self.forward[i], self.backward[i]))
            .filter(|(_, f, b)| *f + *b > 0.0)
    }

    /// Forgets all recorded time.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}
