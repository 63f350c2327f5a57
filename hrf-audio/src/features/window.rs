//! Analysis windows (Hann, Hamming, Povey) applied to each frame before the FFT.

use super::config::WindowKind;
use std::f64::consts::PI;

/// Returns the window of `length` samples, shape (length,).
///
/// With `N = length` (periodic) or `N = length − 1` (symmetric) and `c(i) = cos(2πi/N)`:
/// Hann `0.5 − 0.5c`, Hamming `0.54 − 0.46c`, Povey `(0.5 − 0.5c)^0.85`. A 1-sample window is
/// `[1]`.
pub fn window(kind: WindowKind, length: usize, periodic: bool) -> Vec<f64> {
    let denominator = if periodic {
        length
    } else {
        length.saturating_sub(1)
    };
    if denominator == 0 {
        return vec![1.0; length];
    }
    (0..length)
        .map(|i| {
            let c = (2.0 * PI * i as f64 / denominator as f64).cos();
            match kind {
                WindowKind::Hann => 0.5 - 0.5 * c,
                WindowKind::Hamming => 0.54 - 0.46 * c,
                WindowKind::Povey => (0.5 - 0.5 * c).powf(0.85),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // Periodic Hann of 4: 0.5 − 0.5·cos(πi/2) = 0, 0.5, 1, 0.5.
        let w = window(WindowKind::Hann, 4, true);
        for (got, want) in w.iter().zip([0.0, 0.5, 1.0, 0.5]) {
            assert!((got - want).abs() < 1e-15);
        }
        // Symmetric Hamming of 5: ends 0.08, centre 1, quarter points 0.54.
        let w = window(WindowKind::Hamming, 5, false);
        for (got, want) in w.iter().zip([0.08, 0.54, 1.0, 0.54, 0.08]) {
            assert!((got - want).abs() < 1e-12);
        }
        // Symmetric Povey of 5: 0.5^0.85 at the quarter points.
        let w = window(WindowKind::Povey, 5, false);
        assert!((w[1] - 0.5f64.powf(0.85)).abs() < 1e-15);
        assert_eq!((w[0], w[2], w[4]), (0.0, 1.0, 0.0));
        assert_eq!(window(WindowKind::Hann, 1, false), vec![1.0]);
    }

    #[test]
    fn periodic_hann_sums_to_half_its_length() {
        // Σ cos(2πi/N) over a full period is 0, so Σ w = N/2.
        let sum: f64 = window(WindowKind::Hann, 400, true).iter().sum();
        assert!((sum - 200.0).abs() < 1e-9);
    }
}
