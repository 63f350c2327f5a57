//! Softmax cross-entropy over the classifier's logits, with optional class weights and label
//! smoothing: the training loss at the end of every model.
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
//!
//! Label smoothing `ε` (PyTorch's `label_smoothing=ε`, Szegedy et al. 2016) mixes the one-hot
//! target with the uniform distribution over the `C` classes:
//! `loss = Σ_r [(1 − ε)·w[y_r]·nll_r + (ε/C)·Σ_c w[c]·(logsumexp(logits_r) − logits_r[c])] / Σ_r w[y_r]`,
//! exactly PyTorch's formula with weights (the smoothing term weights each class's
//! log-probability by that class's weight; the denominator stays `Σ_r w[y_r]`). Its gradient is
//! `dlogits_rc = [(1 − ε)·w[y_r]·(p_rc − δ_c,y_r) + (ε/C)·(W·p_rc − w[c])] / Σ_r w[y_r]` with
//! `W = Σ_c w[c]`; unweighted, that is `p_r − q_r` for the smoothed target
//! `q_r = (1 − ε)·onehot(y_r) + ε/C`. `ε = 0` is the plain cross-entropy, bit for bit.

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
/// negative log-likelihood with label smoothing `label_smoothing` (`ε ∈ [0, 1]`, 0 = none; see
/// the module docs).
///
/// Shapes: `probs, logits: (rows, classes)`, `targets: (rows)` with each `< classes` (labels are
/// validated when a dataset is loaded), `class_weights: (classes)`.
pub fn cross_entropy_forward<T: Real>(
    probs: &mut [T],
    logits: &[T],
    targets: &[usize],
    class_weights: Option<&[T]>,
    label_smoothing: T,
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
        let lse = m + sum.ln();
        let nll = lse - z[y];
        let w = class_weights.map_or(T::ONE, |w| w[y]);
        if label_smoothing == T::ZERO {
            weighted_nll += w * nll;
        } else {
            // Σ_c w[c]·(lse − z_c): the uniform target's weighted cross-entropy.
            let mut uniform = T::ZERO;
            for (c, &zc) in z.iter().enumerate() {
                uniform += class_weights.map_or(T::ONE, |w| w[c]) * (lse - zc);
            }
            weighted_nll += (T::ONE - label_smoothing) * w * nll
                + label_smoothing / T::from_usize(classes) * uniform;
        }
    }
    let total = total_weight(targets, class_weights);
    if total == T::ZERO {
        T::ZERO
    } else {
        weighted_nll / total
    }
}

