//! Softmax cross-entropy over the classifier's logits, with optional class weights: the
//! training loss at the end of every model.
//!
//! Layout: `logits`, `probs`, `dlogits`: `(rows, classes)` row-major, one row per utterance;
//! `targets: (rows)` class indices; `class_weights: (classes)`.
//!
//! Loss (PyTorch `F.cross_entropy(logits, targets, weight=w, reduction='mean')`):
//! `nll_r = logsumexp(logits_r) − logits_r[y_r]` and
//! `loss = Σ_r w[y_r]·nll_r / Σ_r w[y_r]` (all weights 1 without `class_weights`, i.e. the plain
//! mean). `logsumexp` subtracts the row maximum first, so large logits neither overflow nor
//! lose precision. If `Σ_r w[y_r] = 0` (no rows, or every target weighted 0) the loss is 0 with
//! zero gradient.

use crate::real::Real;

/// Sizes of a cross-entropy call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrossEntropyDims {
    /// Utterances (rows of logits).
    pub rows: usize,
    /// Classes.
    pub classes: usize,
}

/// `Σ_r w[y_r]`: the weighted mean's denominator.
fn total_weight<T: Real>(targets: &[usize], class_weights: Option<&[T]>) -> T {
    match class_weights {
        Some(w) => targets.iter().map(|&y| w[y]).sum(),
        None => T::from_usize(targets.len()),
    }
}

/// Writes `probs = softmax(logits)` per row (saved for backward) and returns the weighted mean
/// negative log-likelihood (see the module docs).
///
/// Shapes: `probs, logits: (rows, classes)`, `targets: (rows)` with each `< classes` (labels are
/// validated when a dataset is loaded), `class_weights: (classes)`.
pub fn cross_entropy_forward<T: Real>(
    probs: &mut [T],
    logits: &[T],
    targets: &[usize],
    class_weights: Option<&[T]>,
    dims: CrossEntropyDims,
) -> T {
    let CrossEntropyDims { rows, classes } = dims;
    debug_assert!(
        probs.len() == rows * classes && logits.len() == rows * classes,
        "(rows, classes)"
    );
    debug_assert_eq!(
        targets.len(),
        rows,
        "cross_entropy_forward: targets is (rows)"
    );
    debug_assert!(
        targets.iter().all(|&y| y < classes),
        "cross_entropy_forward: target ≥ classes"
    );
    debug_assert!(
        class_weights.is_none_or(|w| w.len() == classes),
        "class_weights is (classes)"
    );
    if classes == 0 {
        return T::ZERO;
    }
    let mut weighted_nll = T::ZERO;
    for ((p, z), &y) in probs
        .chunks_exact_mut(classes)
        .zip(logits.chunks_exact(classes))
        .zip(targets)
    {
        // logsumexp(z) = m + ln Σ e^{z − m}, m = max z; p = e^{z − m} / Σ e^{z − m}.
        let m = z.iter().copied().fold(z[0], T::max);
        let mut sum = T::ZERO;
        for (p, &z) in p.iter_mut().zip(z) {
            *p = (z - m).exp();
            sum += *p;
        }
        let inv_sum = T::ONE / sum;
        for p in p.iter_mut() {
            *p *= inv_sum;
        }
        let nll = m + sum.ln() - z[y];
        let w = class_weights.map_or(T::ONE, |w| w[y]);
        weighted_nll += w * nll;
    }
    let total = total_weight(targets, class_weights);
    if total == T::ZERO {
        T::ZERO
    } else {
        weighted_nll / total
    }
}

