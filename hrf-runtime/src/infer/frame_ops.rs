//! Folded inference, the steps between GEMMs on channel-major activations: every buffer is
//! `(channels, tp)` row-major, one row per channel, `tp = padded(len)` columns of which the
//! first `len` are frames (the padding columns hold finite junk that never reaches a valid
//! frame: per-frame ops keep columns apart, and the time-mixing ops only read `t < len`).
//! Row-wise loops run along time, so they vectorise; none allocates.

use crate::kernels::activation::{Activation, activation_forward, exp_f32, sigmoid};

/// Runs `body(args…)` compiled for AVX-512 or AVX2+FMA when the CPU has them (the gemm's
/// detection), else as built: one source, vectorised as wide as the machine allows.
macro_rules! simd_dispatch {
    ($body:ident($($arg:ident : $ty:ty),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            unsafe fn avx512($($arg: $ty),*) {
                $body($($arg),*)
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($arg: $ty),*) {
                $body($($arg),*)
            }
            if super::gemm::has_avx512() && super::gemm::has_avx2_fma() {
                // SAFETY: the CPU has the features `avx512` was compiled for.
                return unsafe { avx512($($arg),*) };
            }
            if super::gemm::has_avx2_fma() {
                // SAFETY: as above.
                return unsafe { avx2($($arg),*) };
            }
        }
        $body($($arg),*)
    }};
}
use crate::kernels::layer_norm::LAYER_NORM_EPS;
use crate::kernels::positions::POSITION_BASE;

/// Per-frame mean and `1/√(var + ε)` over the `rows` channels of `x: (rows, tp)`, written to
/// `mean, rstd: (tp)` (two passes over the rows, vectorised along time).
fn column_stats(x: &[f32], tp: usize, mean: &mut [f32], rstd: &mut [f32]) {
    simd_dispatch!(column_stats_body(x: &[f32], tp: usize, mean: &mut [f32], rstd: &mut [f32]))
}

#[inline(always)]
fn column_stats_body(x: &[f32], tp: usize, mean: &mut [f32], rstd: &mut [f32]) {
    let rows = x.len() / tp;
    let inv = 1.0 / rows as f32;
    mean.fill(0.0);
    for row in x.chunks_exact(tp) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m *= inv);
    rstd.fill(0.0);
    for row in x.chunks_exact(tp) {
        for ((s, &v), &m) in rstd.iter_mut().zip(row).zip(mean.iter()) {
            *s += (v - m) * (v - m);
        }
    }
    let eps = LAYER_NORM_EPS as f32;
    rstd.iter_mut()
        .for_each(|s| *s = 1.0 / libm::sqrtf(*s * inv + eps));
}

/// `out[c][t] = (x[c][t] − μ_t)·rstd_t`: a LayerNorm whose γ/β were folded into the next
/// linear. Shapes: `out, x: (channels, tp)`; `stats: (≥ 2·tp)` workspace.
pub(crate) fn normalize_into(out: &mut [f32], x: &[f32], tp: usize, stats: &mut [f32]) {
    let (mean, rstd) = stats[..2 * tp].split_at_mut(tp);
    column_stats(x, tp, mean, rstd);
    for (y, x) in out.chunks_exact_mut(tp).zip(x.chunks_exact(tp)) {
        for (((y, &x), &m), &r) in y.iter_mut().zip(x).zip(mean.iter()).zip(rstd.iter()) {
            *y = (x - m) * r;
        }
    }
}

/// In-place LayerNorm over channels, with the affine when given: `x[c][t] = γ_c·n + β_c`.
/// Shapes: `x: (channels, tp)`, `affine: (γ, β)` each `(channels)`; `stats: (≥ 2·tp)`.
pub(crate) fn layer_norm_in_place(
    x: &mut [f32],
    tp: usize,
    affine: Option<(&[f32], &[f32])>,
    stats: &mut [f32],
) {
    let (mean, rstd) = stats[..2 * tp].split_at_mut(tp);
    column_stats(x, tp, mean, rstd);
    for (c, row) in x.chunks_exact_mut(tp).enumerate() {
        let (g, b) = affine.map_or((1.0, 0.0), |(g, b)| (g[c], b[c]));
        for ((v, &m), &r) in row.iter_mut().zip(mean.iter()).zip(rstd.iter()) {
            *v = (*v - m) * r * g + b;
        }
    }
}

