//! Layer normalisation over the feature dim of each frame: the pre-LN of every encoder block.
//!
//! Per row `x` of `dim` features: `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased, as PyTorch),
//! `rstd = 1/√(σ² + eps)`, `x̂ = (x − μ)·rstd`, `y = γ ⊙ x̂ + β`.
//!
//! Layout: `inp`, `out`, `dinp`, `dout`: `(rows, dim)` row-major; `gamma`, `beta`: `(dim)`;
//! saved `mean`, `rstd`: `(rows)`. Rows are independent, so padded frames never affect valid
//! ones (their outputs are whatever their contents give; later frame-mixing ops ignore them).

use crate::real::Real;

/// PyTorch's `nn.LayerNorm` default epsilon.
pub const LAYER_NORM_EPS: f64 = 1e-5;

/// Sizes of a layer norm over `rows` frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormDims {
    /// Frames (rows).
    pub rows: usize,
    /// Features normalised together (the model width `d`).
    pub dim: usize,
    /// Added to the variance before the square root; [`LAYER_NORM_EPS`] unless the spec says
    /// otherwise.
    pub eps: f64,
}

impl LayerNormDims {
    /// `rows × dim` with the default epsilon [`LAYER_NORM_EPS`].
    pub fn new(rows: usize, dim: usize) -> Self {
        Self {
            rows,
            dim,
            eps: LAYER_NORM_EPS,
        }
    }
}

/// Independent partial sums in [`lane_sum`]: enough to fill a vector register, so a row's sum
/// is not one serial chain of dependent adds.
const SUM_LANES: usize = 8;

/// `Σ f(xᵢ)` over [`SUM_LANES`] interleaved partial sums (which the compiler keeps in vector
/// registers), then the partials and the tail.
#[inline(always)]
fn lane_sum<T: Real>(xs: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::ZERO; SUM_LANES];
    let chunks = xs.chunks_exact(SUM_LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a += f(x);
        }
    }
    acc.iter().copied().sum::<T>() + tail.iter().map(|&x| f(x)).sum::<T>()
}

/// `out = γ ⊙ (inp − μ)·rstd + β` per row; writes `out`, and saves `mean` and `rstd` per row.
///
/// Shapes: `out, inp: (rows, dim)`, `mean, rstd: (rows)`, `gamma, beta: (dim)`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward<T: Real>(
    out: &mut [T],
    mean: &mut [T],
    rstd: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    dims: LayerNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || layer_norm_forward_body(out, mean, rstd, inp, gamma, beta, dims),
    )
}

/// [`layer_norm_forward`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_norm_forward_body<T: Real>(
    out: &mut [T],
    mean: &mut [T],
    rstd: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    dims: LayerNormDims,
) {
    let LayerNormDims { rows, dim, eps } = dims;
    debug_assert_eq!(
        inp.len(),
        rows * dim,
        "layer_norm_forward: inp is (rows, dim)"
    );
    debug_assert_eq!(
        out.len(),
        rows * dim,
        "layer_norm_forward: out is (rows, dim)"
    );
    debug_assert!(
        mean.len() == rows && rstd.len() == rows,
        "layer_norm_forward: saved (rows)"
    );
    debug_assert!(
        gamma.len() == dim && beta.len() == dim,
        "layer_norm_forward: γ, β are (dim)"
    );
    let inv_dim = T::ONE / T::from_usize(dim);
    let eps = T::from_f64(eps);
    let rows_iter = out.chunks_exact_mut(dim).zip(inp.chunks_exact(dim));
    for (((y, x), mu_slot), rstd_slot) in rows_iter.zip(mean.iter_mut()).zip(rstd.iter_mut()) {
        // Two passes (mean, then centred variance): stable where E[x²] − μ² is not.
        let mu = lane_sum(x, |v| v) * inv_dim;
        let var = lane_sum(x, |v| (v - mu) * (v - mu)) * inv_dim;
        let rs = T::ONE / (var + eps).sqrt();
        for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
            *y = (x - mu) * rs * g + b;
        }
        *mu_slot = mu;
        *rstd_slot = rs;
    }
}

