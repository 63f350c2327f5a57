//! Folded inference, the op walk: validates one utterance, then runs `plan.ops` over the folded
//! arena, reading each layer's slots in table order, with every intermediate in the scratch.

use super::InputError;
use super::frame_ops::{
    add_positions, bias_activation, correct_input_edges, depthwise_swish, glu_rows,
    layer_norm_in_place, normalize_into, softmax_columns,
};
use super::gemm::{GemmDims, gemm, gemm_with, padded};
use super::scratch::{ScratchBuffers, ScratchLayout, conv_out_len};
use super::slots::Slots;
use crate::kernels::activation::Activation;
use crate::kernels::merge::merged_len;
use crate::plan::{BlockPlan, ConvPlan, ModelPlan, PlanOp, SublayerKindPlan};

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
    run.buffers.finish()?;
    // Finite inputs and bounded weights can still overflow (an edited file within the load
    // limits): a caller never scores or selects on a non-finite logit.
    match logits.iter().position(|z| !z.is_finite()) {
        Some(class) => Err(InputError::NonFiniteLogit { class }),
        None => Ok(()),
    }
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

/// One call's state: the weight cursors, the scratch buffers, and the current sequence in
/// `bufs.act_a`, channel-major `(width, padded(len))` (or still the caller's raw frames).
struct Run<'w, 's> {
    params: Slots<'w>,
    buffers: Slots<'w>,
    bufs: ScratchBuffers<'s>,
    /// Valid frames of the current sequence.
    len: usize,
    /// Channels of the current sequence.
    width: usize,
    /// The caller's token-major `(n, features)` frames while no op has consumed them.
    raw: Option<&'w [f32]>,
}

/// A linear `W: (out, inp)` on channel-major `x': (inp, tp)` → `y: (out, tp)`:
/// `y ← α·(W·x' + b) + β·y`, then `φ` (ReLU/Swish) fused into the GEMM's stores.
#[allow(clippy::too_many_arguments)]
fn linear_cm(
    y: &mut [f32],
    w: &[f32],
    x: &[f32],
    (out, inp, tp): (usize, usize, usize),
    alpha: f32,
    beta: f32,
    bias: Option<&[f32]>,
    act: Option<Activation>,
) {
    let dims = GemmDims {
        m: out,
        k: inp,
        n: tp,
        rsa: inp,
        csa: 1,
        ldb: tp,
        ldc: tp,
    };
    gemm_with(y, w, x, dims, alpha, beta, bias, act);
}

impl Run<'_, '_> {
    fn tp(&self) -> usize {
        padded(self.len)
    }

    fn ops(&mut self, plan: &ModelPlan, logits: &mut [f32]) -> Result<(), InputError> {
        let closing_norm_block = plan.closing_norm_block();
        for (i, op) in plan.ops.iter().enumerate() {
            match op {
                PlanOp::FeatureNorm { name, features } => {
                    // Kept only when no conv took it; otherwise the first conv reads raw frames.
                    if self.buffers.next_is(name, "mean") {
                        let mean = self.buffers.take(name, "mean", *features)?;
                        let std = self.buffers.take(name, "std", *features)?;
                        self.materialise();
                        let tp = self.tp();
                        for ((row, &m), &s) in
                            self.bufs.act_a.chunks_exact_mut(tp).zip(mean).zip(std)
                        {
                            row.iter_mut().for_each(|v| *v = (*v - m) / s);
                        }
                    }
                }
                PlanOp::ConvSubsample(c) => self.conv(c)?,
                PlanOp::Positions { width } => {
                    self.materialise();
                    let tp = self.tp();
                    add_positions(&mut self.bufs.act_a[..width * tp], tp, self.len);
                }
                PlanOp::Block(b) => {
                    let closing_foldable = Some(i) == closing_norm_block;
                    self.block(b, closing_foldable)?;
                }
                PlanOp::Merge(m) => {
                    self.materialise();
                    let (d_in, d_out) = (m.in_width, m.out_width);
                    let w = self.params.take(m.name, "proj.weight", d_out * d_in)?;
                    let b = self.params.take(m.name, "proj.bias", d_out)?;
                    let (len, tp) = (self.len, self.tp());
                    let out_len = merged_len(len, m.factor);
                    let out_tp = padded(out_len);
                    let pooled = &mut self.bufs.act_b[..d_in * out_tp];
                    // pooled[c][g] = mean of x[c][g·f .. min((g+1)·f, len)]
                    for (y, x) in pooled
                        .chunks_exact_mut(out_tp)
                        .zip(self.bufs.act_a.chunks_exact(tp))
                    {
                        for (g, y) in y.iter_mut().enumerate() {
                            let frames = (g * m.factor).min(len)..((g + 1) * m.factor).min(len);
                            *y = if frames.is_empty() {
                                0.0
                            } else {
                                let n = frames.len() as f32;
                                x[frames].iter().sum::<f32>() / n
                            };
                        }
                    }
                    // The merge's LayerNorm: γ/β are folded into `proj`.
                    layer_norm_in_place(pooled, out_tp, None, self.bufs.row);
                    let y = &mut self.bufs.act_a[..d_out * out_tp];
                    linear_cm(y, w, pooled, (d_out, d_in, out_tp), 1.0, 0.0, Some(b), None);
                    (self.len, self.width) = (out_len, d_out);
                }
                PlanOp::FinalNorm { width, .. } => {
                    // Followed only by pooling and the classifier: γ/β are folded there.
                    self.materialise();
                    let tp = self.tp();
                    layer_norm_in_place(
                        &mut self.bufs.act_a[..width * tp],
                        tp,
                        None,
                        self.bufs.row,
                    );
                }
                PlanOp::Pool { width } => {
                    self.materialise();
                    let (len, tp) = (self.len, self.tp());
                    let inv = 1.0 / len as f32;
                    for (p, x) in self.bufs.row[..*width]
                        .iter_mut()
                        .zip(self.bufs.act_a.chunks_exact(tp))
                    {
                        *p = x[..len].iter().sum::<f32>() * inv;
                    }
                }
                PlanOp::Classifier {
                    name,
                    width,
                    classes,
                } => {
                    let w = self.params.take(name, "weight", classes * width)?;
                    let b = self.params.take(name, "bias", *classes)?;
                    let pooled = &self.bufs.row[..*width];
                    for ((y, w), &b) in logits.iter_mut().zip(w.chunks_exact(*width)).zip(b) {
                        *y = b + w.iter().zip(pooled).map(|(w, x)| w * x).sum::<f32>();
                    }
                }
            }
        }
        Ok(())
    }

