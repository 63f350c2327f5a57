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
        let mu = x.iter().copied().sum::<T>() * inv_dim;
        let var = x.iter().map(|&v| (v - mu) * (v - mu)).sum::<T>() * inv_dim;
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
        let mut sum_dxhat = T::ZERO;
        let mut sum_dxhat_xhat = T::ZERO;
        for (((&dy, &x), &g), (dg, db)) in dy
            .iter()
            .zip(x)
            .zip(gamma)
            .zip(dgamma.iter_mut().zip(dbeta.iter_mut()))
        {
            let xhat = (x - mu) * rs;
            let dxhat = dy * g;
            sum_dxhat += dxhat;
            sum_dxhat_xhat += dxhat * xhat;
            *dg += dy * xhat;
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
        dim: 5,
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