/// `y[c] = φ(y[c] + b_c)` per channel row (the fused epilogue of a GEMM without bias);
/// `tmp: (≥ tp)` holds a row's pre-activation (the activation kernels read and write separate
/// slices). Shapes: `y: (channels, tp)`, `bias: (channels)`.
pub(crate) fn bias_activation(
    y: &mut [f32],
    tp: usize,
    bias: &[f32],
    act: Activation,
    tmp: &mut [f32],
) {
    simd_dispatch!(bias_activation_body(y: &mut [f32], tp: usize, bias: &[f32], act: Activation, tmp: &mut [f32]))
}

#[inline(always)]
fn bias_activation_body(y: &mut [f32], tp: usize, bias: &[f32], act: Activation, tmp: &mut [f32]) {
    let tmp = &mut tmp[..tp];
    for (row, &b) in y.chunks_exact_mut(tp).zip(bias) {
        // ReLU and Swish inline here (vectorised for the dispatched target); GELU through the
        // activation kernel.
        if act == Activation::Relu {
            row.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
        } else if act == Activation::Swish {
            row.iter_mut().for_each(|v| {
                let z = *v + b;
                *v = z * sigmoid(z);
            });
        } else {
            tmp.iter_mut()
                .zip(row.iter())
                .for_each(|(t, &v)| *t = v + b);
            activation_forward(act, row, tmp);
        }
    }
}

/// GLU: `out[c] = a[c]·σ(g[c])` with `pw1 = [a (w rows) | g (w rows)]`. Shapes: `out: (w, tp)`,
/// `pw1: (2w, tp)`.
pub(crate) fn glu_rows(out: &mut [f32], pw1: &[f32]) {
    simd_dispatch!(glu_rows_body(out: &mut [f32], pw1: &[f32]))
}

#[inline(always)]
fn glu_rows_body(out: &mut [f32], pw1: &[f32]) {
    let (a, g) = pw1.split_at(out.len());
    for ((y, &a), &g) in out.iter_mut().zip(a).zip(g) {
        *y = a * sigmoid(g);
    }
}

/// Depthwise conv along time with "same" padding `k/2`, then Swish:
/// `out[c][t] = swish(b_c + Σ_kk W[c][kk]·g[c][t − k/2 + kk])`, frames outside `0..len` read as
/// zero; columns `len..tp` are zeroed. Shapes: `out, g: (w, tp)`, `weight: (w, k)`, `bias: (w)`.
pub(crate) fn depthwise_swish(
    out: &mut [f32],
    g: &[f32],
    tp: usize,
    len: usize,
    weight: &[f32],
    bias: &[f32],
) {
    simd_dispatch!(depthwise_swish_body(out: &mut [f32], g: &[f32], tp: usize, len: usize, weight: &[f32], bias: &[f32]))
}

#[inline(always)]
fn depthwise_swish_body(
    out: &mut [f32],
    g: &[f32],
    tp: usize,
    len: usize,
    weight: &[f32],
    bias: &[f32],
) {
    let k = weight.len() / bias.len();
    let half = k / 2;
    for (((y, x), w), &b) in out
        .chunks_exact_mut(tp)
        .zip(g.chunks_exact(tp))
        .zip(weight.chunks_exact(k))
        .zip(bias)
    {
        let (y, pad) = y.split_at_mut(len);
        pad.fill(0.0);
        y.fill(b);
        for (kk, &wk) in w.iter().enumerate() {
            // Output t reads frame t + kk − half: valid t ∈ [half − kk, len + half − kk).
            let lo = half.saturating_sub(kk);
            let hi = (len + half).saturating_sub(kk).min(len);
            if lo >= hi {
                continue;
            }
            let src = &x[lo + kk - half..hi + kk - half];
            y[lo..hi]
                .iter_mut()
                .zip(src)
                .for_each(|(v, &s)| *v += wk * s);
        }
        y.iter_mut().for_each(|v| *v *= sigmoid(*v));
    }
}

