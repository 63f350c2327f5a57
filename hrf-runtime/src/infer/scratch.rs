//! Folded inference, working memory: how many `f32`s of scratch a plan needs at `max_frames`
//! (a `const fn`, so generated `<Name>Scratch` types are plain arrays), and its split into the
//! executor's named buffers.

use crate::plan::{ModelPlan, PlanOp, SublayerKindPlan};

/// Lengths (in `f32`s) of the executor's buffers, each the maximum over the whole op list at
/// `max_frames`. The scratch slice is cut into them in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScratchLayout {
    /// Two ping-pong activation buffers `(frames, width)` each: the residual stream and the
    /// frontend / merge outputs.
    pub act: usize,
    /// `(t_out, c_in·k)` — im2col rows of the frontend convs.
    pub cols: usize,
    /// `(frames, d)` — a sublayer's normalised input (later the depthwise conv's output).
    pub norm: usize,
    /// `(frames, max(hidden, 3·d, 2·d))` — FFN hidden, packed `qkv`, or the conv module's `pw1`.
    pub hidden: usize,
    /// `(frames, d)` — attention context / GLU output.
    pub context: usize,
    /// `(heads, frames, frames)` — attention probabilities.
    pub probs: usize,
    /// One row of the widest layer: the activation's input copy, the pooled vector.
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
        let mut s = ScratchLayout {
            act: plan.features * plan.max_frames,
            cols: 0,
            norm: 0,
            hidden: 0,
            context: 0,
            probs: 0,
            row: plan.features,
        };
        let mut frames = plan.max_frames;
        let mut i = 0;
        while i < plan.ops.len() {
            match &plan.ops[i] {
                PlanOp::FeatureNorm { .. } | PlanOp::Positions { .. } => {}
                PlanOp::ConvSubsample(c) => {
                    frames = conv_out_len(frames, c.kernel, c.stride, c.padding);
                    s.act = max(s.act, frames * c.out_channels);
                    s.cols = max(s.cols, frames * c.in_channels * c.kernel);
                    s.row = max(s.row, c.out_channels);
                }
                PlanOp::Block(b) => {
                    let d = b.width;
                    s.act = max(s.act, frames * d);
                    s.norm = max(s.norm, frames * d);
                    s.context = max(s.context, frames * d);
                    s.row = max(s.row, d);
                    let mut j = 0;
                    while j < b.sublayers.len() {
                        match &b.sublayers[j].kind {
                            SublayerKindPlan::Ffn(f) => {
                                s.hidden = max(s.hidden, frames * f.hidden);
                                s.row = max(s.row, f.hidden);
                            }
                            SublayerKindPlan::Attention(a) => {
                                s.hidden = max(s.hidden, frames * 3 * a.width);
                                s.probs = max(s.probs, a.heads * frames * frames);
                            }
                            SublayerKindPlan::ConvModule { width, .. } => {
                                s.hidden = max(s.hidden, frames * 2 * *width);
                                s.norm = max(s.norm, frames * *width);
                                s.context = max(s.context, frames * *width);
                            }
                        }
                        j += 1;
                    }
                }
                PlanOp::Merge(m) => {
                    frames = frames.div_ceil(m.factor);
                    s.act = max(s.act, frames * max(m.in_width, m.out_width));
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
