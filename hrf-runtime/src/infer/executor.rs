//! Folded inference, the op walk: validates one utterance, then runs `plan.ops` over the folded
//! arena, reading each layer's slots in table order, with every intermediate in the scratch.

use super::InputError;
use super::frame_ops::{
    add_positions, bias_activation, bias_relu, correct_input_edges, feature_norm_into,
    layer_norm_rows, linear_residual, matmul_wt, normalize_rows, normalize_rows_into,
    swish_in_place,
};
use super::scratch::{ScratchBuffers, ScratchLayout, conv_out_len};
use crate::kernels::attention::{AttentionDims, attention_forward};
use crate::kernels::conv1d::{Conv1dDims, conv1d_forward, depthwise_conv1d_forward};
use crate::kernels::glu::{GluDims, glu_forward};
use crate::kernels::linear::{LinearDims, linear_forward};
use crate::kernels::merge::{MergeDims, merge_forward, merged_len};
use crate::kernels::pooling::{PoolDims, mean_pool_forward};
use crate::plan::{BlockPlan, ConvPlan, ModelPlan, PlanOp, SlotPlan, SublayerKindPlan};

/// Class logits of one utterance through the folded model.
///
/// - `plan`: the model; `weights`: its folded arena (`plan.folded` params, then buffers; a
///   generated `<Name>Folded` viewed with `F32Arena::as_f32s`);
/// - `frames: (n, plan.features)` row-major log-Mel frames (raw: CMVN is folded in);
/// - `scratch`: at least [`super::scratch_len`]`(plan)` `f32`s, contents irrelevant on entry;
/// - `logits: (classes)` — written.
///
/// Allocation-free and panic-free on any input: a bad call returns [`InputError`].
pub fn predict_folded(
    plan: &ModelPlan,
    weights: &[f32],
    frames: &[f32],
    scratch: &mut [f32],
    logits: &mut [f32],
) -> Result<(), InputError> {
    let features = plan.features;
    if frames.is_empty() {
        return Err(InputError::NoFrames);
    }
    if features == 0 || !frames.len().is_multiple_of(features) {
        return Err(InputError::RaggedFrames {
            values: frames.len(),
            features,
        });
    }
    let n = frames.len() / features;
    if n > plan.max_frames {
        return Err(InputError::TooManyFrames {
            frames: n,
            max_frames: plan.max_frames,
        });
    }
    check_finite(frames, features)?;
    let params_len = plan.folded.params_len();
    let expected = params_len + plan.folded.buffers_len();
    if weights.len() != expected {
        return Err(InputError::WeightsLength {
            expected,
            got: weights.len(),
        });
    }
    if logits.len() != plan.classes.len() {
        return Err(InputError::LogitsLength {
            expected: plan.classes.len(),
            got: logits.len(),
        });
    }
    let layout = ScratchLayout::of(plan);
    if scratch.len() < layout.total() {
        return Err(InputError::ScratchTooSmall {
            needed: layout.total(),
            got: scratch.len(),
        });
    }
    if frames_after_frontend(plan, n) == 0 {
        let min_frames = (1..=plan.max_frames)
            .find(|&m| frames_after_frontend(plan, m) > 0)
            .unwrap_or(plan.max_frames + 1);
        return Err(InputError::TooFewFrames {
            frames: n,
            min_frames,
        });
    }
    let mut run = Run {
        params: Slots::new(plan.folded.params, weights, 0),
        buffers: Slots::new(plan.folded.buffers, weights, params_len),
        bufs: ScratchBuffers::split(scratch, &layout),
        len: n,
        width: features,
        raw: Some(frames),
    };
    run.ops(plan, logits)?;
    run.params.finish()?;
    run.buffers.finish()
}

/// `NonFinite` at the first NaN/∞. A branch-free pass (vectorised) first; the position is only
/// searched for when there is one.
fn check_finite(frames: &[f32], features: usize) -> Result<(), InputError> {
    // An f32 is NaN or ±∞ iff its exponent bits are all ones.
    const EXP: u32 = 0x7f80_0000;
    let bad = frames.chunks(64).any(|c| {
        c.iter()
            .fold(false, |acc, v| acc | (v.to_bits() & EXP == EXP))
    });
    match bad
        .then(|| frames.iter().position(|v| !v.is_finite()))
        .flatten()
    {
        Some(i) => Err(InputError::NonFinite {
            frame: i / features,
            feature: i % features,
        }),
        None => Ok(()),
    }
}

