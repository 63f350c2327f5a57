//! Folded inference, working memory: how many `f32`s of scratch a plan needs at `max_frames`
//! (a `const fn`, so generated `<Name>Scratch` types are plain arrays), and its split into the
//! executor's named buffers.

use super::gemm::padded;
use crate::plan::{ModelPlan, PlanOp, SublayerKindPlan};

/// Lengths (in `f32`s) of the executor's buffers, each the maximum over the whole op list at
/// `max_frames`. Every activation is channel-major `(channels, tp)` with `tp = padded(frames)`
/// (see `gemm::TIME_ALIGN`). The scratch slice is cut into them in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScratchLayout {
    /// Two ping-pong activation buffers `(width, tp)` each: the residual stream and the
    /// frontend / merge outputs.
    pub act: usize,
    /// `(c_in·k, tp_out)` — im2col rows of the frontend convs.
    pub cols: usize,
    /// `(d, tp)` — a sublayer's normalised input (later the depthwise conv's output).
    pub norm: usize,
    /// `(max(hidden, 3·d, 2·d), tp)` — FFN hidden, packed `qkv`, or the conv module's `pw1`.
    pub hidden: usize,
    /// `(d, tp)` — attention context / GLU output.
    pub context: usize,
    /// `(frames, tp)` — one head's transposed attention probabilities.
    pub probs: usize,
    /// `(max(2·tp, widths, classes))` — per-frame statistics, an activation row, the pooled
    /// vector.
    pub row: usize,
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// `⌊(n + 2p − k)/s⌋ + 1`, 0 when `n = 0` or the padded input is shorter than the kernel (as
/// `Conv1dDims::out_len`).
pub(crate) const fn conv_out_len(n: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    if n == 0 || n + 2 * padding < kernel {
        0
    } else {
        (n + 2 * padding - kernel) / stride + 1
    }
}

impl ScratchLayout {
    /// Walks `plan.ops` at `max_frames` (while loops: usable in `const` items).
    pub(crate) const fn of(plan: &ModelPlan) -> Self {
        let mut frames = plan.max_frames;
        let mut tp = padded(frames);
        let mut s = ScratchLayout {
            act: plan.features * tp,
            cols: 0,
            norm: 0,
            hidden: 0,
            context: 0,
            probs: 0,
            row: max(2 * tp, plan.features),
        };
        let mut i = 0;
        while i < plan.ops.len() {
            match &plan.ops[i] {
                PlanOp::FeatureNorm { .. } | PlanOp::Positions { .. } => {}
                PlanOp::ConvSubsample(c) => {
                    frames = conv_out_len(frames, c.kernel, c.stride, c.padding);
                    tp = padded(frames);
                    s.act = max(s.act, tp * c.out_channels);
                    s.cols = max(s.cols, tp * c.in_channels * c.kernel);
                    s.row = max(s.row, max(2 * tp, c.out_channels));
                }
                PlanOp::Block(b) => {
                    let d = b.width;
                    s.act = max(s.act, tp * d);
                    s.norm = max(s.norm, tp * d);
                    s.context = max(s.context, tp * d);
                    s.row = max(s.row, d);
                    let mut j = 0;
                    while j < b.sublayers.len() {
                        match &b.sublayers[j].kind {
                            SublayerKindPlan::Ffn(f) => {
                                s.hidden = max(s.hidden, tp * f.hidden);
                            }
                            SublayerKindPlan::Attention(a) => {
                                s.hidden = max(s.hidden, tp * 3 * a.width);
                                s.probs = max(s.probs, frames * tp);
                            }
                            SublayerKindPlan::ConvModule { width, .. } => {
                                s.hidden = max(s.hidden, tp * 2 * *width);
                                s.norm = max(s.norm, tp * *width);
                                s.context = max(s.context, tp * *width);
                            }
                        }
                        j += 1;
                    }
                }
                PlanOp::Merge(m) => {
                    frames = frames.div_ceil(m.factor);
                    tp = padded(frames);
                    s.act = max(s.act, tp * max(m.in_width, m.out_width));
                    s.row = max(s.row, max(m.in_width, m.out_width));
                }
                PlanOp::FinalNorm { width, .. } | PlanOp::Pool { width } => {
                    s.row = max(s.row, *width);
                }
                PlanOp::Classifier { width, classes, .. } => {
                    s.row = max(s.row, max(*width, *classes));
                }
            }
            i += 1;
        }
        s
    }

    /// Total `f32`s.
    pub(crate) const fn total(&self) -> usize {
        2 * self.act + self.cols + self.norm + self.hidden + self.context + self.probs + self.row
    }
}

/// `f32`s of working memory [`super::predict_folded`] needs for any input up to
/// `plan.max_frames` frames. A `const fn` (generated code sizes `<Name>Scratch` with it).
pub const fn scratch_len(plan: &ModelPlan) -> usize {
    ScratchLayout::of(plan).total()
}

/// The scratch slice cut into the buffers of a [`ScratchLayout`].
pub(crate) struct ScratchBuffers<'a> {
    pub act_a: &'a mut [f32],
    pub act_b: &'a mut [f32],
    pub cols: &'a mut [f32],
    pub norm: &'a mut [f32],
    pub hidden: &'a mut [f32],
    pub context: &'a mut [f32],
    pub probs: &'a mut [f32],
    pub row: &'a mut [f32],
}

impl<'a> ScratchBuffers<'a> {
    /// Cuts `scratch` (at least `layout.total()` long, checked by the caller).
    pub(crate) fn split(scratch: &'a mut [f32], layout: &ScratchLayout) -> Self {
        let (act_a, rest) = scratch.split_at_mut(layout.act);
        let (act_b, rest) = rest.split_at_mut(layout.act);
        let (cols, rest) = rest.split_at_mut(layout.cols);
        let (norm, rest) = rest.split_at_mut(layout.norm);
        let (hidden, rest) = rest.split_at_mut(layout.hidden);
        let (context, rest) = rest.split_at_mut(layout.context);
        let (probs, rest) = rest.split_at_mut(layout.probs);
        let row = &mut rest[..layout.row];
        ScratchBuffers {
            act_a,
            act_b,
            cols,
            norm,
            hidden,
            context,
            probs,
            row,
        }
    }
}
