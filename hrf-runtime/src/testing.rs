//! Test support shared by every kernel and fold test: a seeded RNG and a finite-difference
//! gradient checker (f64).

extern crate std;
use std::vec::Vec;

/// SplitMix64: tiny, seeded, reproducible across platforms.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// `n` values uniform in [-scale, scale).
    pub fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform() * scale).collect()
    }
}

/// Central-difference step for f64 gradient checks.
pub const FD_STEP: f64 = 1e-6;

/// Checks `analytic` (the gradient of `loss` at `x`) against central differences.
///
/// `loss` is evaluated with `x` perturbed one element at a time. Fails with the first element
/// whose error `|a − n|` exceeds `tol · max(1, |a|, |n|)`, naming `what` and the index.
pub fn check_gradient(
    what: &str,
    x: &mut [f64],
    analytic: &[f64],
    tol: f64,
    mut loss: impl FnMut(&[f64]) -> f64,
) {
    assert_eq!(x.len(), analytic.len(), "{what}: gradient length");
    for i in 0..x.len() {
        let orig = x[i];
        x[i] = orig + FD_STEP;
        let up = loss(x);
        x[i] = orig - FD_STEP;
        let down = loss(x);
        x[i] = orig;
        let numeric = (up - down) / (2.0 * FD_STEP);
        let a = analytic[i];
        let scale = 1f64.max(a.abs()).max(numeric.abs());
        assert!(
            (a - numeric).abs() <= tol * scale,
            "{what}[{i}]: analytic {a:.9e} vs finite-difference {numeric:.9e} (tol {tol:e})"
        );
    }
}

/// `Σ g·y`: the scalar loss whose gradient with respect to `y` is `g` (the upstream gradient).
pub fn dot(g: &[f64], y: &[f64]) -> f64 {
    g.iter().zip(y).map(|(a, b)| a * b).sum()
}