    /// Transposes the raw frames into channel-major `act_a` if no op has consumed them yet
    /// (a model whose first op is not a conv).
    fn materialise(&mut self) {
        if let Some(raw) = self.raw.take() {
            let (f, tp) = (self.width, self.tp());
            for (c, row) in self.bufs.act_a[..f * tp].chunks_exact_mut(tp).enumerate() {
                for (t, v) in row.iter_mut().enumerate() {
                    *v = if t < self.len { raw[t * f + c] } else { 0.0 };
                }
            }
        }
    }

    /// Frontend conv + ReLU as one GEMM over im2col columns, from the raw token-major frames
    /// (first conv, CMVN folded in, edge-corrected) or channel-major `act_a`, into `act_a`.
    fn conv(&mut self, c: &ConvPlan) -> Result<(), InputError> {
        let (ci, co, k, s, p) = (c.in_channels, c.out_channels, c.kernel, c.stride, c.padding);
        let weight = self.params.take(c.name, "weight", co * ci * k)?;
        let bias = self.params.take(c.name, "bias", co)?;
        let edge_bias = if self.params.next_is(c.name, "edge_bias") {
            Some(self.params.take(c.name, "edge_bias", co * k)?)
        } else {
            None
        };
        let (len, tp_in) = (self.len, self.tp());
        let out_len = conv_out_len(len, k, s, p);
        let tp = padded(out_len);
        // cols: (ci·k, tp) — cols[ci·k + kk][o] = x[o·s − p + kk][ci], zero outside 0..len.
        let cols = &mut self.bufs.cols[..ci * k * tp];
        let raw = self.raw.take();
        for (r, row) in cols.chunks_exact_mut(tp).enumerate() {
            let (ch, kk) = (r / k, r % k);
            // Output o reads frame o·s + kk − p: inside 0..len for o ∈ [lo, hi).
            let lo = p.saturating_sub(kk).div_ceil(s).min(out_len);
            let hi = if len + p > kk {
                ((len + p - kk - 1) / s + 1).min(out_len)
            } else {
                0
            }
            .max(lo);
            row[..lo].fill(0.0);
            row[hi..].fill(0.0);
            let first = lo * s + kk - p.min(lo * s + kk);
            match raw {
                Some(raw) => {
                    for (o, v) in row[lo..hi].iter_mut().enumerate() {
                        *v = raw[(first + o * s) * ci + ch];
                    }
                }
                None => {
                    let x = &self.bufs.act_a[ch * tp_in..(ch + 1) * tp_in];
                    for (o, v) in row[lo..hi].iter_mut().enumerate() {
                        *v = x[first + o * s];
                    }
                }
            }
        }
        let out = &mut self.bufs.act_b[..co * tp];
        linear_cm(out, weight, cols, (co, ci * k, tp), 1.0, 0.0, None, None);
        if let Some(e) = edge_bias {
            correct_input_edges(out, tp, out_len, e, len, k, s, p);
        }
        bias_activation(out, tp, bias, Activation::Relu, self.bufs.row);
        core::mem::swap(&mut self.bufs.act_a, &mut self.bufs.act_b);
        (self.len, self.width) = (out_len, co);
        Ok(())
    }

