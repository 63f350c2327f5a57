//! Deploy-time folds: global CMVN (per-bin mean and std of the training split) merged into the
//! first frontend conv, so the deployed model reads raw log-Mel frames.
//!
//! Training normalises each bin, `x̂[r][ci] = (x[r][ci] − μ_ci)/σ_ci`, then runs the conv
//! (`kernels/conv1d.rs` layout: `W: (c_out, c_in, k)`, frames outside `0..len` read as zero):
//!
//! ```text
//! out[o][co] = b_co + Σ_{ci,kk} W[co][ci][kk] · x̂[o·s − p + kk][ci]
//! ```
//!
//! With `W'[co][ci][kk] = W[co][ci][kk]/σ_ci`, `e[co][kk] = Σ_ci W[co][ci][kk]·μ_ci/σ_ci` (the
//! "edge bias" of tap `kk`) and `b'_co = b_co − Σ_kk e[co][kk]`, the folded conv on raw `x` gives
//!
//! ```text
//! out'[o][co] = out[o][co] − Σ_{kk reading outside 0..len} e[co][kk]
//! ```
//!
//! **The zero padding breaks exactness at the edges.** A tap that reads outside `0..len` sees
//! `x̂ = 0` in training (i.e. `x = μ`) but `x = 0` after folding (i.e. `x̂ = −μ/σ`). So:
//! - with padding `p = 0` the fold alone is exact: every tap of every valid output reads a valid
//!   frame (`(out_len − 1)·s + k − 1 ≤ len − 1`);
//! - with `p > 0` the outputs whose receptive field crosses either edge (the first `⌈p/s⌉` and the
//!   last few valid outputs; the right edge is at each utterance's own `len`) are off by the sum of
//!   their outside taps' `e`. [`correct_input_conv_edges`] adds that back after the folded conv
//!   and before its activation, making the fold exact on every output; equivalently, pad the raw
//!   features with `μ` instead of zero.

use std::vec::Vec;

use super::batch_norm_into_conv::{ConvRef, FoldedConv};
use super::{FoldError, check_len, shape_string};
use crate::kernels::conv1d::Conv1dDims;

const FOLD: &str = "fold_feature_stats_into_input";

/// Global CMVN statistics, borrowed: `x̂ = (x − mean)/std` per feature bin.
#[derive(Clone, Copy, Debug)]
pub struct FeatureStatsRef<'a> {
    /// Name for error messages (e.g. `feature_stats`).
    pub name: &'a str,
    /// (features) — per-bin mean μ.
    pub mean: &'a [f32],
    /// (features) — per-bin standard deviation σ > 0.
    pub std: &'a [f32],
}

/// The first conv with CMVN folded in, plus what exactness at padded edges needs.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedInputConv {
    /// `W' = W/σ` (per input channel) and `b' = b − Σ_kk e[·][kk]`.
    pub conv: FoldedConv,
    /// (c_out, k) — `e[co][kk] = Σ_ci W[co][ci][kk]·μ_ci/σ_ci`, the per-tap correction of
    /// [`correct_input_conv_edges`] (unused when the conv has no padding).
    pub edge_bias: Vec<f32>,
}

/// Folds `stats` into the first conv `conv` (a standard conv, `in_per_group = c_in = features`).
/// f64 accumulation, one rounding per output value.
pub fn fold_feature_stats_into_input(
    stats: FeatureStatsRef<'_>,
    conv: ConvRef<'_>,
) -> Result<FoldedInputConv, FoldError> {
    conv.check(FOLD)?;
    let features = stats.mean.len();
    check_len(FOLD, stats.name, "std", &[features], stats.std.len())?;
    if conv.in_per_group != features {
        return Err(FoldError::ShapeMismatch {
            fold: FOLD,
            left: stats.name.into(),
            left_shape: shape_string(&[features]),
            right: conv.name.into(),
            right_shape: shape_string(&conv.shape()),
            rule: "the first conv must read every feature bin (weight (c_out, features, k), groups = 1)",
        });
    }
    for (i, &s) in stats.std.iter().enumerate() {
        if !(s.is_finite() && s > 0.0) {
            return Err(FoldError::InvalidValue {
                fold: FOLD,
                tensor: std::format!("{}.std", stats.name),
                index: i,
                value: s as f64,
                rule: "must be finite and > 0; floor the std when computing the statistics \
                       (a constant bin has std 0)",
            });
        }
    }
    let (c_out, k) = (conv.channels_out, conv.kernel);
    let mut weight = Vec::with_capacity(conv.weight.len());
    let mut edge = std::vec![0.0f64; c_out * k];
    for co in 0..c_out {
        for ci in 0..features {
            let inv_std = 1.0 / stats.std[ci] as f64;
            let mu_over_std = stats.mean[ci] as f64 * inv_std;
            for kk in 0..k {
                let w = conv.weight[(co * features + ci) * k + kk] as f64;
                weight.push((w * inv_std) as f32);
                edge[co * k + kk] += w * mu_over_std;
            }
        }
    }
    let bias = (0..c_out)
        .map(|co| {
            let b = conv.bias.map_or(0.0, |b| b[co] as f64);
            (b - edge[co * k..(co + 1) * k].iter().sum::<f64>()) as f32
        })
        .collect();
    Ok(FoldedInputConv {
        conv: FoldedConv {
            weight,
            bias,
            channels_out: c_out,
            in_per_group: features,
            kernel: k,
        },
        edge_bias: edge.iter().map(|&e| e as f32).collect(),
    })
}