/// `x[j][t] += PE(t, j)` for `t < len`: the interleaved sinusoids of `kernels::positions`
/// (`PE[t, 2i] = sin(t·ωᵢ)`, `PE[t, 2i+1] = cos(t·ωᵢ)`, `ωᵢ = 10000^(−2i/d)`), generated by
/// rotation in f64: `(sin, cos)((t+1)ω) = (s·cos ω + c·sin ω, c·cos ω − s·sin ω)` — three `libm`
/// calls per frequency instead of a table or `2·t·d` calls; within ~1e-14 of the table over
/// thousands of frames. Shapes: `x: (d, tp)`.
pub(crate) fn add_positions(x: &mut [f32], tp: usize, len: usize) {
    let d = x.len() / tp;
    for j in (0..d).step_by(2) {
        let omega = libm::pow(POSITION_BASE, -(j as f64) / d as f64);
        let (sin_w, cos_w) = (libm::sin(omega), libm::cos(omega));
        let (mut s, mut c) = (0.0f64, 1.0f64);
        let (sin_row, rest) = x[j * tp..].split_at_mut(tp);
        let mut cos_row = (j + 1 < d).then(|| &mut rest[..tp]);
        for t in 0..len {
            sin_row[t] += s as f32;
            if let Some(row) = cos_row.as_deref_mut() {
                row[t] += c as f32;
            }
            (s, c) = (s * cos_w + c * sin_w, c * cos_w - s * sin_w);
        }
    }
}

/// Column softmax of transposed scores `sᵀ: (len keys, tp queries)`: for each query column
/// `i`, `P[j][i] = softmax_j(S[j][i])` over the keys it attends (`|i − j| ≤ w/2` with a window;
/// entries outside get `e^{−87.3} ≈ 10⁻³⁸`, i.e. nothing). Branch-free and vectorised along
/// queries; `stats: (≥ 2·tp)` workspace. Padding query columns may end up NaN (a window can
/// leave them no key); they stay in their own columns.
pub(crate) fn softmax_columns(
    s: &mut [f32],
    tp: usize,
    len: usize,
    window: Option<usize>,
    stats: &mut [f32],
) {
    simd_dispatch!(softmax_columns_body(s: &mut [f32], tp: usize, len: usize, window: Option<usize>, stats: &mut [f32]))
}

#[inline(always)]
fn softmax_columns_body(
    s: &mut [f32],
    tp: usize,
    len: usize,
    window: Option<usize>,
    stats: &mut [f32],
) {
    let (max, sum) = stats[..2 * tp].split_at_mut(tp);
    let s = &mut s[..len * tp];
    if let Some(w) = window {
        let half = w / 2;
        for (j, row) in s.chunks_exact_mut(tp).enumerate() {
            // Query i sees key j iff j − half ≤ i ≤ j + half.
            row[..j.saturating_sub(half)].fill(f32::NEG_INFINITY);
            row[(j + half + 1).min(tp)..].fill(f32::NEG_INFINITY);
        }
    }
    max.fill(f32::NEG_INFINITY);
    for row in s.chunks_exact(tp) {
        for (m, &v) in max.iter_mut().zip(row) {
            *m = if v > *m { v } else { *m };
        }
    }
    sum.fill(0.0);
    for row in s.chunks_exact_mut(tp) {
        for ((v, &m), acc) in row.iter_mut().zip(max.iter()).zip(sum.iter_mut()) {
            let e = exp_f32(*v - m);
            *v = e;
            *acc += e;
        }
    }
    for v in sum.iter_mut() {
        *v = 1.0 / *v;
    }
    for row in s.chunks_exact_mut(tp) {
        for (v, &r) in row.iter_mut().zip(sum.iter()) {
            *v *= r;
        }
    }
}

