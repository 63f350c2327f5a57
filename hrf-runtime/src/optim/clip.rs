//! Training step: global gradient-norm clipping, between backward and the AdamW step.
//!
//! `‖g‖ = √(Σᵢ gᵢ²)` over the whole flat gradient buffer (accumulated in f64, in a fixed order,
//! so the result is deterministic). If `‖g‖ > max_norm`, every gradient is scaled by
//! `max_norm / (‖g‖ + 1e-6)` (PyTorch's `clip_grad_norm_`). A non-finite norm is an error: the
//! gradients are left untouched and the caller decides (skip the step, lower the rate, stop).

/// Added to the norm in the clipping coefficient, as PyTorch does, so a norm at the threshold
/// does not divide by itself exactly.
pub const CLIP_EPS: f64 = 1e-6;

/// Why gradients could not be clipped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClipError {
    #[error(
        "gradient norm is {norm} (first non-finite gradient at index {first_bad_index}): the \
         step diverged; skip this batch, lower the learning rate or check the loss for NaN"
    )]
    NonFiniteNorm { norm: f64, first_bad_index: usize },
    #[error("gradient clipping: max_norm = {max_norm} must be finite and > 0")]
    MaxNorm { max_norm: f32 },
}

/// Independent f64 partial sums in [`global_grad_norm`] (breaks the add latency chain).
const NORM_LANES: usize = 8;

/// `√(Σᵢ gᵢ²)` of `grads` (n_params), accumulated in f64 in a fixed order: lane `l` sums the
/// elements `i ≡ l (mod 8)` in index order, then the lanes and the tail are added in order.
pub fn global_grad_norm(grads: &[f32]) -> f64 {
    let mut lanes = [0.0f64; NORM_LANES];
    let blocks = grads.chunks_exact(NORM_LANES);
    let tail = blocks.remainder();
    for block in blocks {
        for (acc, &g) in lanes.iter_mut().zip(block) {
            *acc += g as f64 * g as f64;
        }
    }
    let mut sum = lanes.iter().fold(0.0, |s, l| s + l);
    for &g in tail {
        sum += g as f64 * g as f64;
    }
    sum.sqrt()
}

/// Scales `grads` (n_params) in place so that their global norm is at most `max_norm`.
///
/// Returns the norm *before* clipping (log it: it is the best early sign of divergence). A
/// non-finite norm (a NaN or ±∞ gradient, or an overflow) is returned as
/// [`ClipError::NonFiniteNorm`] and `grads` is not modified.
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f32) -> Result<f64, ClipError> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(ClipError::MaxNorm { max_norm });
    }
    let norm = global_grad_norm(grads);
    if !norm.is_finite() {
        let first_bad_index = grads.iter().position(|g| !g.is_finite()).unwrap_or(0);
        return Err(ClipError::NonFiniteNorm {
            norm,
            first_bad_index,
        });
    }
    let coef = max_norm as f64 / (norm + CLIP_EPS);
    if coef < 1.0 {
        let coef = coef as f32;
        for g in grads.iter_mut() {
            *g *= coef;
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_above_threshold_is_scaled_to_max_norm() {
        // ‖(3, 4, 0, −12)‖ = 13; max 6.5 → coefficient 6.5 / (13 + 1e-6) ≈ 0.49999996.
        let mut g = [3.0f32, 4.0, 0.0, -12.0];
        let norm = clip_grad_norm(&mut g, 6.5).unwrap();
        assert_eq!(norm, 13.0);
        let coef = 6.5 / (13.0 + CLIP_EPS);
        for (got, want) in g.iter().zip([3.0, 4.0, 0.0, -12.0]) {
            assert!(
                (*got as f64 - want * coef).abs() < 1e-6,
                "{got} vs {}",
                want * coef
            );
        }
        assert!((global_grad_norm(&g) - 6.5).abs() < 1e-5);
    }

    #[test]
    fn norm_below_threshold_leaves_gradients_untouched() {
        let mut g = [0.3f32, -0.4];
        assert!((clip_grad_norm(&mut g, 1.0).unwrap() - 0.5).abs() < 1e-7);
        assert_eq!(g, [0.3, -0.4]);
    }

    #[test]
    fn non_finite_norm_is_an_error_and_gradients_stay() {
        let mut g = [1.0f32, f32::NAN, 2.0];
        let err = clip_grad_norm(&mut g, 1.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "gradient norm is NaN (first non-finite gradient at index 1): the step diverged; \
             skip this batch, lower the learning rate or check the loss for NaN"
        );
        assert_eq!(g[0], 1.0);
        assert_eq!(g[2], 2.0);
        let mut g = [0.0f32, 0.0, f32::NEG_INFINITY];
        assert!(matches!(
            clip_grad_norm(&mut g, 1.0),
            Err(ClipError::NonFiniteNorm { norm, first_bad_index: 2 }) if norm == f64::INFINITY
        ));
    }

    #[test]
    fn large_finite_gradients_do_not_overflow_the_norm() {
        // Σg² = 2·(1e30)² overflows f32 but not the f64 accumulator.
        let mut g = [1e30f32, -1e30];
        let norm = clip_grad_norm(&mut g, 1.0).unwrap();
        assert!((norm / (2f64.sqrt() * 1e30) - 1.0).abs() < 1e-6);
        assert!((global_grad_norm(&g) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn norm_of_a_long_buffer_matches_the_plain_sum() {
        // 8-lane accumulation plus a tail of 3: the same value as the sequential f64 sum.
        let g: Vec<f32> = (0..67)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.25)
            .collect();
        let want = g.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
        assert!((global_grad_norm(&g) - want).abs() <= 1e-12 * want);
    }

    #[test]
    fn invalid_max_norm_is_an_error() {
        let mut g = [1.0f32];
        assert_eq!(
            clip_grad_norm(&mut g, 0.0).unwrap_err().to_string(),
            "gradient clipping: max_norm = 0 must be finite and > 0"
        );
    }
}
