//! Linear (fully connected) layer `y = x·Wᵀ + b`: every projection of the encoder and head.
//!
//! Layout (the contract a reference implementation is compared against):
//! - `inp`:    `(rows, in_dim)` row-major, one row per frame;
//! - `weight`: `(out_dim, in_dim)` row-major (PyTorch's `nn.Linear.weight`);
//! - `bias`:   `(out_dim)`, optional;
//! - `out`:    `(rows, out_dim)` row-major.
//!
//! Every product is one call to the engine's [`gemm`] (no allocation, no copies of its own
//! beyond the GEMM's stack-packed panels).

use crate::kernels::gemm::{Op, gemm, gemm_bias};
use crate::real::Real;

/// Sizes of a linear layer applied to `rows` frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearDims {
    /// Frames (rows of `inp` and `out`).
    pub rows: usize,
    /// Input features per row.
    pub in_dim: usize,
    /// Output features per row.
    pub out_dim: usize,
}

/// `out = inp·weightᵀ + bias` (overwrites `out`).
///
/// Shapes: `out: (rows, out_dim)`, `inp: (rows, in_dim)`, `weight: (out_dim, in_dim)`,
/// `bias: (out_dim)`. The bias is added by the GEMM as it stores each tile, so `out` is written
/// once and never read.
pub fn linear_forward<T: Real>(
    out: &mut [T],
    inp: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    dims: LinearDims,
) {
    let LinearDims {
        rows,
        in_dim,
        out_dim,
    } = dims;
    debug_assert_eq!(
        out.len(),
        rows * out_dim,
        "linear_forward: out is (rows, out_dim)"
    );
    debug_assert_eq!(
        inp.len(),
        rows * in_dim,
        "linear_forward: inp is (rows, in_dim)"
    );
    debug_assert_eq!(
        weight.len(),
        out_dim * in_dim,
        "linear_forward: weight is (out, in)"
    );
    debug_assert!(
        bias.is_none_or(|b| b.len() == out_dim),
        "linear_forward: bias is (out_dim)"
    );
    // out (rows×out) = inp (rows×in) · Wᵀ (in×out) + 1·biasᵀ
    gemm_bias(
        out,
        inp,
        Op::N,
        weight,
        Op::T,
        rows,
        in_dim,
        out_dim,
        T::ONE,
        T::ZERO,
        bias,
    );
}