/// Frames left after the frontend convs (0: too short to produce any output).
fn frames_after_frontend(plan: &ModelPlan, n: usize) -> usize {
    plan.ops.iter().fold(n, |n, op| match op {
        PlanOp::ConvSubsample(c) => conv_out_len(n, c.kernel, c.stride, c.padding),
        _ => n,
    })
}

/// A cursor over one slot list of the folded table, handing out each slot's values in order
/// after checking its name and length.
struct Slots<'w> {
    slots: &'static [SlotPlan],
    next: usize,
    arena: &'w [f32],
    base: usize,
}

impl<'w> Slots<'w> {
    fn new(slots: &'static [SlotPlan], arena: &'w [f32], base: usize) -> Self {
        Slots {
            slots,
            next: 0,
            arena,
            base,
        }
    }

    /// Whether the next slot is `{layer}.{part}`.
    fn next_is(&self, layer: &str, part: &str) -> bool {
        self.slots.get(self.next).is_some_and(|s| {
            let name = s.name;
            name.len() == layer.len() + 1 + part.len()
                && name.starts_with(layer)
                && name.ends_with(part)
                && name.as_bytes()[layer.len()] == b'.'
        })
    }

    /// The values of the next slot, which must be `{layer}.{part}` with `len` values.
    fn take(
        &mut self,
        layer: &'static str,
        part: &'static str,
        len: usize,
    ) -> Result<&'w [f32], InputError> {
        let mismatch = |found| InputError::WeightsMismatch {
            expected_layer: layer,
            expected_part: part,
            found,
        };
        let slot = self.slots.get(self.next).ok_or(mismatch(""))?;
        if !self.next_is(layer, part) || slot.len() != len {
            return Err(mismatch(slot.name));
        }
        let start = self.base + slot.offset;
        let values = self
            .arena
            .get(start..start + len)
            .ok_or(mismatch(slot.name))?;
        self.next += 1;
        Ok(values)
    }

    /// Every slot was used (otherwise the table has layers the op list does not run).
    fn finish(&self) -> Result<(), InputError> {
        match self.slots.get(self.next) {
            None => Ok(()),
            Some(s) => Err(InputError::WeightsMismatch {
                expected_layer: "(end of the folded table)",
                expected_part: "",
                found: s.name,
            }),
        }
    }
}

/// One call's state: the weight cursors, the scratch buffers, and the current sequence
/// `(len, width)` in `bufs.act_a` (or still the caller's raw frames).
struct Run<'w, 's> {
    params: Slots<'w>,
    buffers: Slots<'w>,
    bufs: ScratchBuffers<'s>,
    /// Valid frames of the current sequence.
    len: usize,
    /// Features per frame of the current sequence.
    width: usize,
    /// The caller's frames while no op has consumed them.
    raw: Option<&'w [f32]>,
}

