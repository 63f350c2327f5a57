//! Masked mean pooling over an utterance's valid frames: the head's step from the encoder's
//! frame sequence to one utterance vector, before the classifier linear.
//!
//! Layout: `inp: (frames, d)` row-major, one utterance of `frames` buffer frames of which the
//! first `len` are valid; `out: (d)`. `out = (1/len)·Σ_{t<len} inp[t]`. Padded rows are never
//! read and receive no gradient. An empty utterance (`len = 0`) pools to zeros.

use crate::real::Real;

/// Sizes of one pooling call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolDims {
    /// Buffer frames (valid + padding).
    pub frames: usize,
    /// Features per frame.
    pub d: usize,
}

/// `out = mean of inp's first len rows` (overwrites `out`).
///
/// Shapes: `out: (d)`, `inp: (frames, d)`, `len ≤ frames`.
pub fn mean_pool_forward<T: Real>(out: &mut [T], inp: &[T], len: usize, dims: PoolDims) {
    let PoolDims { frames, d } = dims;
    debug_assert!(
        out.len() == d && inp.len() == frames * d,
        "mean_pool_forward: shapes"
    );
    debug_assert!(
        len <= frames,
        "mean_pool_forward: len {len} > frames {frames}"
    );
    out.fill(T::ZERO);
    if d == 0 || len == 0 {
        return;
    }
    for row in inp.chunks_exact(d).take(len) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
    let inv_len = T::ONE / T::from_usize(len);
    for o in out.iter_mut() {
        *o *= inv_len;
    }
}

/// Backward of [`mean_pool_forward`]: `dinp[t] += dout/len` for `t < len`. Accumulates into
/// `dinp`; padded rows are left untouched.
///
/// Shapes: `dinp: (frames, d)`, `dout: (d)`.
pub fn mean_pool_backward<T: Real>(dinp: &mut [T], dout: &[T], len: usize, dims: PoolDims) {
    let PoolDims { frames, d } = dims;
    debug_assert!(
        dout.len() == d && dinp.len() == frames * d,
        "mean_pool_backward: shapes"
    );
    debug_assert!(
        len <= frames,
        "mean_pool_backward: len {len} > frames {frames}"
    );
    if d == 0 || len == 0 {
        return;
    }
    let inv_len = T::ONE / T::from_usize(len);
    for row in dinp.chunks_exact_mut(d).take(len) {
        for (dx, &dy) in row.iter_mut().zip(dout) {
            *dx += dy * inv_len;
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

    /// Relative tolerance of the f64 finite-difference check (pooling is linear).
    const POOL_GRAD_TOL: f64 = 1e-8;

    const DIMS: PoolDims = PoolDims { frames: 5, d: 3 };

    fn forward(x: &[f64], len: usize) -> Vec<f64> {
        let mut y = vec![f64::NAN; DIMS.d];
        mean_pool_forward(&mut y, x, len, DIMS);
        y
    }

    #[test]
    fn pooling_ignores_padding() {
        // Two valid frames [1, 2, 3] and [3, 4, 5] → [2, 3, 4]; padding filled with garbage.
        let mut x = vec![1e3; 15];
        x[..6].copy_from_slice(&[1.0, 2.0, 3.0, 3.0, 4.0, 5.0]);
        assert_eq!(forward(&x, 2), [2.0, 3.0, 4.0]);
        assert_eq!(forward(&x, 0), [0.0; 3]);
    }

    #[test]
    fn pooling_backward_matches_finite_differences_and_skips_padding() {
        let mut rng = Rng::new(71);
        let len = 3;
        let mut x = rng.vec(DIMS.frames * DIMS.d, 1.0);
        let up = rng.vec(DIMS.d, 1.0);
        let mut dx = vec![0.0; x.len()];
        mean_pool_backward(&mut dx, &up, len, DIMS);
        assert!(
            dx[len * DIMS.d..].iter().all(|&g| g == 0.0),
            "padded rows get no gradient"
        );
        check_gradient("mean_pool dinp", &mut x, &dx, POOL_GRAD_TOL, |x| {
            dot(&up, &forward(x, len))
        });
    }
}