/// Backward of [`cross_entropy_forward`] scaled by `dloss` (the loss's upstream gradient,
/// usually 1). Accumulates into `dlogits`:
/// `dlogits_r += dloss·w[y_r]/Σ w · (probs_r − onehot(y_r))`.
///
/// Shapes: `dlogits, probs: (rows, classes)`, `targets: (rows)`, `class_weights: (classes)`.
pub fn cross_entropy_backward<T: Real>(
    dlogits: &mut [T],
    probs: &[T],
    targets: &[usize],
    class_weights: Option<&[T]>,
    dloss: T,
    dims: CrossEntropyDims,
) {
    let CrossEntropyDims { rows, classes } = dims;
    debug_assert!(
        dlogits.len() == rows * classes && probs.len() == rows * classes,
        "(rows, classes)"
    );
    debug_assert_eq!(
        targets.len(),
        rows,
        "cross_entropy_backward: targets is (rows)"
    );
    let total = total_weight(targets, class_weights);
    if classes == 0 || total == T::ZERO {
        return;
    }
    let scale = dloss / total;
    for ((dz, p), &y) in dlogits
        .chunks_exact_mut(classes)
        .zip(probs.chunks_exact(classes))
        .zip(targets)
    {
        let s = scale * class_weights.map_or(T::ONE, |w| w[y]);
        for (dz, &p) in dz.iter_mut().zip(p) {
            *dz += s * p;
        }
        dz[y] -= s;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient};
    use std::vec;

    /// Relative tolerance of the f64 finite-difference check.
    const CROSS_ENTROPY_GRAD_TOL: f64 = 1e-7;

    #[test]
    fn weighted_cross_entropy_hand_computed() {
        // Row 0: logits [0, 0, 0], target 0 → p = [1/3, 1/3, 1/3], nll = ln 3.
        // Row 1: logits [0, ln 2, ln 5], target 1 → p = [1/8, 2/8, 5/8], nll = ln 4.
        // Weights w = [0.5, 2, 1]: Σ w_y = 0.5 + 2 = 2.5,
        // loss = (0.5·ln 3 + 2·ln 4)/2.5 = (0.549306144334055 + 2.772588722239781)/2.5
        //      = 1.328757946629534.
        // dlogits row 0 = (0.5/2.5)·(p − e_0) = 0.2·[−2/3, 1/3, 1/3] = [−0.1333…, 0.0666…, 0.0666…]
        // dlogits row 1 = (2/2.5)·(p − e_1) = 0.8·[0.125, −0.75, 0.625] = [0.1, −0.6, 0.5]
        let dims = CrossEntropyDims {
            rows: 2,
            classes: 3,
        };
        let logits = [0.0, 0.0, 0.0, 0.0, 2f64.ln(), 5f64.ln()];
        let (targets, w) = ([0, 1], [0.5, 2.0, 1.0]);
        let mut probs = [0.0f64; 6];
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, Some(&w), dims);
        assert!((loss - 1.328_757_946_629_534).abs() < 1e-12, "loss {loss}");
        for (p, want) in probs
            .iter()
            .zip([1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.125, 0.25, 0.625])
        {
            assert!((p - want).abs() < 1e-15, "{p} vs {want}");
        }
        let mut dz = [0.0f64; 6];
        cross_entropy_backward(&mut dz, &probs, &targets, Some(&w), 1.0, dims);
        let want = [-2.0 / 15.0, 1.0 / 15.0, 1.0 / 15.0, 0.1, -0.6, 0.5];
        for (g, want) in dz.iter().zip(want) {
            assert!((g - want).abs() < 1e-15, "{g} vs {want}");
        }
        // Unweighted: the plain mean (ln 3 + ln 4)/2 = ln 12 / 2 = 1.2424533248940002.
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, None, dims);
        assert!(
            (loss - 1.242_453_324_894_000_2).abs() < 1e-12,
            "loss {loss}"
        );
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        // Logits [1000, 0] target 0: nll = ln(1 + e^{−1000}) ≈ 0; f32 would overflow e^{1000}.
        let dims = CrossEntropyDims {
            rows: 1,
            classes: 2,
        };
        let mut probs = [0f32; 2];
        let loss = cross_entropy_forward(&mut probs, &[1000.0, 0.0], &[0], None, dims);
        assert!(loss.is_finite() && loss.abs() < 1e-6, "loss {loss}");
        let loss = cross_entropy_forward(&mut probs, &[1000.0, 0.0], &[1], None, dims);
        assert!((loss - 1000.0).abs() < 1e-3, "loss {loss}");
    }

    #[test]
    fn cross_entropy_backward_matches_finite_differences() {
        let mut rng = Rng::new(91);
        let dims = CrossEntropyDims {
            rows: 4,
            classes: 3,
        };
        let mut logits = rng.vec(12, 3.0);
        let targets = [2, 0, 1, 2];
        let w = [0.3, 1.7, 0.9];
        let dloss = 0.7;
        let mut probs = vec![0.0; 12];
        cross_entropy_forward(&mut probs, &logits, &targets, Some(&w), dims);
        let mut dz = vec![0.0; 12];
        cross_entropy_backward(&mut dz, &probs, &targets, Some(&w), dloss, dims);
        let mut scratch = vec![0.0; 12];
        check_gradient(
            "cross_entropy dlogits",
            &mut logits,
            &dz,
            CROSS_ENTROPY_GRAD_TOL,
            |z| dloss * cross_entropy_forward(&mut scratch, z, &targets, Some(&w), dims),
        );
    }
}
