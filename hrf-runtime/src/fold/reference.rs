//! Deploy-time folds, tests only: plain-loop f32 reference layers that compute a model's outputs
//! before and after a fold, independently of the optimised kernels.

use std::vec;
use std::vec::Vec;

use crate::testing::Rng;

/// Relative tolerance of every fold test: `max |after − before| ≤ FOLD_REL_TOL · max |before|`
/// over an output buffer (relative to the output's scale, so entries that cancel to ~0 do not
/// turn f32 rounding into a huge relative error).
pub const FOLD_REL_TOL: f32 = 1e-5;

/// `n` f32 values uniform in `[-scale, scale)`.
pub fn rand_vec(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
    rng.vec(n, scale).into_iter().map(|x| x as f32).collect()
}

/// `n` f32 values with magnitude in `[lo, hi)` and a random sign: scales far from 1 and from 0.
pub fn rand_scales(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let mag = lo + (hi - lo) * (rng.uniform() * 0.5 + 0.5);
            (if rng.uniform() < 0.0 { -mag } else { mag }) as f32
        })
        .collect()
}

/// `y = x·Wᵀ + b`: `x: (rows, inp)`, `w: (out, inp)`, `b: (out)` → `(rows, out)`, f32 sums.
pub fn linear(x: &[f32], w: &[f32], b: Option<&[f32]>, out: usize, inp: usize) -> Vec<f32> {
    let rows = x.len() / inp;
    let mut y = vec![0.0f32; rows * out];
    for r in 0..rows {
        for o in 0..out {
            let mut acc = b.map_or(0.0, |b| b[o]);
            for i in 0..inp {
                acc += x[r * inp + i] * w[o * inp + i];
            }
            y[r * out + o] = acc;
        }
    }
    y
}

/// Layer norm over the last axis of `x: (rows, dim)`: `γ·(x − μ)/√(σ² + eps) + β`.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> Vec<f32> {
    let dim = gamma.len();
    let mut y = vec![0.0f32; x.len()];
    for (row, out) in x.chunks_exact(dim).zip(y.chunks_exact_mut(dim)) {
        let mean = row.iter().sum::<f32>() / dim as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / dim as f32;
        let rstd = 1.0 / (var + eps).sqrt();
        for i in 0..dim {
            out[i] = gamma[i] * (row[i] - mean) * rstd + beta[i];
        }
    }
    y
}

/// Conv geometry for [`conv1d`]; `groups` is 1 (standard) or `c_in` (depthwise).
#[derive(Clone, Copy, Debug)]
pub struct ConvGeom {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub groups: usize,
}

impl ConvGeom {
    pub fn out_len(&self, len: usize) -> usize {
        let padded = len + 2 * self.padding;
        if len == 0 || padded < self.kernel {
            0
        } else {
            (padded - self.kernel) / self.stride + 1
        }
    }
}

/// `out[o][co] = b[co] + Σ_ci Σ_kk W[co][ci][kk] · x[o·s − p + kk][g(co)·c_in/groups + ci]`,
/// frames outside `0..len` read as zero (the conv1d kernel's contract).
/// `x: (≥ len, c_in)`, `w: (c_out, c_in/groups, k)` → `(out_len(len), c_out)`.
pub fn conv1d(x: &[f32], len: usize, w: &[f32], b: Option<&[f32]>, g: ConvGeom) -> Vec<f32> {
    let per_group_in = g.c_in / g.groups;
    let per_group_out = g.c_out / g.groups;
    let n_out = g.out_len(len);
    let mut y = vec![0.0f32; n_out * g.c_out];
    for o in 0..n_out {
        for co in 0..g.c_out {
            let group = co / per_group_out;
            let mut acc = b.map_or(0.0, |b| b[co]);
            for ci in 0..per_group_in {
                for kk in 0..g.kernel {
                    let Some(r) = (o * g.stride + kk).checked_sub(g.padding) else {
                        continue;
                    };
                    if r >= len {
                        continue;
                    }
                    let xi = x[r * g.c_in + group * per_group_in + ci];
                    acc += w[(co * per_group_in + ci) * g.kernel + kk] * xi;
                }
            }
            y[o * g.c_out + co] = acc;
        }
    }
    y
}

/// Asserts `max |after − before| ≤ FOLD_REL_TOL · max |before|`, naming `what`.
pub fn assert_outputs_match(what: &str, before: &[f32], after: &[f32]) {
    assert_eq!(before.len(), after.len(), "{what}: output lengths");
    let scale = before.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        scale > 0.0,
        "{what}: all-zero reference output proves nothing"
    );
    let (worst, at) = before
        .iter()
        .zip(after)
        .map(|(b, a)| (a - b).abs())
        .enumerate()
        .fold(
            (0.0f32, 0),
            |(m, mi), (i, d)| if d > m { (d, i) } else { (m, mi) },
        );
    assert!(
        worst <= FOLD_REL_TOL * scale,
        "{what}: |after − before| = {worst:e} at {at} (before {}, after {}) exceeds {FOLD_REL_TOL:e} · {scale}",
        before[at],
        after[at]
    );
}

/// Asserts the outputs differ by more than the fold tolerance (a control showing a test's
/// comparison is sensitive to the effect it claims to handle).
pub fn assert_outputs_differ(what: &str, before: &[f32], after: &[f32]) {
    let scale = before.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = before
        .iter()
        .zip(after)
        .fold(0.0f32, |m, (b, a)| m.max((a - b).abs()));
    assert!(
        worst > 100.0 * FOLD_REL_TOL * scale,
        "{what}: expected a visible difference, got {worst:e}"
    );
}