/// Backward of [`linear_forward`]. Accumulates into `dinp`, `dweight`, `dbias`.
///
/// Shapes: `dinp: (rows, in_dim)` (pass `None` when the input needs no gradient, e.g. the first
/// layer), `dweight: (out_dim, in_dim)`, `dbias: (out_dim)` (`None` without a bias),
/// `dout: (rows, out_dim)`, `inp: (rows, in_dim)`, `weight: (out_dim, in_dim)`.
///
/// - `dinp    += dout·W`      (GEMM rows×out · out×in);
/// - `dweight += doutᵀ·inp`   (GEMM out×rows · rows×in);
/// - `dbias   += Σ_rows dout` (a row-sum: memory-bound, so a vectorised loop over contiguous
///   rows rather than a 1-row GEMM `1ᵀ·dout`, which pads to the micro-kernel height: measured
///   ~5× slower at 2400×256 (53 µs loop vs 260 µs `sgemm` with m = 1), against ~3 ms of GEMMs).
#[allow(clippy::too_many_arguments)]
pub fn linear_backward<T: Real>(
    dinp: Option<&mut [T]>,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    dout: &[T],
    inp: &[T],
    weight: &[T],
    dims: LinearDims,
) {
    let LinearDims {
        rows,
        in_dim,
        out_dim,
    } = dims;
    debug_assert_eq!(
        dout.len(),
        rows * out_dim,
        "linear_backward: dout is (rows, out_dim)"
    );
    debug_assert_eq!(
        inp.len(),
        rows * in_dim,
        "linear_backward: inp is (rows, in_dim)"
    );
    debug_assert_eq!(
        weight.len(),
        out_dim * in_dim,
        "linear_backward: weight is (out, in)"
    );
    debug_assert_eq!(
        dweight.len(),
        out_dim * in_dim,
        "linear_backward: dweight is (out, in)"
    );
    if let Some(dinp) = dinp {
        debug_assert_eq!(
            dinp.len(),
            rows * in_dim,
            "linear_backward: dinp is (rows, in_dim)"
        );
        gemm(
            dinp,
            dout,
            Op::N,
            weight,
            Op::N,
            rows,
            out_dim,
            in_dim,
            T::ONE,
            T::ONE,
        );
    }
    gemm(
        dweight,
        dout,
        Op::T,
        inp,
        Op::N,
        out_dim,
        rows,
        in_dim,
        T::ONE,
        T::ONE,
    );
    if let Some(dbias) = dbias {
        debug_assert_eq!(dbias.len(), out_dim, "linear_backward: dbias is (out_dim)");
        for row in dout.chunks_exact(out_dim) {
            for (db, &g) in dbias.iter_mut().zip(row) {
                *db += g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec;
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference checks (the loss is linear in each
    /// argument, so only rounding separates the two).
    const LINEAR_GRAD_TOL: f64 = 1e-7;

    const DIMS: LinearDims = LinearDims {
        rows: 5,
        in_dim: 4,
        out_dim: 3,
    };

    fn forward(inp: &[f64], w: &[f64], b: Option<&[f64]>) -> Vec<f64> {
        let mut out = vec![f64::NAN; DIMS.rows * DIMS.out_dim];
        linear_forward(&mut out, inp, w, b, DIMS);
        out
    }

    #[test]
    fn linear_forward_matches_hand_computed_case() {
        // x = [[1, 2]], W = [[1, 0], [0.5, -1], [2, 3]], b = [0.1, 0.2, 0.3]
        // y = x·Wᵀ + b = [1 + 0.1, 0.5 − 2 + 0.2, 2 + 6 + 0.3] = [1.1, −1.3, 8.3]
        let dims = LinearDims {
            rows: 1,
            in_dim: 2,
            out_dim: 3,
        };
        let (x, w, b) = ([1.0, 2.0], [1.0, 0.0, 0.5, -1.0, 2.0, 3.0], [0.1, 0.2, 0.3]);
        let mut y = [0.0f64; 3];
        linear_forward(&mut y, &x, &w, Some(&b), dims);
        for (got, want) in y.iter().zip([1.1, -1.3, 8.3]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        linear_forward(&mut y, &x, &w, None, dims);
        for (got, want) in y.iter().zip([1.0, -1.5, 8.0]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn linear_backward_matches_finite_differences() {
        let mut rng = Rng::new(7);
        let LinearDims {
            rows,
            in_dim,
            out_dim,
        } = DIMS;
        let mut x = rng.vec(rows * in_dim, 1.0);
        let mut w = rng.vec(out_dim * in_dim, 1.0);
        let mut b = rng.vec(out_dim, 1.0);
        let g = rng.vec(rows * out_dim, 1.0);

        // Start from non-zero gradients to check that backward accumulates.
        let seed_dx = rng.vec(rows * in_dim, 1.0);
        let seed_dw = rng.vec(out_dim * in_dim, 1.0);
        let seed_db = rng.vec(out_dim, 1.0);
        let (mut dx, mut dw, mut db) = (seed_dx.clone(), seed_dw.clone(), seed_db.clone());
        linear_backward(Some(&mut dx), &mut dw, Some(&mut db), &g, &x, &w, DIMS);
        let sub = |a: &[f64], s: &[f64]| a.iter().zip(s).map(|(a, s)| a - s).collect::<Vec<_>>();
        let (dx, dw, db) = (sub(&dx, &seed_dx), sub(&dw, &seed_dw), sub(&db, &seed_db));

        let (w0, b0, x0) = (w.clone(), b.clone(), x.clone());
        check_gradient("dinp", &mut x, &dx, LINEAR_GRAD_TOL, |x| {
            dot(&g, &forward(x, &w0, Some(&b0)))
        });
        check_gradient("dweight", &mut w, &dw, LINEAR_GRAD_TOL, |w| {
            dot(&g, &forward(&x0, w, Some(&b0)))
        });
        check_gradient("dbias", &mut b, &db, LINEAR_GRAD_TOL, |b| {
            dot(&g, &forward(&x0, &w0, Some(b)))
        });
    }

    #[test]
    fn linear_backward_without_bias_or_dinp_only_touches_dweight() {
        let mut rng = Rng::new(8);
        let LinearDims {
            rows,
            in_dim,
            out_dim,
        } = DIMS;
        let x = rng.vec(rows * in_dim, 1.0);
        let w = rng.vec(out_dim * in_dim, 1.0);
        let g = rng.vec(rows * out_dim, 1.0);
        let mut dw = vec![0.0; out_dim * in_dim];
        linear_backward(None, &mut dw, None, &g, &x, &w, DIMS);
        // dW[o][i] = Σ_r g[r][o]·x[r][i]
        for o in 0..out_dim {
            for i in 0..in_dim {
                let want: f64 = (0..rows)
                    .map(|r| g[r * out_dim + o] * x[r * in_dim + i])
                    .sum();
                assert!((dw[o * in_dim + i] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn linear_f32_agrees_with_f64() {
        let mut rng = Rng::new(9);
        let LinearDims {
            rows,
            in_dim,
            out_dim,
        } = DIMS;
        let x = rng.vec(rows * in_dim, 1.0);
        let w = rng.vec(out_dim * in_dim, 1.0);
        let b = rng.vec(out_dim, 1.0);
        let want = forward(&x, &w, Some(&b));
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let mut y = vec![0f32; rows * out_dim];
        linear_forward(&mut y, &f(&x), &f(&w), Some(&f(&b)), DIMS);
        for (a, b) in y.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-5);
        }
    }
}
