//! Deploy-time folds: an eval-mode BatchNorm merged into the conv before it (Conformer's
//! depthwise conv → BatchNorm).
//!
//! In eval mode BatchNorm is a per-channel affine map of the conv output `c = conv(x) + b`:
//!
//! ```text
//! y = γ·(c − μ)/√(σ² + ε) + β = s·conv(x) + (s·(b − μ) + β),   s = γ/√(σ² + ε)
//! ```
//!
//! (`μ`, `σ²` the running mean and variance, PyTorch's `BatchNorm1d` in eval mode). Scaling an
//! output channel's kernel by `s` scales its output, so `W'[co] = s_co·W[co]` and
//! `b'_co = s_co·(b_co − μ_co) + β_co`. BatchNorm acts on each output frame alone, so the fold is
//! exact on every frame, including those the conv's zero padding reaches.
//!
//! Layout as the conv1d kernel (`kernels/conv1d.rs`): weight `(c_out, c_in / groups, k)`
//! row-major — for the depthwise conv `(c, 1, k)` — and bias `(c_out)`. Only the output channel
//! matters here, so any grouping works.

use std::vec::Vec;

use super::{FoldError, check_len, shape_string};

const FOLD: &str = "fold_batch_norm_into_conv";

/// A trained conv1d, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct ConvRef<'a> {
    /// Parameter name for error messages (e.g. `encoder.0.conv.depthwise`).
    pub name: &'a str,
    /// (c_out, in_per_group, kernel) — row-major; depthwise: (c, 1, k).
    pub weight: &'a [f32],
    /// (c_out) — `None` for a conv without bias.
    pub bias: Option<&'a [f32]>,
    /// Output channels `c_out`.
    pub channels_out: usize,
    /// Input channels each output reads: `c_in / groups` (1 for depthwise).
    pub in_per_group: usize,
    /// Kernel size `k`.
    pub kernel: usize,
}

impl ConvRef<'_> {
    pub(crate) fn check(&self, fold: &'static str) -> Result<(), FoldError> {
        check_len(fold, self.name, "weight", &self.shape(), self.weight.len())?;
        if let Some(b) = self.bias {
            check_len(fold, self.name, "bias", &[self.channels_out], b.len())?;
        }
        Ok(())
    }

    pub(crate) fn shape(&self) -> [usize; 3] {
        [self.channels_out, self.in_per_group, self.kernel]
    }
}

/// A trained BatchNorm's eval-mode parameters, borrowed. All buffers `(c)`.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormRef<'a> {
    /// Parameter name for error messages (e.g. `encoder.0.conv.bn`).
    pub name: &'a str,
    /// (c) — scale γ.
    pub gamma: &'a [f32],
    /// (c) — shift β.
    pub beta: &'a [f32],
    /// (c) — running mean μ.
    pub running_mean: &'a [f32],
    /// (c) — running variance σ² (as `kernels/batch_norm.rs` keeps it).
    pub running_var: &'a [f32],
    /// ε added to σ² under the square root.
    pub eps: f64,
}

/// A folded conv1d: same layout as [`ConvRef`], bias always present.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedConv {
    /// (c_out, in_per_group, kernel) — row-major.
    pub weight: Vec<f32>,
    /// (c_out)
    pub bias: Vec<f32>,
    pub channels_out: usize,
    pub in_per_group: usize,
    pub kernel: usize,
}

