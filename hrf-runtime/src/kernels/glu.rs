//! Gated linear unit over the channel dim: the gate after the Conformer convolution module's
//! first pointwise conv (`d → 2d → d`).
//!
//! Layout: `inp: (rows, 2c)` row-major; each row is `[a (c) | b (c)]`, and the SECOND half
//! gates the first: `out = a ⊙ σ(b)`, `out: (rows, c)` (PyTorch `F.glu(x, dim=-1)`).
//! Element-wise per row, so padded frames never affect valid ones.

use crate::kernels::activation::sigmoid;
use crate::real::Real;

/// Sizes of a GLU over `rows` frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GluDims {
    /// Frames (rows).
    pub rows: usize,
    /// Output channels `c`; the input has `2c`.
    pub channels: usize,
}

/// Splits one `2c`-wide input row into `(a, b)`: the value half and the gate half.
#[inline(always)]
fn split_value_gate<T>(row: &[T], c: usize) -> (&[T], &[T]) {
    row.split_at(c)
}

/// `out = a ⊙ σ(b)` per row, with `[a | b]` the two halves of `inp` (overwrites `out`).
///
/// Shapes: `out: (rows, c)`, `inp: (rows, 2c)`.
pub fn glu_forward<T: Real>(out: &mut [T], inp: &[T], dims: GluDims) {
    crate::cpu::widest(
        #[inline(always)]
        || glu_forward_body(out, inp, dims),
    )
}

/// [`glu_forward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn glu_forward_body<T: Real>(out: &mut [T], inp: &[T], dims: GluDims) {
    let GluDims { rows, channels: c } = dims;
    debug_assert_eq!(out.len(), rows * c, "glu_forward: out is (rows, c)");
    debug_assert_eq!(inp.len(), rows * 2 * c, "glu_forward: inp is (rows, 2c)");
    if c == 0 {
        return;
    }
    for (y, row) in out.chunks_exact_mut(c).zip(inp.chunks_exact(2 * c)) {
        let (a, b) = split_value_gate(row, c);
        for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
            *y = a * sigmoid(b);
        }
    }
}

/// Backward of [`glu_forward`]. Accumulates into `dinp`.
///
/// Shapes: `dinp, inp: (rows, 2c)`, `dout: (rows, c)`.
/// `da += dout ⊙ σ(b)`, `db += dout ⊙ a ⊙ σ(b)·(1 − σ(b))`.
pub fn glu_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T], dims: GluDims) {
    crate::cpu::widest(
        #[inline(always)]
        || glu_backward_body(dinp, dout, inp, dims),
    )
}

/// [`glu_backward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn glu_backward_body<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T], dims: GluDims) {
    let GluDims { rows, channels: c } = dims;
    debug_assert_eq!(dout.len(), rows * c, "glu_backward: dout is (rows, c)");
    debug_assert!(
        dinp.len() == rows * 2 * c && inp.len() == rows * 2 * c,
        "(rows, 2c)"
    );
    if c == 0 {
        return;
    }
    for ((dx, dy), row) in dinp
        .chunks_exact_mut(2 * c)
        .zip(dout.chunks_exact(c))
        .zip(inp.chunks_exact(2 * c))
    {
        let (a, b) = split_value_gate(row, c);
        let (da, db) = dx.split_at_mut(c);
        // Re-sliced to exactly `c` so the indexed loop has no bounds checks and vectorises.
        let (da, db, dy, a, b) = (&mut da[..c], &mut db[..c], &dy[..c], &a[..c], &b[..c]);
        for j in 0..c {
            let s = sigmoid(b[j]);
            let gated = dy[j] * s;
            da[j] += gated;
            db[j] += gated * a[j] * (T::ONE - s);
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

    /// Relative tolerance of the f64 finite-difference check.
    const GLU_GRAD_TOL: f64 = 1e-7;

    const DIMS: GluDims = GluDims {
        rows: 3,
        channels: 4,
    };

    fn forward(x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; DIMS.rows * DIMS.channels];
        glu_forward(&mut y, x, DIMS);
        y
    }

    #[test]
    fn glu_second_half_gates_first() {
        // Row [a0, a1 | b0, b1] = [2, −3 | 0, ln 3]: σ(0) = ½, σ(ln 3) = ¾ → [1, −2.25].
        let dims = GluDims {
            rows: 1,
            channels: 2,
        };
        let mut y = [0.0f64; 2];
        glu_forward(&mut y, &[2.0, -3.0, 0.0, 3f64.ln()], dims);
        assert!(
            (y[0] - 1.0).abs() < 1e-15 && (y[1] + 2.25).abs() < 1e-14,
            "{y:?}"
        );
    }

    #[test]
    fn glu_backward_matches_finite_differences() {
        let mut rng = Rng::new(31);
        let mut x = rng.vec(DIMS.rows * 2 * DIMS.channels, 3.0);
        let up = rng.vec(DIMS.rows * DIMS.channels, 1.0);
        let seed = rng.vec(x.len(), 1.0);
        let mut dx = seed.clone();
        glu_backward(&mut dx, &up, &x, DIMS);
        let dx: Vec<f64> = dx.iter().zip(&seed).map(|(a, s)| a - s).collect();
        check_gradient("glu dinp", &mut x, &dx, GLU_GRAD_TOL, |x| {
            dot(&up, &forward(x))
        });
    }
}