/// Backward of [`layer_norm_forward`]. Accumulates into `dinp`, `dgamma`, `dbeta`.
///
/// Shapes: `dinp, dout, inp: (rows, dim)`, `dgamma, dbeta, gamma: (dim)`, `mean, rstd: (rows)`
/// as saved by forward.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    mean: &[T],
    rstd: &[T],
    dims: LayerNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || layer_norm_backward_body(dinp, dgamma, dbeta, dout, inp, gamma, mean, rstd, dims),
    )
}

/// [`layer_norm_backward`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_norm_backward_body<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    mean: &[T],
    rstd: &[T],
    dims: LayerNormDims,
) {
    let LayerNormDims { rows, dim, .. } = dims;
    debug_assert!(
        dinp.len() == rows * dim && dout.len() == rows * dim,
        "(rows, dim)"
    );
    debug_assert_eq!(
        inp.len(),
        rows * dim,
        "layer_norm_backward: inp is (rows, dim)"
    );
    debug_assert!(
        dgamma.len() == dim && dbeta.len() == dim && gamma.len() == dim,
        "(dim)"
    );
    debug_assert!(
        mean.len() == rows && rstd.len() == rows,
        "layer_norm_backward: saved (rows)"
    );
    let inv_dim = T::ONE / T::from_usize(dim);
    let rows_iter = dinp
        .chunks_exact_mut(dim)
        .zip(dout.chunks_exact(dim))
        .zip(inp.chunks_exact(dim));
    for (((dx, dy), x), (&mu, &rs)) in rows_iter.zip(mean.iter().zip(rstd)) {
        // With x̂ = (x − μ)·rstd and dx̂ = dy ⊙ γ:
        //   dγ += dy ⊙ x̂,  dβ += dy,
        //   dx += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)).
        // Σdx̂ and Σdx̂·x̂ over SUM_LANES partial sums (see `lane_sum`), then dγ, dβ in a plain
        // element-wise loop.
        let (mut s1, mut s2) = ([T::ZERO; SUM_LANES], [T::ZERO; SUM_LANES]);
        let (dy_chunks, x_chunks) = (dy.chunks_exact(SUM_LANES), x.chunks_exact(SUM_LANES));
        let g_chunks = gamma.chunks_exact(SUM_LANES);
        let tail = (
            dy_chunks.remainder(),
            x_chunks.remainder(),
            g_chunks.remainder(),
        );
        for ((dy, x), g) in dy_chunks.zip(x_chunks).zip(g_chunks) {
            for l in 0..SUM_LANES {
                let dxhat = dy[l] * g[l];
                s1[l] += dxhat;
                s2[l] += dxhat * (x[l] - mu) * rs;
            }
        }
        let (mut sum_dxhat, mut sum_dxhat_xhat) = (T::ZERO, T::ZERO);
        for ((&dy, &x), &g) in tail.0.iter().zip(tail.1).zip(tail.2) {
            sum_dxhat += dy * g;
            sum_dxhat_xhat += dy * g * (x - mu) * rs;
        }
        sum_dxhat += s1.iter().copied().sum::<T>();
        sum_dxhat_xhat += s2.iter().copied().sum::<T>();
        for ((&dy, &x), (dg, db)) in dy
            .iter()
            .zip(x)
            .zip(dgamma.iter_mut().zip(dbeta.iter_mut()))
        {
            *dg += dy * (x - mu) * rs;
            *db += dy;
        }
        let mean_dxhat = sum_dxhat * inv_dim;
        let mean_dxhat_xhat = sum_dxhat_xhat * inv_dim;
        for (((dx, &dy), &x), &g) in dx.iter_mut().zip(dy).zip(x).zip(gamma) {
            let xhat = (x - mu) * rs;
            *dx += rs * (dy * g - mean_dxhat - xhat * mean_dxhat_xhat);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec;
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference checks.
    const LAYER_NORM_GRAD_TOL: f64 = 1e-6;

    const DIMS: LayerNormDims = LayerNormDims {
        rows: 3,
        dim: 13, // one full group of SUM_LANES plus a tail
        eps: LAYER_NORM_EPS,
    };

    fn forward(x: &[f64], g: &[f64], b: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; DIMS.rows * DIMS.dim];
        let (mut mean, mut rstd) = (vec![0.0; DIMS.rows], vec![0.0; DIMS.rows]);
        layer_norm_forward(&mut out, &mut mean, &mut rstd, x, g, b, DIMS);
        out
    }

    #[test]
    fn layer_norm_forward_matches_hand_computed_case() {
        // x = [1, 2, 3, 4]: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25,
        // rstd = 1/√(1.25 + 1e-5); y = 2·x̂ + 1.
        let dims = LayerNormDims::new(1, 4);
        let (mut y, mut mu, mut rs) = ([0.0f64; 4], [0.0f64], [0.0f64]);
        let x = [1.0, 2.0, 3.0, 4.0];
        layer_norm_forward(&mut y, &mut mu, &mut rs, &x, &[2.0; 4], &[1.0; 4], dims);
        let rstd = 1.0 / (1.25f64 + 1e-5).sqrt();
        assert!((mu[0] - 2.5).abs() < 1e-15 && (rs[0] - rstd).abs() < 1e-12);
        for (yi, xi) in y.iter().zip(x) {
            assert!((yi - (2.0 * (xi - 2.5) * rstd + 1.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn layer_norm_saved_statistics_match_naive_two_pass() {
        let mut rng = Rng::new(12);
        let LayerNormDims { rows, dim, eps } = DIMS;
        let x = rng.vec(rows * dim, 3.0);
        let mut out = vec![0.0; rows * dim];
        let (mut mean, mut rstd) = (vec![0.0; rows], vec![0.0; rows]);
        layer_norm_forward(
            &mut out, &mut mean, &mut rstd, &x, &[1.0; 13], &[0.0; 13], DIMS,
        );
        for (r, row) in x.chunks_exact(dim).enumerate() {
            let mu = row.iter().sum::<f64>() / dim as f64;
            let var = row.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / dim as f64;
            assert!(
                (mean[r] - mu).abs() < 1e-14 && (rstd[r] - 1.0 / (var + eps).sqrt()).abs() < 1e-12
            );
        }
    }

    #[test]
    fn layer_norm_backward_matches_finite_differences() {
        let mut rng = Rng::new(11);
        let LayerNormDims { rows, dim, .. } = DIMS;
        let mut x = rng.vec(rows * dim, 2.0);
        let mut g = rng.vec(dim, 1.0);
        let mut b = rng.vec(dim, 1.0);
        let up = rng.vec(rows * dim, 1.0);
        let mut out = vec![0.0; rows * dim];
        let (mut mean, mut rstd) = (vec![0.0; rows], vec![0.0; rows]);
        layer_norm_forward(&mut out, &mut mean, &mut rstd, &x, &g, &b, DIMS);

        let (seed_dx, seed_dg, seed_db) = (
            rng.vec(rows * dim, 1.0),
            rng.vec(dim, 1.0),
            rng.vec(dim, 1.0),
        );
        let (mut dx, mut dg, mut db) = (seed_dx.clone(), seed_dg.clone(), seed_db.clone());
        layer_norm_backward(&mut dx, &mut dg, &mut db, &up, &x, &g, &mean, &rstd, DIMS);
        let sub = |a: &[f64], s: &[f64]| a.iter().zip(s).map(|(a, s)| a - s).collect::<Vec<_>>();
        let (dx, dg, db) = (sub(&dx, &seed_dx), sub(&dg, &seed_dg), sub(&db, &seed_db));

        let (x0, g0, b0) = (x.clone(), g.clone(), b.clone());
        check_gradient("dinp", &mut x, &dx, LAYER_NORM_GRAD_TOL, |x| {
            dot(&up, &forward(x, &g0, &b0))
        });
        check_gradient("dgamma", &mut g, &dg, LAYER_NORM_GRAD_TOL, |g| {
            dot(&up, &forward(&x0, g, &b0))
        });
        check_gradient("dbeta", &mut b, &db, LAYER_NORM_GRAD_TOL, |b| {
            dot(&up, &forward(&x0, &g0, b))
        });
    }
}
