//! Deploy-time folds: deHRF, the chain of HRF layers merged into the FFN's first linear.
//!
//! Training computes, per frame `u: (d)`, a chain of `k ≥ 1` HRF layers and then the FFN's first
//! linear, with nothing in between:
//!
//! ```text
//! h₁ = H₁·u + b_H₁            H₁: (m₁, d)
//! hᵢ = Hᵢ·hᵢ₋₁ + b_Hᵢ         Hᵢ: (mᵢ, mᵢ₋₁)
//! z  = W1'·h_k + b1'          W1': (f, m_k)
//! ```
//!
//! which is the single linear `z = W1·u + b1` with
//! `W1 = W1'·H_k·…·H₁: (f, d)` and `b1 = W1'·(H_k·(…(H₂·b_H₁ + b_H₂)…) + b_H_k) + b1'`.
//! The product is taken from the FFN back towards `u` (`A ← A·Hᵢ`, `b ← A·b_Hᵢ + b` for
//! `i = k, …, 1`, starting from `A = W1'`, `b = b1'`), so every intermediate is `(f, ·)`.

use std::format;

use super::affine_map::AffineMap;
use super::{FoldError, FoldedLinear, LinearRef};

const FOLD: &str = "fold_hrf_into_ffn";

/// Folds the HRF chain `hrf_chain = [H₁, …, H_k]` (in the order the frame goes through them)
/// into the FFN's first linear `ffn_first = W1': (f, m_k)`. Returns `W1: (f, d)` and `b1: (f)`.
///
/// Biases are optional on every layer (a missing bias is zero); the result always has a bias.
/// Accumulates in f64 and rounds once to f32.
pub fn fold_hrf_into_ffn(
    hrf_chain: &[LinearRef<'_>],
    ffn_first: LinearRef<'_>,
) -> Result<FoldedLinear, FoldError> {
    let Some(last) = hrf_chain.last() else {
        return Err(FoldError::InvalidArgument {
            fold: FOLD,
            problem: format!(
                "the HRF chain in front of `{}` is empty; pass at least one HRF layer (k ≥ 1), \
                 or skip this fold for an FFN without HRF",
                ffn_first.name
            ),
        });
    };
    for layer in hrf_chain {
        layer.check(FOLD)?;
    }
    ffn_first.check(FOLD)?;
    for pair in hrf_chain.windows(2) {
        if pair[1].inp != pair[0].out {
            return Err(mismatch(&pair[0], &pair[1]));
        }
    }
    if ffn_first.inp != last.out {
        return Err(mismatch(last, &ffn_first));
    }

    let mut folded = AffineMap::from_linear(&ffn_first);
    for layer in hrf_chain.iter().rev() {
        folded = folded.after(&AffineMap::from_linear(layer));
    }
    Ok(folded.round_to_f32())
}

/// `next` reads the output of `prev`, so `next.inp` must equal `prev.out`.
fn mismatch(prev: &LinearRef<'_>, next: &LinearRef<'_>) -> FoldError {
    FoldError::ShapeMismatch {
        fold: FOLD,
        left: prev.name.into(),
        left_shape: prev.shape(),
        right: next.name.into(),
        right_shape: next.shape(),
        rule: "each layer's input width must equal the previous layer's output width (W: (out, in))",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::reference::{assert_outputs_match, linear, rand_vec};
    use crate::testing::Rng;
    use std::string::String;
    use std::vec::Vec;

    /// Trained weights of one HRF chain plus the FFN's first linear.
    struct Chain {
        names: Vec<String>,
        weights: Vec<Vec<f32>>,
        biases: Vec<Option<Vec<f32>>>,
        /// (out, in) of every layer, HRF layers first, W1' last.
        shapes: Vec<(usize, usize)>,
    }

    impl Chain {
        /// `d → m → … → m → f` with `k` HRF layers; weights uniform `±2/√in` (far from identity).
        fn random(rng: &mut Rng, d: usize, m: usize, f: usize, k: usize, bias: bool) -> Chain {
            let mut shapes = Vec::new();
            let mut width = d;
            for _ in 0..k {
                shapes.push((m, width));
                width = m;
            }
            shapes.push((f, width));
            let mut chain = Chain {
                names: Vec::new(),
                weights: Vec::new(),
                biases: Vec::new(),
                shapes,
            };
            for (i, &(out, inp)) in chain.shapes.iter().enumerate() {
                chain.names.push(format!("layer{i}"));
                chain
                    .weights
                    .push(rand_vec(rng, out * inp, 2.0 / (inp as f64).sqrt()));
                chain.biases.push(bias.then(|| rand_vec(rng, out, 0.5)));
            }
            chain
        }

        fn refs(&self) -> Vec<LinearRef<'_>> {
            (0..self.shapes.len())
                .map(|i| {
                    let (out, inp) = self.shapes[i];
                    LinearRef::new(
                        &self.names[i],
                        &self.weights[i],
                        self.biases[i].as_deref(),
                        out,
                        inp,
                    )
                })
                .collect()
        }

        /// The training-time forward: every layer in turn, in f32.
        fn forward(&self, x: &[f32]) -> Vec<f32> {
            let mut h = x.to_vec();
            for l in self.refs() {
                h = linear(&h, l.weight, l.bias, l.out, l.inp);
            }
            h
        }
    }

    fn check_chain(k: usize, bias: bool) {
        let (d, m, f, rows) = (5, 12, 7, 6);
        let mut rng = Rng::new(100 + k as u64 * 2 + bias as u64);
        let chain = Chain::random(&mut rng, d, m, f, k, bias);
        let refs = chain.refs();
        let folded = fold_hrf_into_ffn(&refs[..k], refs[k]).unwrap();
        assert_eq!((folded.out, folded.inp), (f, d));
        assert_eq!(folded.weight.len(), f * d);
        let x = rand_vec(&mut rng, rows * d, 1.0);
        let before = chain.forward(&x);
        let after = linear(&x, &folded.weight, Some(&folded.bias), f, d);
        assert_outputs_match(&format!("k = {k}, bias = {bias}"), &before, &after);
        if !bias {
            assert!(
                folded.bias.iter().all(|&b| b == 0.0),
                "no biases anywhere → zero bias"
            );
        }
    }

    #[test]
    fn hrf_into_ffn_preserves_outputs_k1() {
        check_chain(1, false);
        check_chain(1, true);
    }

    #[test]
    fn hrf_into_ffn_preserves_outputs_k2() {
        check_chain(2, false);
        check_chain(2, true);
    }

    #[test]
    fn hrf_into_ffn_preserves_outputs_k3() {
        check_chain(3, false);
        check_chain(3, true);
    }

    #[test]
    fn hrf_into_ffn_with_bias_on_some_layers_only() {
        let mut rng = Rng::new(7);
        let mut chain = Chain::random(&mut rng, 4, 8, 6, 2, true);
        chain.biases[1] = None; // H₂ without bias, H₁ and W1' with
        let refs = chain.refs();
        let folded = fold_hrf_into_ffn(&refs[..2], refs[2]).unwrap();
        let x = rand_vec(&mut rng, 3 * 4, 1.0);
        let after = linear(&x, &folded.weight, Some(&folded.bias), 6, 4);
        assert_outputs_match("mixed biases", &chain.forward(&x), &after);
    }

    #[test]
    fn hrf_into_ffn_matches_hand_computed_case() {
        // H = [[1, 2], [0, 1], [3, −1]] (3×2), b_H = (1, 0, −1); W1' = [[1, 0, 2]] (1×3), b1' = 0.5.
        // W1 = W1'·H = [1 + 6, 2 − 2] = [7, 0];  b1 = W1'·b_H + b1' = 1 − 2 + 0.5 = −0.5.
        let h = [1.0, 2.0, 0.0, 1.0, 3.0, -1.0];
        let bh = [1.0, 0.0, -1.0];
        let w1 = [1.0, 0.0, 2.0];
        let b1 = [0.5];
        let folded = fold_hrf_into_ffn(
            &[LinearRef::new("hrf.0", &h, Some(&bh), 3, 2)],
            LinearRef::new("ffn.w1", &w1, Some(&b1), 1, 3),
        )
        .unwrap();
        assert_eq!(folded.weight, [7.0, 0.0]);
        assert_eq!(folded.bias, [-0.5]);
    }

    #[test]
    fn hrf_into_ffn_reports_shape_mismatches() {
        let h = [0.0f32; 12];
        let w = [0.0f32; 10];
        // W1' reads 5 features but the chain produces 4.
        let err = fold_hrf_into_ffn(
            &[LinearRef::new("enc.0.ffn.hrf.0", &h, None, 4, 3)],
            LinearRef::new("enc.0.ffn.w1", &w, None, 2, 5),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold_hrf_into_ffn: `enc.0.ffn.hrf.0` is (4, 3) but `enc.0.ffn.w1` is (2, 5): each \
             layer's input width must equal the previous layer's output width (W: (out, in))"
        );
        // A buffer shorter than its declared shape.
        let err = fold_hrf_into_ffn(
            &[LinearRef::new("enc.0.ffn.hrf.0", &h[..11], None, 4, 3)],
            LinearRef::new("enc.0.ffn.w1", &w[..8], None, 2, 4),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold_hrf_into_ffn: `enc.0.ffn.hrf.0.weight` has 11 elements but its declared shape \
             (4, 3) needs 12; pass the buffer that matches the layout table"
        );
        let err =
            fold_hrf_into_ffn(&[], LinearRef::new("enc.0.ffn.w1", &w, None, 2, 5)).unwrap_err();
        assert!(
            err.to_string()
                .contains("the HRF chain in front of `enc.0.ffn.w1` is empty"),
            "{err}"
        );
    }
}
