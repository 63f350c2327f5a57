//! Deploy-time folds: a pre-LN's affine (γ, β) merged into the linear layer(s) reading it.
//!
//! Layer norm is `y = γ ⊙ n + β` with `n = (x − μ)/√(σ² + ε)`; a linear reading `y` computes
//!
//! ```text
//! z = W·y + b = W·(γ ⊙ n) + W·β + b = (W·diag γ)·n + (W·β + b)
//! ```
//!
//! so `W' = W·diag(γ)` (column `i` of `W` scaled by `γᵢ`) and `b' = W·β + b`. After the fold the
//! layer norm keeps only its normalisation: the folded model runs it with `γ = 1`, `β = 0`.
//! Several linears may read the same LN output (Q, K and V; or an FFN and a HRF chain's first
//! layer): each gets its own folded copy, so the fold is exact only if *every* reader of that LN
//! output is passed here.

use std::vec::Vec;

use super::{FoldError, FoldedLinear, LinearRef, check_len, shape_string};

const FOLD: &str = "fold_layer_norm_into_linear";

/// A trained layer norm's affine, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct LayerNormRef<'a> {
    /// Parameter name for error messages (e.g. `encoder.0.ln_ffn`).
    pub name: &'a str,
    /// (dim) — scale γ.
    pub gamma: &'a [f32],
    /// (dim) — shift β.
    pub beta: &'a [f32],
}

/// Folds `norm`'s γ and β into each of `linears` (every linear must read `norm`'s output, so
/// `inp = dim`). Returns one folded linear per input, in order. f64 accumulation, one rounding.
pub fn fold_layer_norm_into_linear(
    norm: LayerNormRef<'_>,
    linears: &[LinearRef<'_>],
) -> Result<Vec<FoldedLinear>, FoldError> {
    let dim = norm.gamma.len();
    check_len(FOLD, norm.name, "beta", &[dim], norm.beta.len())?;
    let mut folded = Vec::with_capacity(linears.len());
    for lin in linears {
        lin.check(FOLD)?;
        if lin.inp != dim {
            return Err(FoldError::ShapeMismatch {
                fold: FOLD,
                left: norm.name.into(),
                left_shape: shape_string(&[dim]),
                right: lin.name.into(),
                right_shape: lin.shape(),
                rule: "a linear reading the layer norm's output must have in = dim (W: (out, in))",
            });
        }
        let mut weight = Vec::with_capacity(lin.out * dim);
        let mut bias = Vec::with_capacity(lin.out);
        for o in 0..lin.out {
            let row = &lin.weight[o * dim..(o + 1) * dim];
            // b'ₒ = Σᵢ Wₒᵢ·βᵢ + bₒ
            let mut acc = lin.bias.map_or(0.0, |b| b[o] as f64);
            for ((&w, &g), &b) in row.iter().zip(norm.gamma).zip(norm.beta) {
                acc += w as f64 * b as f64;
                // W'ₒᵢ = Wₒᵢ·γᵢ (one product: exact in f64, rounded once)
                weight.push((w as f64 * g as f64) as f32);
            }
            bias.push(acc as f32);
        }
        folded.push(FoldedLinear {
            weight,
            bias,
            out: lin.out,
            inp: dim,
        });
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::reference::{assert_outputs_match, layer_norm, linear, rand_scales, rand_vec};
    use crate::testing::Rng;
    use std::vec;

    const LN_EPS: f32 = 1e-5;

    #[test]
    fn layer_norm_into_linear_preserves_outputs() {
        // One LN feeding Q, K and V (biased, unbiased, biased) of different widths.
        let (dim, rows) = (8, 5);
        let mut rng = Rng::new(21);
        let gamma = rand_scales(&mut rng, dim, 0.3, 3.0);
        let beta = rand_vec(&mut rng, dim, 1.5);
        let outs = [8, 8, 6];
        let weights: Vec<Vec<f32>> = outs
            .iter()
            .map(|&o| rand_vec(&mut rng, o * dim, 1.0))
            .collect();
        let biases = [
            Some(rand_vec(&mut rng, 8, 0.5)),
            None,
            Some(rand_vec(&mut rng, 6, 0.5)),
        ];
        let names = ["attn.q", "attn.k", "attn.v"];
        let linears: Vec<LinearRef<'_>> = (0..3)
            .map(|i| LinearRef::new(names[i], &weights[i], biases[i].as_deref(), outs[i], dim))
            .collect();
        let norm = LayerNormRef {
            name: "ln_attn",
            gamma: &gamma,
            beta: &beta,
        };
        let folded = fold_layer_norm_into_linear(norm, &linears).unwrap();
        assert_eq!(folded.len(), 3);

        // Inputs with a large offset, so normalisation matters.
        let x: Vec<f32> = rand_vec(&mut rng, rows * dim, 2.0)
            .iter()
            .map(|v| v + 3.0)
            .collect();
        let normed = layer_norm(&x, &gamma, &beta, LN_EPS);
        let plain = layer_norm(&x, &vec![1.0; dim], &vec![0.0; dim], LN_EPS);
        for (lin, f) in linears.iter().zip(&folded) {
            let before = linear(&normed, lin.weight, lin.bias, lin.out, dim);
            let after = linear(&plain, &f.weight, Some(&f.bias), f.out, dim);
            assert_outputs_match(lin.name, &before, &after);
        }
    }

    #[test]
    fn layer_norm_into_linear_matches_hand_computed_case() {
        // W = [[1, 2], [−1, 0.5]], b = (0, 1), γ = (2, −3), β = (0.5, 1)
        // W' = [[2, −6], [−2, −1.5]];  b' = (0.5 + 2, −0.5 + 0.5 + 1) = (2.5, 1)
        let w = [1.0, 2.0, -1.0, 0.5];
        let b = [0.0, 1.0];
        let norm = LayerNormRef {
            name: "ln",
            gamma: &[2.0, -3.0],
            beta: &[0.5, 1.0],
        };
        let f = fold_layer_norm_into_linear(norm, &[LinearRef::new("lin", &w, Some(&b), 2, 2)])
            .unwrap();
        assert_eq!(f[0].weight, [2.0, -6.0, -2.0, -1.5]);
        assert_eq!(f[0].bias, [2.5, 1.0]);
    }

    #[test]
    fn layer_norm_into_linear_reports_shape_mismatches() {
        let w = [0.0f32; 12];
        let norm = LayerNormRef {
            name: "enc.1.ln_ffn",
            gamma: &[1.0; 4],
            beta: &[0.0; 4],
        };
        let err =
            fold_layer_norm_into_linear(norm, &[LinearRef::new("enc.1.ffn.w1", &w, None, 4, 3)])
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold_layer_norm_into_linear: `enc.1.ln_ffn` is (4) but `enc.1.ffn.w1` is (4, 3): a \
             linear reading the layer norm's output must have in = dim (W: (out, in))"
        );
        let short = LayerNormRef {
            name: "enc.1.ln_ffn",
            gamma: &[1.0; 4],
            beta: &[0.0; 3],
        };
        let err = fold_layer_norm_into_linear(short, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold_layer_norm_into_linear: `enc.1.ln_ffn.beta` has 3 elements but its declared \
             shape (4) needs 4; pass the buffer that matches the layout table"
        );
    }
}