/// Folds eval-mode `bn` into the conv `conv` that precedes it. f64 arithmetic, one rounding.
pub fn fold_batch_norm_into_conv(
    conv: ConvRef<'_>,
    bn: BatchNormRef<'_>,
) -> Result<FoldedConv, FoldError> {
    conv.check(FOLD)?;
    let c = bn.gamma.len();
    for (part, buf) in [
        ("beta", bn.beta),
        ("running_mean", bn.running_mean),
        ("running_var", bn.running_var),
    ] {
        check_len(FOLD, bn.name, part, &[c], buf.len())?;
    }
    if c != conv.channels_out {
        return Err(FoldError::ShapeMismatch {
            fold: FOLD,
            left: conv.name.into(),
            left_shape: shape_string(&conv.shape()),
            right: bn.name.into(),
            right_shape: shape_string(&[c]),
            rule: "the BatchNorm must have one channel per conv output channel (weight (c_out, c_in/groups, k))",
        });
    }
    let per_out = conv.in_per_group * conv.kernel;
    let mut weight = Vec::with_capacity(conv.weight.len());
    let mut bias = Vec::with_capacity(c);
    for co in 0..c {
        let denom = bn.running_var[co] as f64 + bn.eps;
        if !(denom > 0.0 && denom.is_finite()) {
            return Err(FoldError::InvalidValue {
                fold: FOLD,
                tensor: std::format!("{}.running_var", bn.name),
                index: co,
                value: bn.running_var[co] as f64,
                rule: "gives σ² + ε ≤ 0 or non-finite; the running statistics are corrupt (retrain or \
                       recompute them)",
            });
        }
        // s = γ/√(σ² + ε)
        let s = bn.gamma[co] as f64 / denom.sqrt();
        for &w in &conv.weight[co * per_out..(co + 1) * per_out] {
            weight.push((s * w as f64) as f32);
        }
        let b = conv.bias.map_or(0.0, |b| b[co] as f64);
        // b' = s·(b − μ) + β
        bias.push((s * (b - bn.running_mean[co] as f64) + bn.beta[co] as f64) as f32);
    }
    Ok(FoldedConv {
        weight,
        bias,
        channels_out: c,
        in_per_group: conv.in_per_group,
        kernel: conv.kernel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::reference::{ConvGeom, assert_outputs_match, conv1d, rand_scales, rand_vec};
    use crate::testing::Rng;

    /// Eval-mode BatchNorm on `(frames, c)`.
    fn batch_norm_eval(x: &[f32], bn: &BatchNormRef<'_>) -> Vec<f32> {
        let c = bn.gamma.len();
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                let ch = i % c;
                bn.gamma[ch] * (v - bn.running_mean[ch])
                    / (bn.running_var[ch] + bn.eps as f32).sqrt()
                    + bn.beta[ch]
            })
            .collect()
    }

    #[test]
    fn batch_norm_into_conv_preserves_outputs() {
        // Depthwise conv (c = 6, k = 5, 'same' padding 2) then BN, on a padded utterance.
        let (c, k, frames, len) = (6, 5, 11, 9);
        let mut rng = Rng::new(33);
        let w = rand_vec(&mut rng, c * k, 1.0);
        let b = rand_vec(&mut rng, c, 0.5);
        let gamma = rand_scales(&mut rng, c, 0.3, 3.0);
        let beta = rand_vec(&mut rng, c, 1.0);
        let mean = rand_vec(&mut rng, c, 2.0);
        let var: Vec<f32> = rand_vec(&mut rng, c, 1.0)
            .iter()
            .map(|v| 0.05 + v * v * 4.0)
            .collect();
        let bn = BatchNormRef {
            name: "conv.bn",
            gamma: &gamma,
            beta: &beta,
            running_mean: &mean,
            running_var: &var,
            eps: 1e-5,
        };
        let geom = ConvGeom {
            c_in: c,
            c_out: c,
            kernel: k,
            stride: 1,
            padding: k / 2,
            groups: c,
        };
        let mut x = rand_vec(&mut rng, frames * c, 1.0);
        x[len * c..].fill(1e3); // garbage in the padding: the conv must not read it
        for bias in [Some(&b[..]), None] {
            let conv = ConvRef {
                name: "conv.depthwise",
                weight: &w,
                bias,
                channels_out: c,
                in_per_group: 1,
                kernel: k,
            };
            let folded = fold_batch_norm_into_conv(conv, bn).unwrap();
            let before = batch_norm_eval(&conv1d(&x, len, &w, bias, geom), &bn);
            let after = conv1d(&x, len, &folded.weight, Some(&folded.bias), geom);
            assert_outputs_match("depthwise conv → batch norm", &before, &after);
        }
    }

    #[test]
    fn batch_norm_into_standard_conv_preserves_outputs() {
        // The same per-output-channel math holds for a full conv (c_in = 3 → c_out = 4, stride 2).
        let (c_in, c_out, k) = (3, 4, 3);
        let mut rng = Rng::new(34);
        let w = rand_vec(&mut rng, c_out * c_in * k, 1.0);
        let gamma = rand_scales(&mut rng, c_out, 0.3, 3.0);
        let beta = rand_vec(&mut rng, c_out, 1.0);
        let mean = rand_vec(&mut rng, c_out, 2.0);
        let var = [0.5, 2.0, 0.1, 7.0];
        let bn = BatchNormRef {
            name: "bn",
            gamma: &gamma,
            beta: &beta,
            running_mean: &mean,
            running_var: &var,
            eps: 1e-3,
        };
        let conv = ConvRef {
            name: "conv",
            weight: &w,
            bias: None,
            channels_out: c_out,
            in_per_group: c_in,
            kernel: k,
        };
        let folded = fold_batch_norm_into_conv(conv, bn).unwrap();
        let geom = ConvGeom {
            c_in,
            c_out,
            kernel: k,
            stride: 2,
            padding: 1,
            groups: 1,
        };
        let x = rand_vec(&mut rng, 9 * c_in, 1.0);
        let before = batch_norm_eval(&conv1d(&x, 9, &w, None, geom), &bn);
        let after = conv1d(&x, 9, &folded.weight, Some(&folded.bias), geom);
        assert_outputs_match("conv → batch norm", &before, &after);
    }

    #[test]
    fn batch_norm_into_conv_reports_mismatches_and_bad_statistics() {
        let w = [0.0f32; 15];
        let conv = ConvRef {
            name: "enc.0.conv.dw",
            weight: &w,
            bias: None,
            channels_out: 5,
            in_per_group: 1,
            kernel: 3,
        };
        let ones = [1.0f32; 4];
        let bn = BatchNormRef {
            name: "enc.0.conv.bn",
            gamma: &ones,
            beta: &ones,
            running_mean: &ones,
            running_var: &ones,
            eps: 1e-5,
        };
        assert_eq!(
            fold_batch_norm_into_conv(conv, bn).unwrap_err().to_string(),
            "fold_batch_norm_into_conv: `enc.0.conv.dw` is (5, 1, 3) but `enc.0.conv.bn` is (4): \
             the BatchNorm must have one channel per conv output channel (weight (c_out, c_in/groups, k))"
        );
        let conv4 = ConvRef {
            weight: &w[..12],
            channels_out: 4,
            ..conv
        };
        let bad_var = [1.0, -2.0, 1.0, 1.0];
        let err = fold_batch_norm_into_conv(
            conv4,
            BatchNormRef {
                running_var: &bad_var,
                ..bn
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold_batch_norm_into_conv: `enc.0.conv.bn.running_var`[1] = -2 gives σ² + ε ≤ 0 or \
             non-finite; the running statistics are corrupt (retrain or recompute them)"
        );
        let err = fold_batch_norm_into_conv(
            ConvRef {
                weight: &w[..11],
                ..conv4
            },
            bn,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                FoldError::BufferLength {
                    expected: 12,
                    got: 11,
                    ..
                }
            ),
            "{err}"
        );
    }
}
