//! Element-wise activations φ of the FFNs and convolution modules: ReLU, Swish and exact GELU.
//!
//! Layout: `out`, `inp`, `dinp`, `dout` are flat buffers of equal length (any shape, e.g.
//! `(rows, f)`); the ops are element-wise so padded frames never affect valid ones.
//! - ReLU:  `φ(x) = max(x, 0)`, `φ'(0) = 0` (PyTorch's choice);
//! - Swish (SiLU): `φ(x) = x·σ(x)`, `φ'(x) = σ(x)·(1 + x·(1 − σ(x)))`;
//! - GELU, exact erf form (PyTorch `approximate='none'`, not the tanh approximation):
//!   `φ(x) = x·Φ(x) = ½x·(1 + erf(x/√2))`, `φ'(x) = Φ(x) + x·𝒩(x)` with
//!   `𝒩(x) = e^{−x²/2}/√(2π)`.
//!
//! In f32 (production) `exp`, `σ` and `Φ` come from branch-free approximations (`fast_f32`,
//! relative error ~1e-7..1e-6, tested) so the loops vectorise; `libm`'s scalar `expf`/`erff`
//! made Swish and GELU cost more than the FFN's GEMMs. In f64 the exact `libm` functions are
//! used (gradient tests, reference comparisons).

mod fast_f32;

use crate::real::Real;
/// The vectorisable f32 `eˣ` (Cephes `expf`), shared with softmax and the folded executor.
pub(crate) use fast_f32::exp_f32;
use fast_f32::{is_f32, normal_cdf_f32, normal_pdf_f32, sigmoid_f32};

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
/// In f32, the vectorisable approximation (relative error ≤ 1e-6); in f64, exact `exp`.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    if is_f32::<T>() {
        return from_f32(sigmoid_f32(to_f32(x)));
    }
    // e = e^{−|x|} ≤ 1 never overflows: σ = 1/(1 + e) for x ≥ 0, e/(1 + e) below.
    let e = (-x.abs()).exp();
    let s = T::ONE / (T::ONE + e);
    if x >= T::ZERO { s } else { e * s }
}

/// Standard normal CDF `Φ(x) = ½(1 + erf(x/√2))` and density `𝒩(x)`: vectorisable in f32
/// (`Φ` relative error ≤ 4·10⁻⁷·(1 + x²) in the lower tail), exact `erf`/`exp` in f64.
#[inline(always)]
fn normal_cdf_pdf<T: Real>(x: T) -> (T, T) {
    if is_f32::<T>() {
        let x = to_f32(x);
        return (from_f32(normal_cdf_f32(x)), from_f32(normal_pdf_f32(x)));
    }
    let half = T::from_f64(0.5);
    let cdf = half * (T::ONE + (x * T::from_f64(FRAC_1_SQRT_2)).erf());
    let pdf = T::from_f64(FRAC_1_SQRT_2PI) * (-half * x * x).exp();
    (cdf, pdf)
}

/// `T → f32`; exact when `T` is `f32` (the only case it is called in), and the `f32 → f64 →
/// f32` round trip compiles away.
#[inline(always)]
fn to_f32<T: Real>(x: T) -> f32 {
    x.to_f64() as f32
}

/// `f32 → T`, exact for `T = f32`.
#[inline(always)]
fn from_f32<T: Real>(x: f32) -> T {
    T::from_f64(x as f64)
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
    crate::cpu::widest(
        #[inline(always)]
        || relu_forward_body(out, inp),
    )
}

/// [`relu_forward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn relu_forward_body<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "relu_forward: out and inp lengths");
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = if x > T::ZERO { x } else { T::ZERO };
    }
}

/// Backward of [`relu_forward`]: `dinp += dout·[inp > 0]`. Accumulates into `dinp`.
pub fn relu_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    crate::cpu::widest(
        #[inline(always)]
        || relu_backward_body(dinp, dout, inp),
    )
}

/// [`relu_backward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn relu_backward_body<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "relu_backward: lengths"
    );
    for ((dx, &dy), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        // A select, not a branch, so the loop vectorises.
        *dx += if x > T::ZERO { dy } else { T::ZERO };
    }
}

/// `out = inp·σ(inp)`. Shapes: `out, inp`: same length.
pub fn swish_forward<T: Real>(out: &mut [T], inp: &[T]) {
    crate::cpu::widest(
        #[inline(always)]
        || swish_forward_body(out, inp),
    )
}

/// [`swish_forward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn swish_forward_body<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "swish_forward: out and inp lengths");
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = x * sigmoid(x);
    }
}

/// Backward of [`swish_forward`]: `dinp += dout·σ(x)·(1 + x·(1 − σ(x)))`. Accumulates into
/// `dinp`.
pub fn swish_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    crate::cpu::widest(
        #[inline(always)]
        || swish_backward_body(dinp, dout, inp),
    )
}

/// [`swish_backward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn swish_backward_body<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
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