/// Makes the folded first conv exact at the padded edges: adds `e[co][kk]` of every tap that
/// reads outside `0..len` to the valid outputs of one utterance.
///
/// - `out: (t_out, c_out)` — the folded conv's output (before its activation), modified in place
///   on the first `⌈p/s⌉` and the last few of its `dims.out_len(len)` valid rows;
/// - `edge_bias: (c_out, k)` — [`FoldedInputConv::edge_bias`];
/// - `len` valid input frames; `dims` the conv's geometry.
///
/// A no-op when `dims.padding = 0`. Never allocates; lengths are only `debug_assert!`ed.
pub fn correct_input_conv_edges(out: &mut [f32], edge_bias: &[f32], len: usize, dims: Conv1dDims) {
    let (c_out, k, s, p) = (dims.channels_out, dims.kernel, dims.stride, dims.padding);
    let n_out = dims.out_len(len);
    debug_assert!(out.len() >= n_out * c_out && edge_bias.len() == c_out * k);
    // Output o reads frames o·s − p + kk. Left edge: o·s < p. Right edge: o·s − p + k − 1 ≥ len.
    let left_end = p.div_ceil(s).min(n_out);
    let right_start = (len + p + 1)
        .saturating_sub(k)
        .div_ceil(s)
        .clamp(left_end, n_out);
    for o in (0..left_end).chain(right_start..n_out) {
        let row = &mut out[o * c_out..(o + 1) * c_out];
        for kk in 0..k {
            let outside = (o * s + kk).checked_sub(p).is_none_or(|r| r >= len);
            if outside {
                for (co, y) in row.iter_mut().enumerate() {
                    *y += edge_bias[co * k + kk];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::reference::{
        ConvGeom, assert_outputs_differ, assert_outputs_match, conv1d, rand_scales, rand_vec,
    };
    use crate::testing::Rng;

    /// Raw log-Mel-like frames `(frames, features)` with per-bin offsets and spreads, the CMVN
    /// statistics, and a random first conv.
    struct Case {
        x: Vec<f32>,
        mean: Vec<f32>,
        std: Vec<f32>,
        w: Vec<f32>,
        b: Vec<f32>,
    }

    fn case(seed: u64, frames: usize, features: usize, c_out: usize, k: usize) -> Case {
        let mut rng = Rng::new(seed);
        let mean: Vec<f32> = rand_vec(&mut rng, features, 3.0)
            .iter()
            .map(|m| m - 5.0)
            .collect();
        let std = rand_scales(&mut rng, features, 0.3, 3.0)
            .iter()
            .map(|s| s.abs())
            .collect::<Vec<_>>();
        let z = rand_vec(&mut rng, frames * features, 1.7);
        let x = z
            .iter()
            .enumerate()
            .map(|(i, z)| mean[i % features] + std[i % features] * z)
            .collect();
        let w = rand_vec(
            &mut rng,
            c_out * features * k,
            1.0 / ((features * k) as f64).sqrt(),
        );
        let b = rand_vec(&mut rng, c_out, 0.5);
        Case { x, mean, std, w, b }
    }

    /// The training-time path: CMVN on the valid frames, then the conv (zero outside `0..len`).
    fn before(c: &Case, len: usize, g: ConvGeom) -> Vec<f32> {
        let f = c.mean.len();
        let xn: Vec<f32> =
            c.x.iter()
                .enumerate()
                .map(|(i, v)| (v - c.mean[i % f]) / c.std[i % f])
                .collect();
        conv1d(&xn, len, &c.w, Some(&c.b), g)
    }

    fn fold(c: &Case, g: ConvGeom) -> FoldedInputConv {
        let stats = FeatureStatsRef {
            name: "feature_stats",
            mean: &c.mean,
            std: &c.std,
        };
        let conv = ConvRef {
            name: "frontend.conv.0",
            weight: &c.w,
            bias: Some(&c.b),
            channels_out: g.c_out,
            in_per_group: g.c_in,
            kernel: g.kernel,
        };
        fold_feature_stats_into_input(stats, conv).unwrap()
    }

    fn dims(g: ConvGeom, frames: usize) -> Conv1dDims {
        Conv1dDims {
            frames,
            channels_in: g.c_in,
            channels_out: g.c_out,
            kernel: g.kernel,
            stride: g.stride,
            padding: g.padding,
        }
    }

    #[test]
    fn feature_stats_into_input_is_exact_without_padding() {
        // Frontend-like conv, k = 3, stride 2, no padding: the fold alone is exact.
        let g = ConvGeom {
            c_in: 6,
            c_out: 5,
            kernel: 3,
            stride: 2,
            padding: 0,
            groups: 1,
        };
        let c = case(41, 13, 6, 5, 3);
        let f = fold(&c, g);
        for len in [13, 10, 3] {
            let mut after = conv1d(&c.x, len, &f.conv.weight, Some(&f.conv.bias), g);
            assert_outputs_match(
                &std::format!("p = 0, len {len}"),
                &before(&c, len, g),
                &after,
            );
            // …and the edge correction has nothing to do.
            let untouched = after.clone();
            correct_input_conv_edges(&mut after, &f.edge_bias, len, dims(g, 13));
            assert_eq!(after, untouched);
        }
    }

    #[test]
    fn feature_stats_into_input_with_padding_is_exact_after_edge_correction() {
        for (g, seed) in [
            (
                ConvGeom {
                    c_in: 6,
                    c_out: 5,
                    kernel: 3,
                    stride: 2,
                    padding: 1,
                    groups: 1,
                },
                42,
            ),
            (
                ConvGeom {
                    c_in: 4,
                    c_out: 3,
                    kernel: 5,
                    stride: 1,
                    padding: 2,
                    groups: 1,
                },
                43,
            ),
            (
                ConvGeom {
                    c_in: 4,
                    c_out: 3,
                    kernel: 4,
                    stride: 3,
                    padding: 3,
                    groups: 1,
                },
                44,
            ),
        ] {
            let frames = 12;
            let c = case(seed, frames, g.c_in, g.c_out, g.kernel);
            let f = fold(&c, g);
            // Full buffer, a shorter (padded) utterance, and one shorter than the kernel reach.
            for len in [frames, 9, 2] {
                let what = std::format!("{g:?}, len {len}");
                let want = before(&c, len, g);
                let mut after = conv1d(&c.x, len, &f.conv.weight, Some(&f.conv.bias), g);
                // Uncorrected, the edges are visibly off: zero padding of raw x is not x̂ = 0…
                assert_outputs_differ(&what, &want, &after);
                // …but the interior outputs (every tap inside 0..len) already match.
                let n_out = g.out_len(len);
                for o in 0..n_out {
                    let first = (o * g.stride) as isize - g.padding as isize;
                    if first >= 0 && (first as usize) + g.kernel <= len {
                        let r = o * g.c_out..(o + 1) * g.c_out;
                        assert_outputs_match(&what, &want[r.clone()], &after[r]);
                    }
                }
                correct_input_conv_edges(&mut after, &f.edge_bias, len, dims(g, frames));
                assert_outputs_match(&what, &want, &after);
            }
        }
    }

    #[test]
    fn feature_stats_into_input_reports_mismatches_and_bad_std() {
        let w = [0.0f32; 2 * 3 * 3];
        let conv = ConvRef {
            name: "frontend.conv.0",
            weight: &w,
            bias: None,
            channels_out: 2,
            in_per_group: 3,
            kernel: 3,
        };
        let stats = FeatureStatsRef {
            name: "feature_stats",
            mean: &[0.0; 4],
            std: &[1.0; 4],
        };
        assert_eq!(
            fold_feature_stats_into_input(stats, conv)
                .unwrap_err()
                .to_string(),
            "fold_feature_stats_into_input: `feature_stats` is (4) but `frontend.conv.0` is \
             (2, 3, 3): the first conv must read every feature bin (weight (c_out, features, k), groups = 1)"
        );
        let stats = FeatureStatsRef {
            name: "feature_stats",
            mean: &[0.0; 3],
            std: &[1.0, 0.0, 1.0],
        };
        assert_eq!(
            fold_feature_stats_into_input(stats, conv)
                .unwrap_err()
                .to_string(),
            "fold_feature_stats_into_input: `feature_stats.std`[1] = 0 must be finite and > 0; \
             floor the std when computing the statistics (a constant bin has std 0)"
        );
        let stats = FeatureStatsRef {
            name: "feature_stats",
            mean: &[0.0; 3],
            std: &[1.0; 2],
        };
        assert!(matches!(
            fold_feature_stats_into_input(stats, conv),
            Err(FoldError::BufferLength {
                expected: 3,
                got: 2,
                ..
            })
        ));
    }
}