impl Run<'_, '_> {
    fn ops(&mut self, plan: &ModelPlan, logits: &mut [f32]) -> Result<(), InputError> {
        let last_block = plan
            .ops
            .iter()
            .rposition(|op| matches!(op, PlanOp::Block(_)));
        let has_final_norm = plan
            .ops
            .iter()
            .any(|op| matches!(op, PlanOp::FinalNorm { .. }));
        for (i, op) in plan.ops.iter().enumerate() {
            match op {
                PlanOp::FeatureNorm { name, features } => {
                    // Kept only when no conv took it; otherwise the first conv reads raw frames.
                    if self.buffers.next_is(name, "mean") {
                        let mean = self.buffers.take(name, "mean", *features)?;
                        let std = self.buffers.take(name, "std", *features)?;
                        let raw = self.raw.take().unwrap_or(&[]);
                        let out = &mut self.bufs.act_a[..raw.len()];
                        feature_norm_into(out, raw, mean, std);
                    }
                }
                PlanOp::ConvSubsample(c) => self.conv(c)?,
                PlanOp::Positions { width } => {
                    self.materialise();
                    add_positions(&mut self.bufs.act_a[..self.len * width], *width);
                }
                PlanOp::Block(b) => {
                    let closing_foldable = Some(i) == last_block && !has_final_norm;
                    self.block(b, closing_foldable)?;
                }
                PlanOp::Merge(m) => {
                    self.materialise();
                    let (d_in, d_out) = (m.in_width, m.out_width);
                    let w = self.params.take(m.name, "proj.weight", d_out * d_in)?;
                    let b = self.params.take(m.name, "proj.bias", d_out)?;
                    let out_len = merged_len(self.len, m.factor);
                    let dims = MergeDims {
                        frames: self.len,
                        d: d_in,
                        factor: m.factor,
                    };
                    let pooled = &mut self.bufs.act_b[..out_len * d_in];
                    merge_forward(pooled, &self.bufs.act_a[..self.len * d_in], self.len, dims);
                    // The merge's LayerNorm: γ/β are folded into `proj`.
                    normalize_rows(pooled, d_in);
                    let dims = LinearDims {
                        rows: out_len,
                        in_dim: d_in,
                        out_dim: d_out,
                    };
                    linear_forward(
                        &mut self.bufs.act_a[..out_len * d_out],
                        pooled,
                        w,
                        Some(b),
                        dims,
                    );
                    (self.len, self.width) = (out_len, d_out);
                }
                PlanOp::FinalNorm { width, .. } => {
                    // Followed only by pooling and the classifier: γ/β are folded there.
                    self.materialise();
                    normalize_rows(&mut self.bufs.act_a[..self.len * width], *width);
                }
                PlanOp::Pool { width } => {
                    self.materialise();
                    let dims = PoolDims {
                        frames: self.len,
                        d: *width,
                    };
                    let x = &self.bufs.act_a[..self.len * width];
                    mean_pool_forward(&mut self.bufs.row[..*width], x, self.len, dims);
                }
                PlanOp::Classifier {
                    name,
                    width,
                    classes,
                } => {
                    let w = self.params.take(name, "weight", classes * width)?;
                    let b = self.params.take(name, "bias", *classes)?;
                    let dims = LinearDims {
                        rows: 1,
                        in_dim: *width,
                        out_dim: *classes,
                    };
                    linear_forward(logits, &self.bufs.row[..*width], w, Some(b), dims);
                }
            }
        }
        Ok(())
    }

    /// Copies the raw frames into the activation buffer if no op has done so (a model with
    /// neither CMVN nor a frontend conv).
    fn materialise(&mut self) {
        if let Some(raw) = self.raw.take() {
            self.bufs.act_a[..raw.len()].copy_from_slice(raw);
        }
    }

    /// Frontend conv + ReLU, from the raw frames (first conv, CMVN folded in) or `act_a`, into
    /// `act_a` (through `act_b`).
    fn conv(&mut self, c: &ConvPlan) -> Result<(), InputError> {
        let (ci, co, k) = (c.in_channels, c.out_channels, c.kernel);
        let weight = self.params.take(c.name, "weight", co * ci * k)?;
        let bias = self.params.take(c.name, "bias", co)?;
        let edge_bias = if self.params.next_is(c.name, "edge_bias") {
            Some(self.params.take(c.name, "edge_bias", co * k)?)
        } else {
            None
        };
        let out_len = conv_out_len(self.len, k, c.stride, c.padding);
        let dims = Conv1dDims {
            frames: self.len,
            channels_in: ci,
            channels_out: co,
            kernel: k,
            stride: c.stride,
            padding: c.padding,
        };
        let inp: &[f32] = match self.raw.take() {
            Some(raw) => raw,
            None => &self.bufs.act_a[..self.len * ci],
        };
        let out = &mut self.bufs.act_b[..out_len * co];
        // Bias after the GEMM, fused with the ReLU (and after the edge correction).
        conv1d_forward(out, self.bufs.cols, inp, self.len, weight, None, dims);
        if let Some(e) = edge_bias {
            correct_input_edges(out, e, self.len, k, c.stride, c.padding);
        }
        bias_relu(out, bias);
        core::mem::swap(&mut self.bufs.act_a, &mut self.bufs.act_b);
        (self.len, self.width) = (out_len, co);
        Ok(())
    }