/// `out = inp·Φ(inp) = ½·inp·(1 + erf(inp/√2))` (exact GELU). Shapes: `out, inp`: same length.
pub fn gelu_forward<T: Real>(out: &mut [T], inp: &[T]) {
    crate::cpu::widest(
        #[inline(always)]
        || gelu_forward_body(out, inp),
    )
}

/// [`gelu_forward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn gelu_forward_body<T: Real>(out: &mut [T], inp: &[T]) {
    debug_assert_eq!(out.len(), inp.len(), "gelu_forward: out and inp lengths");
    for (y, &x) in out.iter_mut().zip(inp) {
        *y = x * normal_cdf_pdf(x).0;
    }
}

/// Backward of [`gelu_forward`]: `dinp += dout·(Φ(x) + x·𝒩(x))`. Accumulates into `dinp`.
pub fn gelu_backward<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    crate::cpu::widest(
        #[inline(always)]
        || gelu_backward_body(dinp, dout, inp),
    )
}

/// [`gelu_backward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn gelu_backward_body<T: Real>(dinp: &mut [T], dout: &[T], inp: &[T]) {
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "gelu_backward: lengths"
    );
    for ((dx, &dy), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        let (cdf, pdf) = normal_cdf_pdf(x);
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

    /// Agreement of the f32 kernels (vectorisable approximations) with f64 (exact), relative
    /// to `max(1, |value|)`.
    const ACTIVATION_F32_TOL: f64 = 1e-6;

    #[test]
    fn activation_f32_agrees_with_f64() {
        let mut rng = Rng::new(22);
        let x: Vec<f64> = rng
            .vec(2_000, 12.0)
            .iter()
            .map(|&v| v as f32 as f64)
            .collect();
        let up: Vec<f64> = rng
            .vec(x.len(), 1.0)
            .iter()
            .map(|&v| v as f32 as f64)
            .collect();
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        for act in ALL {
            let (mut y32, mut dx32) = (vec![0f32; x.len()], vec![0f32; x.len()]);
            activation_forward(act, &mut y32, &f(&x));
            activation_backward(act, &mut dx32, &f(&up), &f(&x));
            let mut dx64 = vec![0.0; x.len()];
            activation_backward(act, &mut dx64, &up, &x);
            for (i, (y, want)) in y32.iter().zip(forward(act, &x)).enumerate() {
                let err = (*y as f64 - want).abs() / want.abs().max(1.0);
                assert!(
                    err <= ACTIVATION_F32_TOL,
                    "{act:?}({}) = {y} vs {want}",
                    x[i]
                );
            }
            for (i, (g, want)) in dx32.iter().zip(&dx64).enumerate() {
                let err = (*g as f64 - want).abs() / want.abs().max(1.0);
                assert!(
                    err <= ACTIVATION_F32_TOL,
                    "{act:?}'({}) = {g} vs {want}",
                    x[i]
                );
            }
        }
    }

    #[test]
    fn sigmoid_is_finite_at_extremes() {
        assert_eq!(sigmoid(-1000.0f64), 0.0);
        assert_eq!(sigmoid(1000.0f64), 1.0);
        // f32 clamps e^{−200} to the smallest normal (1.2e-38) rather than underflowing.
        let tiny = sigmoid(-200.0f32);
        assert!((0.0..1e-37).contains(&tiny), "{tiny}");
        assert_eq!(sigmoid(200.0f32), 1.0);
        assert!((sigmoid(0.0f64) - 0.5).abs() < 1e-15);
        assert_eq!(sigmoid(0.0f32), 0.5);
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

    /// The instruction-set copies (`cpu::widest`) compute the baseline loops' bits exactly,
    /// forward and accumulated backward, over both signs, the clamp of `exp` and a ragged tail.
    #[test]
    fn widened_activations_are_bit_identical_to_the_baseline_loops() {
        let n = 1003;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 - 501.0) * 0.23).collect();
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        type Fwd = fn(&mut [f32], &[f32]);
        type Bwd = fn(&mut [f32], &[f32], &[f32]);
        let pairs: [(Fwd, Fwd, Bwd, Bwd); 3] = [
            (
                relu_forward,
                relu_forward_body,
                relu_backward,
                relu_backward_body,
            ),
            (
                swish_forward,
                swish_forward_body,
                swish_backward,
                swish_backward_body,
            ),
            (
                gelu_forward,
                gelu_forward_body,
                gelu_backward,
                gelu_backward_body,
            ),
        ];
        for (fwd, fwd_base, bwd, bwd_base) in pairs {
            let (mut want, mut got) = (vec![0.0f32; n], vec![0.0f32; n]);
            fwd_base(&mut want, &x);
            fwd(&mut got, &x);
            assert_eq!(bits(&got), bits(&want));
            let (mut want, mut got) = (vec![0.5f32; n], vec![0.5f32; n]);
            bwd_base(&mut want, &g, &x);
            bwd(&mut got, &g, &x);
            assert_eq!(bits(&got), bits(&want));
        }
    }
}