/// The folded first conv's edge correction (see `fold::feature_stats_into_input`): adds
/// `e[co][kk]` for every tap of a valid output that reads outside the `len` input frames.
/// Shapes: `out: (c_out, tp)` channel-major, `edge_bias: (c_out, k)`; `out_len` valid outputs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn correct_input_edges(
    out: &mut [f32],
    tp: usize,
    out_len: usize,
    edge_bias: &[f32],
    len: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) {
    for o in 0..out_len {
        // Output o reads frames o·s − p + kk; only the first ⌈p/s⌉ and the last few can miss.
        let first = o * stride;
        if first >= padding && first + kernel <= len + padding {
            continue;
        }
        for kk in 0..kernel {
            if (first + kk).checked_sub(padding).is_none_or(|r| r >= len) {
                for (row, e) in out.chunks_exact_mut(tp).zip(edge_bias.chunks_exact(kernel)) {
                    row[o] += e[kk];
                }
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::kernels::positions::sinusoidal_table;

    #[test]
    fn positions_by_rotation_match_the_table() {
        for d in [6, 7, 64] {
            let (frames, tp) = (600, 608);
            let mut table = std::vec![0.0f32; frames * d];
            sinusoidal_table(&mut table, d);
            let mut x = std::vec![0.0f32; d * tp];
            add_positions(&mut x, tp, frames);
            for t in 0..frames {
                for j in 0..d {
                    let (a, b) = (x[j * tp + t], table[t * d + j]);
                    assert!((a - b).abs() <= 2e-6, "d {d} t {t} j {j}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn edge_correction_matches_the_fold_library() {
        use crate::kernels::conv1d::Conv1dDims;
        let (c_out, k, s, p) = (3, 5, 2, 2);
        let edge: std::vec::Vec<f32> = (0..c_out * k).map(|i| (i as f32 * 0.7).sin()).collect();
        for len in [1, 2, 5, 9] {
            let dims = Conv1dDims {
                frames: len,
                channels_in: 1,
                channels_out: c_out,
                kernel: k,
                stride: s,
                padding: p,
            };
            let n = dims.out_len(len);
            let mut want = std::vec![0.0f32; n * c_out];
            crate::fold::correct_input_conv_edges(&mut want, &edge, len, dims);
            let tp = 16;
            let mut got = std::vec![0.0f32; c_out * tp];
            correct_input_edges(&mut got, tp, n, &edge, len, k, s, p);
            for o in 0..n {
                for co in 0..c_out {
                    assert_eq!(got[co * tp + o], want[o * c_out + co], "len {len}");
                }
            }
        }
    }

    #[test]
    fn layer_norm_and_softmax_by_hand() {
        // One frame (column 0) with channels [1, 2, 3, 6]: μ = 3, var = 3.5.
        let tp = 16;
        let mut x = std::vec![0.0f32; 4 * tp];
        for (c, v) in [1.0, 2.0, 3.0, 6.0].into_iter().enumerate() {
            x[c * tp] = v;
        }
        let mut stats = std::vec![0.0f32; 2 * tp];
        layer_norm_in_place(&mut x, tp, Some((&[2.0; 4], &[1.0; 4])), &mut stats);
        let rs = 1.0 / (3.5f32 + 1e-5).sqrt();
        for (c, n) in [-2.0f32, -1.0, 0.0, 3.0].into_iter().enumerate() {
            assert!((x[c * tp] - (2.0 * n * rs + 1.0)).abs() < 1e-6);
        }
        // Scores of query 0 against keys [0, ln 2, ln 3] → probabilities [1, 2, 3]/6; with a
        // window of 3, query 0 sees keys 0 and 1 only → [1, 2]/3.
        for (window, want) in [
            (None, [1.0 / 6.0, 2.0 / 6.0, 0.5]),
            (Some(3), [1.0 / 3.0, 2.0 / 3.0, 0.0]),
        ] {
            let mut s = std::vec![0.0f32; 3 * tp];
            for (j, v) in [0.0f32, 2f32.ln(), 3f32.ln()].into_iter().enumerate() {
                s[j * tp] = v;
            }
            softmax_columns(&mut s, tp, 3, window, &mut stats);
            for (j, w) in want.into_iter().enumerate() {
                assert!(
                    (s[j * tp] - w).abs() < 1e-6,
                    "{window:?} key {j}: {}",
                    s[j * tp]
                );
            }
        }
    }

    #[test]
    fn depthwise_swish_reads_zeros_outside_the_utterance() {
        // One channel, k = 3, weights [1, 10, 100], bias 0.5, frames [1, 2] (len 2):
        // y0 = 0.5 + 10·1 + 100·2, y1 = 0.5 + 1·1 + 10·2.
        let tp = 16;
        let mut g = std::vec![7.0f32; tp];
        g[..2].copy_from_slice(&[1.0, 2.0]);
        let mut out = std::vec![f32::NAN; tp];
        depthwise_swish(&mut out, &g, tp, 2, &[1.0, 10.0, 100.0], &[0.5]);
        let swish = |v: f32| v / (1.0 + (-v).exp());
        assert!((out[0] - swish(210.5)).abs() < 1e-3);
        assert!((out[1] - swish(21.5)).abs() < 1e-4);
        assert!(out[2..].iter().all(|&v| v == 0.0));
    }
}