    /// One encoder block: residual sublayers `x += s·f(norm(x))`, then the closing LayerNorm.
    fn block(&mut self, b: &BlockPlan, closing_foldable: bool) -> Result<(), InputError> {
        self.materialise();
        let (t, d) = (self.len, b.width);
        let bufs = &mut self.bufs;
        let x = &mut bufs.act_a[..t * d];
        for sub in b.sublayers {
            let name = sub.name;
            let s = sub.residual_scale;
            let normed = &mut bufs.norm[..t * d];
            normalize_rows_into(normed, x, d);
            match &sub.kind {
                SublayerKindPlan::Ffn(f) => {
                    let h = f.hidden;
                    let w1 = self.params.take(name, "w1.weight", h * d)?;
                    let b1 = self.params.take(name, "w1.bias", h)?;
                    let w2 = self.params.take(name, "w2.weight", d * h)?;
                    let b2 = self.params.take(name, "w2.bias", d)?;
                    let hidden = &mut bufs.hidden[..t * h];
                    matmul_wt(hidden, normed, w1, t, d, h);
                    bias_activation(hidden, b1, f.act, bufs.row);
                    linear_residual(x, hidden, w2, b2, s, t, h, d);
                }
                SublayerKindPlan::Attention(a) => {
                    let wqkv = self.params.take(name, "qkv.weight", 3 * d * d)?;
                    let bqkv = self.params.take(name, "qkv.bias", 3 * d)?;
                    let wp = self.params.take(name, "proj.weight", d * d)?;
                    let bp = self.params.take(name, "proj.bias", d)?;
                    // (t, 3·d) — q (pre-scaled by 1/√dₕ), k, v packed per frame.
                    let qkv = &mut bufs.hidden[..t * 3 * d];
                    let dims = LinearDims {
                        rows: t,
                        in_dim: d,
                        out_dim: 3 * d,
                    };
                    linear_forward(qkv, normed, wqkv, Some(bqkv), dims);
                    let dims = AttentionDims {
                        frames: t,
                        d,
                        heads: a.heads,
                        window: a.window,
                        q_prescaled: true,
                    };
                    let context = &mut bufs.context[..t * d];
                    attention_forward(context, &mut bufs.probs[..dims.probs_len()], qkv, t, dims);
                    linear_residual(x, context, wp, bp, s, t, d, d);
                }
                SublayerKindPlan::ConvModule { width, kernel } => {
                    let (w, k) = (*width, *kernel);
                    let pw1_w = self.params.take(name, "pw1.weight", 2 * w * d)?;
                    let pw1_b = self.params.take(name, "pw1.bias", 2 * w)?;
                    let dw_w = self.params.take(name, "dw.weight", w * k)?;
                    let dw_b = self.params.take(name, "dw.bias", w)?;
                    let pw2_w = self.params.take(name, "pw2.weight", d * w)?;
                    let pw2_b = self.params.take(name, "pw2.bias", d)?;
                    let pw1 = &mut bufs.hidden[..t * 2 * w];
                    let dims = LinearDims {
                        rows: t,
                        in_dim: d,
                        out_dim: 2 * w,
                    };
                    linear_forward(pw1, normed, pw1_w, Some(pw1_b), dims);
                    let gated = &mut bufs.context[..t * w];
                    glu_forward(
                        gated,
                        pw1,
                        GluDims {
                            rows: t,
                            channels: w,
                        },
                    );
                    // Depthwise conv (BatchNorm folded in), "same" padding k/2, then Swish.
                    let dw = &mut bufs.norm[..t * w];
                    let dims = Conv1dDims {
                        frames: t,
                        channels_in: w,
                        channels_out: w,
                        kernel: k,
                        stride: 1,
                        padding: k / 2,
                    };
                    depthwise_conv1d_forward(dw, gated, t, dw_w, Some(dw_b), dims);
                    swish_in_place(dw);
                    linear_residual(x, dw, pw2_w, pw2_b, s, t, w, d);
                }
            }
        }
        if b.final_norm {
            if closing_foldable {
                normalize_rows(x, d);
            } else {
                let gamma = self.params.take(b.name, "norm.gamma", d)?;
                let beta = self.params.take(b.name, "norm.beta", d)?;
                layer_norm_rows(x, gamma, beta);
            }
        }
        self.width = d;
        Ok(())
    }
}