/// Backward of [`cross_entropy_forward`] (same `class_weights` and `label_smoothing`) scaled by
/// `dloss` (the loss's upstream gradient, usually 1). Accumulates into `dlogits`; without
/// smoothing `dlogits_r += dloss·w[y_r]/Σ w · (probs_r − onehot(y_r))`, with it see the module
/// docs.
///
/// Shapes: `dlogits, probs: (rows, classes)`, `targets: (rows)`, `class_weights: (classes)`.
pub fn cross_entropy_backward<T: Real>(
    dlogits: &mut [T],
    probs: &[T],
    targets: &[usize],
    class_weights: Option<&[T]>,
    label_smoothing: T,
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
    let eps = label_smoothing;
    // (ε/C)·dloss/Σ w and W = Σ_c w[c] for the smoothing term.
    let smooth = eps / T::from_usize(classes) * scale;
    let all_weights = class_weights.map_or(T::from_usize(classes), |w| w.iter().copied().sum());
    for ((dz, p), &y) in dlogits
        .chunks_exact_mut(classes)
        .zip(probs.chunks_exact(classes))
        .zip(targets)
    {
        if eps == T::ZERO {
            let s = scale * class_weights.map_or(T::ONE, |w| w[y]);
            for (dz, &p) in dz.iter_mut().zip(p) {
                *dz += s * p;
            }
            dz[y] -= s;
        } else {
            let s = (T::ONE - eps) * scale * class_weights.map_or(T::ONE, |w| w[y]);
            for (c, (dz, &p)) in dz.iter_mut().zip(p).enumerate() {
                let wc = class_weights.map_or(T::ONE, |w| w[c]);
                *dz += s * p + smooth * (all_weights * p - wc);
            }
            dz[y] -= s;
        }
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
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, Some(&w), 0.0, dims);
        assert!((loss - 1.328_757_946_629_534).abs() < 1e-12, "loss {loss}");
        for (p, want) in probs
            .iter()
            .zip([1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.125, 0.25, 0.625])
        {
            assert!((p - want).abs() < 1e-15, "{p} vs {want}");
        }
        let mut dz = [0.0f64; 6];
        cross_entropy_backward(&mut dz, &probs, &targets, Some(&w), 0.0, 1.0, dims);
        let want = [-2.0 / 15.0, 1.0 / 15.0, 1.0 / 15.0, 0.1, -0.6, 0.5];
        for (g, want) in dz.iter().zip(want) {
            assert!((g - want).abs() < 1e-15, "{g} vs {want}");
        }
        // Unweighted: the plain mean (ln 3 + ln 4)/2 = ln 12 / 2 = 1.2424533248940002.
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, None, 0.0, dims);
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
        let loss = cross_entropy_forward(&mut probs, &[1000.0, 0.0], &[0], None, 0.0, dims);
        assert!(loss.is_finite() && loss.abs() < 1e-6, "loss {loss}");
        let loss = cross_entropy_forward(&mut probs, &[1000.0, 0.0], &[1], None, 0.0, dims);
        assert!((loss - 1000.0).abs() < 1e-3, "loss {loss}");
    }

    #[test]
    fn cross_entropy_backward_matches_finite_differences() {
        // Plain, weighted, smoothed, and weighted + smoothed.
        let weights = [0.3, 1.7, 0.9];
        for (w, eps) in [
            (None, 0.0),
            (Some(&weights[..]), 0.0),
            (None, 0.1),
            (Some(&weights[..]), 0.25),
        ] {
            let mut rng = Rng::new(91);
            let dims = CrossEntropyDims {
                rows: 4,
                classes: 3,
            };
            let mut logits = rng.vec(12, 3.0);
            let targets = [2, 0, 1, 2];
            let dloss = 0.7;
            let mut probs = vec![0.0; 12];
            cross_entropy_forward(&mut probs, &logits, &targets, w, eps, dims);
            let mut dz = vec![0.0; 12];
            cross_entropy_backward(&mut dz, &probs, &targets, w, eps, dloss, dims);
            let mut scratch = vec![0.0; 12];
            check_gradient(
                "cross_entropy dlogits",
                &mut logits,
                &dz,
                CROSS_ENTROPY_GRAD_TOL,
                |z| dloss * cross_entropy_forward(&mut scratch, z, &targets, w, eps, dims),
            );
        }
    }

    #[test]
    fn label_smoothing_hand_computed() {
        // The rows of `weighted_cross_entropy_hand_computed`, ε = 0.3, C = 3 (ε/C = 0.1).
        // −log p: row 0 = [ln 3, ln 3, ln 3]; row 1 = [ln 8, ln 4, ln 1.6].
        // Unweighted: row 0 = 0.7·ln 3 + 0.1·3 ln 3 = ln 3;
        //   row 1 = 0.7·ln 4 + 0.1·(ln 8 + ln 4 + ln 1.6) = 0.7·ln 4 + 0.1·ln 51.2;
        //   loss = (ln 3 + 0.7 ln 4 + 0.1 ln 51.2)/2.
        let dims = CrossEntropyDims {
            rows: 2,
            classes: 3,
        };
        let logits = [0.0, 0.0, 0.0, 0.0, 2f64.ln(), 5f64.ln()];
        let targets = [0, 1];
        let mut probs = [0.0f64; 6];
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, None, 0.3, dims);
        let want = (3f64.ln() + 0.7 * 4f64.ln() + 0.1 * 51.2f64.ln()) / 2.0;
        assert!((loss - want).abs() < 1e-12, "loss {loss} vs {want}");
        // dlogits = (p − q)/2 with q_0 = [0.8, 0.1, 0.1], q_1 = [0.1, 0.8, 0.1].
        let mut dz = [0.0f64; 6];
        cross_entropy_backward(&mut dz, &probs, &targets, None, 0.3, 1.0, dims);
        let want = [
            (1.0 / 3.0 - 0.8) / 2.0,
            (1.0 / 3.0 - 0.1) / 2.0,
            (1.0 / 3.0 - 0.1) / 2.0,
            (0.125 - 0.1) / 2.0,
            (0.25 - 0.8) / 2.0,
            (0.625 - 0.1) / 2.0,
        ];
        for (g, want) in dz.iter().zip(want) {
            assert!((g - want).abs() < 1e-15, "{g} vs {want}");
        }
        // Weighted w = [0.5, 2, 1] (PyTorch's formula): Σ w_y = 2.5;
        // row 0 = 0.7·0.5·ln 3 + 0.1·(0.5 + 2 + 1)·ln 3 = 0.7 ln 3;
        // row 1 = 0.7·2·ln 4 + 0.1·(0.5 ln 8 + 2 ln 4 + 1 ln 1.6);
        // loss = (row 0 + row 1)/2.5. Cross-checked with
        // torch.nn.functional.cross_entropy(weight=w, label_smoothing=0.3) by the same formula.
        let w = [0.5, 2.0, 1.0];
        let loss = cross_entropy_forward(&mut probs, &logits, &targets, Some(&w), 0.3, dims);
        let row0 = 0.7 * 3f64.ln();
        let row1 = 1.4 * 4f64.ln() + 0.1 * (0.5 * 8f64.ln() + 2.0 * 4f64.ln() + 1.6f64.ln());
        let want = (row0 + row1) / 2.5;
        assert!((loss - want).abs() < 1e-12, "loss {loss} vs {want}");
        // Gradient of row 0, class 0: [0.7·0.5·(1/3 − 1) + 0.1·(3.5/3 − 0.5)]/2.5.
        let mut dz = [0.0f64; 6];
        cross_entropy_backward(&mut dz, &probs, &targets, Some(&w), 0.3, 1.0, dims);
        let want00 = (0.35 * (1.0 / 3.0 - 1.0) + 0.1 * (3.5 / 3.0 - 0.5)) / 2.5;
        assert!((dz[0] - want00).abs() < 1e-15, "{} vs {want00}", dz[0]);
        // ε = 0 is the plain loss bit for bit.
        let plain = cross_entropy_forward(&mut probs, &logits, &targets, Some(&w), 0.0, dims);
        assert!((plain - 1.328_757_946_629_534).abs() < 1e-12, "{plain}");
    }
}
