//! Scaled residual add `x += s·y`: where every block's branch (attention, FFN, convolution)
//! rejoins the stream (`s = 1`, or `s = ½` for the Conformer's macaron FFNs).
//!
//! Layout: `x`, `y` and their gradients are flat buffers of equal length, typically
//! `(rows, d)`. Element-wise, so padded frames never affect valid ones.

use crate::real::Real;

/// `x ← x + scale·y`, in place on the residual stream `x`.
///
/// Shapes: `x, y`: same length.
pub fn residual_forward<T: Real>(x: &mut [T], y: &[T], scale: T) {
    debug_assert_eq!(x.len(), y.len(), "residual_forward: x and y lengths");
    for (x, &y) in x.iter_mut().zip(y) {
        *x += scale * y;
    }
}

/// Backward of [`residual_forward`]. Accumulates into `dy`: `dy += scale·dx`.
///
/// `dx` is the gradient of the stream after the add; the stream's own gradient passes through
/// unchanged (`∂(x + s·y)/∂x = 1`), so with the stream's gradient kept in place the caller
/// simply keeps using `dx` for the stream before the add.
///
/// Shapes: `dy, dx`: same length.
pub fn residual_backward<T: Real>(dy: &mut [T], dx: &[T], scale: T) {
    debug_assert_eq!(dy.len(), dx.len(), "residual_backward: dy and dx lengths");
    for (dy, &dx) in dy.iter_mut().zip(dx) {
        *dy += scale * dx;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference checks (the op is linear).
    const RESIDUAL_GRAD_TOL: f64 = 1e-8;

    #[test]
    fn residual_adds_half_branch() {
        let mut x = [1.0f64, 2.0, -3.0];
        residual_forward(&mut x, &[4.0, -2.0, 1.0], 0.5);
        assert_eq!(x, [3.0, 1.0, -2.5]);
    }

    #[test]
    fn residual_backward_matches_finite_differences() {
        let mut rng = Rng::new(51);
        let scale = 0.5;
        let (mut x, mut y, up) = (rng.vec(8, 1.0), rng.vec(8, 1.0), rng.vec(8, 1.0));
        let forward = |x: &[f64], y: &[f64]| {
            let mut out = x.to_vec();
            residual_forward(&mut out, y, scale);
            out
        };
        let seed = rng.vec(8, 1.0);
        let mut dy = seed.clone();
        residual_backward(&mut dy, &up, scale);
        let dy: Vec<f64> = dy.iter().zip(&seed).map(|(a, s)| a - s).collect();
        let (x0, y0) = (x.clone(), y.clone());
        check_gradient("residual dy", &mut y, &dy, RESIDUAL_GRAD_TOL, |y| {
            dot(&up, &forward(&x0, y))
        });
        // The stream's gradient is the upstream gradient itself.
        check_gradient("residual dx", &mut x, &up, RESIDUAL_GRAD_TOL, |x| {
            dot(&up, &forward(x, &y0))
        });
    }
}
