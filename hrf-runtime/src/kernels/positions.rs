//! Sinusoidal positional encoding (Vaswani et al. 2017), added to the front-end's output before
//! the first encoder block. No parameters.
//!
//! Interleaved layout (as in the paper and the PyTorch tutorial's `PositionalEncoding`), for
//! frame `t` and `i = 0, 1, …`:
//! `PE[t, 2i] = sin(t·ω_i)`, `PE[t, 2i + 1] = cos(t·ω_i)`, `ω_i = 10000^(−2i/d)`.
//! With an odd `d` the last column is a sine. The input is NOT scaled by `√d` before the add.
//!
//! The table is computed once ([`sinusoidal_table`], in f64, rounded once to `T`) into a
//! caller-owned `(max_frames, d)` buffer, so a forward pass costs one add per element and no
//! transcendental functions.

use crate::real::Real;

/// The base of the geometric progression of wavelengths.
pub const POSITION_BASE: f64 = 10_000.0;

/// Sizes of a positional add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionDims {
    /// Frames of the activation (`≤` the table's rows).
    pub frames: usize,
    /// Model width `d`.
    pub d: usize,
}

/// Fills `table: (max_frames, d)` with `PE` (see the module docs); `max_frames = table.len()/d`.
pub fn sinusoidal_table<T: Real>(table: &mut [T], d: usize) {
    debug_assert!(
        d > 0 && table.len().is_multiple_of(d),
        "sinusoidal_table: table is (max_frames, d)"
    );
    if d == 0 {
        return;
    }
    for (t, row) in table.chunks_exact_mut(d).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            // Columns 2i and 2i + 1 share the frequency ω_i = 10000^(−2i/d).
            let two_i = (j & !1) as f64;
            let angle = t as f64 * libm::pow(POSITION_BASE, -two_i / d as f64);
            *v = T::from_f64(if j % 2 == 0 {
                libm::sin(angle)
            } else {
                libm::cos(angle)
            });
        }
    }
}

/// `out = inp + PE` over the first `frames` rows of `table` (overwrites `out`).
///
/// Shapes: `out, inp: (frames, d)`, `table: (max_frames ≥ frames, d)` from [`sinusoidal_table`].
pub fn positions_forward<T: Real>(out: &mut [T], inp: &[T], table: &[T], dims: PositionDims) {
    let n = dims.frames * dims.d;
    debug_assert!(
        out.len() == n && inp.len() == n,
        "positions_forward: (frames, d)"
    );
    debug_assert!(
        table.len() >= n,
        "positions_forward: table has fewer than `frames` rows"
    );
    for ((y, &x), &pe) in out.iter_mut().zip(inp).zip(&table[..n]) {
        *y = x + pe;
    }
}

/// In-place form of [`positions_forward`]: `x += PE`. Its backward is the identity (the
/// gradient buffer is used unchanged). Shapes: `x: (frames, d)`, `table: (≥ frames, d)`.
pub fn positions_forward_in_place<T: Real>(x: &mut [T], table: &[T], dims: PositionDims) {
    let n = dims.frames * dims.d;
    debug_assert!(
        x.len() == n && table.len() >= n,
        "positions_forward_in_place: shapes"
    );
    for (x, &pe) in x.iter_mut().zip(&table[..n]) {
        *x += pe;
    }
}

/// Backward of [`positions_forward`]: `PE` is a constant, so `dinp += dout`. Accumulates into
/// `dinp`. Shapes: `dinp, dout: (frames, d)`.
pub fn positions_backward<T: Real>(dinp: &mut [T], dout: &[T], dims: PositionDims) {
    let n = dims.frames * dims.d;
    debug_assert!(
        dinp.len() == n && dout.len() == n,
        "positions_backward: (frames, d)"
    );
    for (dx, &dy) in dinp.iter_mut().zip(dout) {
        *dx += dy;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec;
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference check (the op is an affine shift).
    const POSITIONS_GRAD_TOL: f64 = 1e-8;

    #[test]
    fn table_matches_hand_computed_entries() {
        // d = 4: ω_0 = 1, ω_1 = 10000^(−2/4) = 0.01.
        let mut table = vec![0.0f64; 3 * 4];
        sinusoidal_table(&mut table, 4);
        let want = [
            [0.0, 1.0, 0.0, 1.0],
            [1f64.sin(), 1f64.cos(), 0.01f64.sin(), 0.01f64.cos()],
            [2f64.sin(), 2f64.cos(), 0.02f64.sin(), 0.02f64.cos()],
        ];
        for (got, want) in table.iter().zip(want.iter().flatten()) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        // Odd d: the last column is a sine at ω_1 = 10000^(−2/3).
        let mut odd = vec![0.0f64; 2 * 3];
        sinusoidal_table(&mut odd, 3);
        assert!((odd[5] - 10_000f64.powf(-2.0 / 3.0).sin()).abs() < 1e-15);
    }

    #[test]
    fn positions_add_the_table_and_backward_matches_finite_differences() {
        let dims = PositionDims { frames: 3, d: 4 };
        let mut table = vec![0.0f64; 5 * 4];
        sinusoidal_table(&mut table, 4);
        let mut rng = Rng::new(61);
        let (mut x, up) = (rng.vec(12, 1.0), rng.vec(12, 1.0));
        let forward = |x: &[f64]| {
            let mut y = vec![0.0; 12];
            positions_forward(&mut y, x, &table, dims);
            y
        };
        let mut in_place = x.clone();
        positions_forward_in_place(&mut in_place, &table, dims);
        assert_eq!(in_place, forward(&x));
        assert!((in_place[5] - (x[5] + 1f64.cos())).abs() < 1e-15);

        let seed = rng.vec(12, 1.0);
        let mut dx = seed.clone();
        positions_backward(&mut dx, &up, dims);
        let dx: Vec<f64> = dx.iter().zip(&seed).map(|(a, s)| a - s).collect();
        check_gradient("positions dinp", &mut x, &dx, POSITIONS_GRAD_TOL, |x| {
            dot(&up, &forward(x))
        });
    }
}
