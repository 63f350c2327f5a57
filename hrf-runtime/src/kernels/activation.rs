//! Element-wise activations φ of the FFNs and convolution modules: ReLU, Swish and exact GELU.
//!
//! Layout: `out`, `inp`, `dinp`, `dout` are flat buffers of equal length (any shape, e.g.
//! `(rows, f)`); the ops are element-wise so padded frames never affect valid ones.
//! - ReLU:  `φ(x) = max(x, 0)`, `φ'(0) = 0` (PyTorch's choice);
//! - Swish (SiLU): `φ(x) = x·σ(x)`, `φ'(x) = σ(x)·(1 + x·(1 − σ(x)))`;
//! - GELU, exact erf form (PyTorch `approximate='none'`, not the tanh approximation):
//!   `φ(x) = x·Φ(x) = ½x·(1 + erf(x/√2))`, `φ'(x) = Φ(x) + x·𝒩(x)` with
//!   `𝒩(x) = e^{−x²/2}/√(2π)`.

use crate::real::Real;

/// The FFN activation a spec names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x·σ(x)` (SiLU).
    Swish,
    /// `x·Φ(x)`, exact erf form.
    Gelu,
}

/// Logistic sigmoid `σ(x) = 1/(1 + e^{−x})`, evaluated without overflow for any sign of `x`.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        // e^x/(1 + e^x): e^{−x} would overflow for very negative x.
        let e = x.exp();
        e / (T::ONE + e)
    }
}

/// `out = φ(inp)` element-wise (overwrites `out`). Shapes: `out, inp`: same length.
pub fn activation_forward<T: Real>(act: Activation, out: &mut [T], inp: &[T]) {
    match act {
        Activation::Relu => relu_forward(out, inp),
        Activation::Swish => swish_forward(out, inp),
        Activation::Gelu => gelu_forward(out, inp),
    }
}

/// Backward of [`activation_forward`]. Accumulates into `dinp`.
pub fn activation_backward<T: Real>(act: Activation, dinp: &mut [T], dout: &[T], inp: &[T]) {
    match act {
        Activation::Relu => relu_backward(dinp, dout, inp),
        Activation::Swish => swish_backward(dinp, dout, inp),
        Activation::Gelu => gelu_backward(dinp, dout, inp),
    }
}

/// `out = max(inp, 0)`. Shapes: `out, inp`: same length.
pub fn relu_forward<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "relu_forward: out and inp lengths");
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = if x > T::ZERO { x } else { T::ZERO };
    }
}

/// Backward of [`relu_forward`]: `dinp += dout·[inp > 0]`. Accumulates into `dinp`.
pub fn relu_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "relu_backward: lengths"
    );
    for ((dx, &dy), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        if x > T::ZERO {
            *dx += dy;
        }
    }
}

/// `out = inp·σ(inp)`. Shapes: `out, inp`: same length.
pub fn swish_forward<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "swish_forward: out and inp lengths");
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = x * sigmoid(x);
    }
}

/// Backward of [`swish_forward`]: `dinp += dout·σ(x)·(1 + x·(1 − σ(x)))`. Accumulates into
/// `dinp`.
pub fn swish_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "swish_backward: lengths"
    );
    for ((dx, &dy), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        let s = sigmoid(x);
        *dx += dy * s * (T::ONE + x * (T::ONE - s));
    }
}

/// `1/√2`, for `Φ(x) = ½(1 + erf(x/√2))`.
const FRAC_1_SQRT_2: f64 = core::f64::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`, the standard normal density's constant.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `out = ½·inp·(1 + erf(inp/√2))` (exact GELU). Shapes: `out, inp`: same length.
pub fn gelu_forward<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "gelu_forward: out and inp lengths");
    let (half, inv_sqrt2) = (T::from_f64(0.5), T::from_f64(FRAC_1_SQRT_2));
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = half * x * (T::ONE + (x * inv_sqrt2).erf());
    }
}

/// Backward of [`gelu_forward`]: `dinp += dout·(Φ(x) + x·𝒩(x))`. Accumulates into `dinp`.
pub fn gelu_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "gelu_backward: lengths"
    );
    let (half, inv_sqrt2) = (T::from_f64(0.5), T::from_f64(FRAC_1_SQRT_2));
    let inv_sqrt_2pi = T::from_f64(FRAC_1_SQRT_2PI);
    for ((dx, &dy), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        let cdf = half * (T::ONE + (x * inv_sqrt2).erf());
        let pdf = inv_sqrt_2pi * (-half * x * x).exp();
        *dx += dy * (cdf + x * pdf);
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
    const ACTIVATION_GRAD_TOL: f64 = 1e-7;

    const ALL: [Activation; 3] = [Activation::Relu, Activation::Swish, Activation::Gelu];

    fn forward(act: Activation, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; x.len()];
        activation_forward(act, &mut y, x);
        y
    }

    #[test]
    fn activations_match_reference_values() {
        // Reference values: the closed forms evaluated in float64 by Python's `math` module
        // (x/(1 + exp(−x)) and 0.5·x·(1 + erf(x/√2))), which PyTorch's F.silu / F.gelu match.
        let x = [-2.0, -0.5, 0.0, 0.5, 2.0];
        let want = [
            (Activation::Relu, [0.0, 0.0, 0.0, 0.5, 2.0]),
            (
                Activation::Swish,
                [
                    -0.238_405_844_044_235_1,
                    -0.188_770_334_399_072_7,
                    0.0,
                    0.311_229_665_600_927_3,
                    1.761_594_155_955_764_6,
                ],
            ),
            (
                Activation::Gelu,
                [
                    -0.045_500_263_896_358_42,
                    -0.154_268_769_362_993_44,
                    0.0,
                    0.345_731_230_637_006_56,
                    1.954_499_736_103_641_6,
                ],
            ),
        ];
        for (act, want) in want {
            for (got, want) in forward(act, &x).iter().zip(want) {
                assert!((got - want).abs() < 1e-12, "{act:?}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn sigmoid_is_finite_at_extremes() {
        assert_eq!(sigmoid(-1000.0f64), 0.0);
        assert_eq!(sigmoid(1000.0f64), 1.0);
        assert_eq!(sigmoid(-200.0f32), 0.0);
        assert!((sigmoid(0.0f64) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn activation_backward_matches_finite_differences() {
        let mut rng = Rng::new(21);
        for act in ALL {
            // Keep ReLU's inputs away from its kink at 0, where finite differences are undefined.
            let mut x: Vec<f64> = rng
                .vec(12, 3.0)
                .into_iter()
                .map(|v| if v.abs() < 0.01 { 0.5 } else { v })
                .collect();
            let up = rng.vec(x.len(), 1.0);
            let seed = rng.vec(x.len(), 1.0);
            let mut dx = seed.clone();
            activation_backward(act, &mut dx, &up, &x);
            let dx: Vec<f64> = dx.iter().zip(&seed).map(|(a, s)| a - s).collect();
            check_gradient(
                &std::format!("{act:?} dinp"),
                &mut x,
                &dx,
                ACTIVATION_GRAD_TOL,
                |x| dot(&up, &forward(act, x)),
            );
        }
    }
}