    /// One encoder block: residual sublayers `x += s·f(norm(x))`, then the closing LayerNorm.
    fn block(&mut self, b: &BlockPlan, closing_foldable: bool) -> Result<(), InputError> {
        self.materialise();
        let (len, tp, d) = (self.len, self.tp(), b.width);
        let bufs = &mut self.bufs;
        let x = &mut bufs.act_a[..d * tp];
        for sub in b.sublayers {
            let name = sub.name;
            let s = sub.residual_scale;
            let normed = &mut bufs.norm[..d * tp];
            normalize_into(normed, x, tp, bufs.row);
            match &sub.kind {
                SublayerKindPlan::Ffn(f) => {
                    let h = f.hidden;
                    let w1 = self.params.take(name, "w1.weight", h * d)?;
                    let b1 = self.params.take(name, "w1.bias", h)?;
                    let w2 = self.params.take(name, "w2.weight", d * h)?;
                    let b2 = self.params.take(name, "w2.bias", d)?;
                    let hidden = &mut bufs.hidden[..h * tp];
                    if f.act == Activation::Relu {
                        let act = Some(f.act);
                        linear_cm(hidden, w1, normed, (h, d, tp), 1.0, 0.0, Some(b1), act);
                    } else {
                        // Swish / GELU as a separate row pass: measured faster than in the
                        // GEMM's tile epilogue (conformer_light 0.97 vs 1.11 ms).
                        linear_cm(hidden, w1, normed, (h, d, tp), 1.0, 0.0, None, None);
                        bias_activation(hidden, tp, b1, f.act, bufs.row);
                    }
                    linear_cm(x, w2, hidden, (d, h, tp), s, 1.0, Some(b2), None);
                }
                SublayerKindPlan::Attention(a) => {
                    let wqkv = self.params.take(name, "qkv.weight", 3 * d * d)?;
                    let bqkv = self.params.take(name, "qkv.bias", 3 * d)?;
                    let wp = self.params.take(name, "proj.weight", d * d)?;
                    let bp = self.params.take(name, "proj.bias", d)?;
                    // (3·d, tp) — q (pre-scaled by 1/√dₕ), k, v channel rows.
                    let qkv = &mut bufs.hidden[..3 * d * tp];
                    linear_cm(
                        qkv,
                        wqkv,
                        normed,
                        (3 * d, d, tp),
                        1.0,
                        0.0,
                        Some(bqkv),
                        None,
                    );
                    let dh = a.head_dim;
                    let context = &mut bufs.context[..d * tp];
                    let probs = &mut bufs.probs[..len * tp];
                    for head in 0..a.heads {
                        let (q0, k0, v0) = (head * dh, d + head * dh, 2 * d + head * dh);
                        // Sᵀ (keys, queries) = K_hᵀ·Q_h: A(j, c) = K[c][j], B(c, i) = Q[c][i].
                        let scores = GemmDims {
                            m: len,
                            k: dh,
                            n: tp,
                            rsa: 1,
                            csa: tp,
                            ldb: tp,
                            ldc: tp,
                        };
                        gemm(probs, &qkv[k0 * tp..], &qkv[q0 * tp..], scores, 1.0, 0.0);
                        softmax_columns(probs, tp, len, a.window, bufs.row);
                        // O_h (dₕ, queries) = V_h·Pᵀ: A(c, j) = V[c][j], B(j, i) = Pᵀ[j][i].
                        let out = GemmDims {
                            m: dh,
                            k: len,
                            n: tp,
                            rsa: tp,
                            csa: 1,
                            ldb: tp,
                            ldc: tp,
                        };
                        gemm(
                            &mut context[q0 * tp..],
                            &qkv[v0 * tp..],
                            probs,
                            out,
                            1.0,
                            0.0,
                        );
                    }
                    linear_cm(x, wp, context, (d, d, tp), s, 1.0, Some(bp), None);
                }
                SublayerKindPlan::ConvModule { width, kernel } => {
                    let (w, k) = (*width, *kernel);
                    let pw1_w = self.params.take(name, "pw1.weight", 2 * w * d)?;
                    let pw1_b = self.params.take(name, "pw1.bias", 2 * w)?;
                    let dw_w = self.params.take(name, "dw.weight", w * k)?;
                    let dw_b = self.params.take(name, "dw.bias", w)?;
                    let pw2_w = self.params.take(name, "pw2.weight", d * w)?;
                    let pw2_b = self.params.take(name, "pw2.bias", d)?;
                    let pw1 = &mut bufs.hidden[..2 * w * tp];
                    linear_cm(
                        pw1,
                        pw1_w,
                        normed,
                        (2 * w, d, tp),
                        1.0,
                        0.0,
                        Some(pw1_b),
                        None,
                    );
                    let gated = &mut bufs.context[..w * tp];
                    glu_rows(gated, pw1);
                    // Depthwise conv (BatchNorm folded in), "same" padding k/2, then Swish.
                    let dw = &mut bufs.norm[..w * tp];
                    depthwise_swish(dw, gated, tp, len, dw_w, dw_b);
                    linear_cm(x, pw2_w, dw, (d, w, tp), s, 1.0, Some(pw2_b), None);
                }
            }
        }
        if b.final_norm {
            let affine = if closing_foldable {
                None
            } else {
                let gamma = self.params.take(b.name, "norm.gamma", d)?;
                let beta = self.params.take(b.name, "norm.beta", d)?;
                Some((gamma, beta))
            };
            layer_norm_in_place(x, tp, affine, bufs.row);
        }
        self.width = d;
        Ok(())
    }
}
