//! Cepstral mean and variance normalisation: global statistics from the training split, and
//! the per-utterance variant.

use super::Features;
use crate::AudioError;
use serde::{Deserialize, Serialize};

/// Per-bin mean and standard deviation of a set of utterances, for global CMVN
/// `z[t,i] = (x[t,i] − mean[i]) / std[i]`.
///
/// Compute it from the TRAINING split only: statistics that have seen validation or test
/// utterances leak them into the model. At deploy time hrf folds `mean`/`std` into the first
/// layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    /// (bins,)
    pub mean: Vec<f32>,
    /// (bins,) — population standard deviation, at least the floor given at construction.
    pub std: Vec<f32>,
    /// Number of frames the statistics were computed from.
    pub frames: u64,
}

impl FeatureStats {
    /// Std floor suitable for log-Mel features: a bin that is constant on the training set
    /// (e.g. always at the log floor) is centred but not blown up.
    pub const DEFAULT_STD_FLOOR: f32 = 1e-3;

    /// Computes per-bin statistics over every frame of `training` (the training split only).
    ///
    /// Welford's update in f64 per bin — `n += 1; δ = x − μ; μ += δ/n; M₂ += δ·(x − μ)` — then
    /// `σ = max(√(M₂/n), std_floor)`. Numerically stable even when |μ| ≫ σ.
    ///
    /// # Errors
    /// [`AudioError::Cmvn`] if there are no frames, the utterances disagree on the bin count,
    /// or `std_floor` is not positive.
    pub fn from_training<'a>(
        training: impl IntoIterator<Item = &'a Features>,
        std_floor: f32,
    ) -> Result<Self, AudioError> {
        let cmvn_error = |reason: String| AudioError::Cmvn { reason };
        if !(std_floor.is_finite() && std_floor > 0.0) {
            return Err(cmvn_error(format!(
                "std floor {std_floor} must be finite and positive"
            )));
        }
        let mut bins = None;
        let mut n = 0u64;
        let (mut mean, mut m2) = (Vec::new(), Vec::new()); // (bins,) each, f64
        for (u, features) in training.into_iter().enumerate() {
            let expected = *bins.get_or_insert(features.bins);
            if features.bins != expected {
                return Err(cmvn_error(format!(
                    "utterance {u} has {} bins, earlier ones have {expected}",
                    features.bins
                )));
            }
            if mean.is_empty() {
                mean = vec![0.0f64; expected];
                m2 = vec![0.0f64; expected];
            }
            for (t, row) in features.rows().enumerate() {
                // One NaN or ∞ would make its bin's statistics (and every normalised frame)
                // non-finite: refuse it here, where it enters.
                if let Some(i) = row.iter().position(|x| !x.is_finite()) {
                    return Err(cmvn_error(format!(
                        "training utterance {u}, frame {t}, feature bin {i} is {}; its features \
                         are corrupt — delete the feature cache (it is rebuilt from the audio) \
                         and check that utterance's audio",
                        row[i]
                    )));
                }
                n += 1;
                let inv_n = 1.0 / n as f64;
                for ((mu, s), &x) in mean.iter_mut().zip(m2.iter_mut()).zip(row) {
                    let x = f64::from(x);
                    let delta = x - *mu;
                    *mu += delta * inv_n;
                    *s += delta * (x - *mu);
                }
            }
        }
        if n == 0 {
            return Err(cmvn_error(
                "the training set has no frames; pass the training split's features".to_owned(),
            ));
        }
        let floor = f64::from(std_floor);
        let stats = Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: m2
                .iter()
                .map(|&s| (s / n as f64).sqrt().max(floor) as f32)
                .collect(),
            frames: n,
        };
        stats.check_finite()?;
        Ok(stats)
    }

    /// `Err` naming the first feature bin whose mean is non-finite or whose std is not a
    /// finite positive number (statistics built or edited by hand; `from_training` refuses
    /// non-finite features before they reach the sums).
    ///
    /// # Errors
    /// [`AudioError::Cmvn`] naming the bin and the value.
    pub fn check_finite(&self) -> Result<(), AudioError> {
        let bad_mean = self.mean.iter().position(|m| !m.is_finite());
        let bad_std = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0));
        let (what, i, v) = match (bad_mean, bad_std) {
            (Some(i), _) => ("mean", i, self.mean[i]),
            (None, Some(i)) => ("std", i, self.std[i]),
            (None, None) => return Ok(()),
        };
        Err(AudioError::Cmvn {
            reason: format!(
                "the {what} of feature bin {i} is {v}, not a usable statistic; the training \
                 features hold absurd values — delete the feature cache (it is rebuilt from the \
                 audio) and check the training audio"
            ),
        })
    }

    /// Normalises `features` in place: `x ← (x − mean) / std`.
    ///
    /// # Errors
    /// [`AudioError::Cmvn`] if the bin counts differ.
    pub fn apply(&self, features: &mut Features) -> Result<(), AudioError> {
        if features.bins != self.mean.len() {
            return Err(AudioError::Cmvn {
                reason: format!(
                    "features have {} bins but the statistics have {}; recompute them with the \
                     same front-end config",
                    features.bins,
                    self.mean.len()
                ),
            });
        }
        let inv_std: Vec<f32> = self.std.iter().map(|s| 1.0 / s).collect();
        for row in features.data.chunks_exact_mut(self.mean.len()) {
            for ((x, m), r) in row.iter_mut().zip(&self.mean).zip(&inv_std) {
                *x = (*x - m) * r;
            }
        }
        Ok(())
    }
}

/// Per-utterance CMVN: `z[t,i] = (x[t,i] − μ_i) / (σ_i + eps)`, with the mean and population
/// std of bin `i` taken over this utterance's frames (the recipe of frontend-golden.md uses
/// eps = 1e-5). Needs no training statistics; computed in f64.
pub fn per_utterance_cmvn(features: &Features, eps: f32) -> Features {
    let bins = features.bins;
    let n = features.frames.max(1) as f64;
    let mut mean = vec![0.0f64; bins]; // (bins,)
    let mut var = vec![0.0f64; bins]; // (bins,)
    for row in features.rows() {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, &x)| *m += f64::from(x) / n);
    }
    for row in features.rows() {
        for ((v, m), &x) in var.iter_mut().zip(&mean).zip(row) {
            *v += (f64::from(x) - m).powi(2) / n;
        }
    }
    let scale: Vec<f64> = var
        .iter()
        .map(|v| 1.0 / (v.sqrt() + f64::from(eps)))
        .collect();
    let mut out = features.clone();
    for row in out.data.chunks_exact_mut(bins.max(1)) {
        for ((x, m), s) in row.iter_mut().zip(&mean).zip(&scale) {
            *x = ((f64::from(*x) - m) * s) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feats(rows: &[&[f32]]) -> Features {
        Features {
            frames: rows.len(),
            bins: rows[0].len(),
            data: rows.concat(),
        }
    }

    #[test]
    fn global_stats_by_hand() {
        // Bin 0 over frames {1, 3, 5, 7}: mean 4, population var (9+1+1+9)/4 = 5.
        // Bin 1 is constant 2: std 0 → floor.
        let a = feats(&[&[1.0, 2.0], &[3.0, 2.0]]);
        let b = feats(&[&[5.0, 2.0], &[7.0, 2.0]]);
        let stats = FeatureStats::from_training([&a, &b], 0.5).expect("stats");
        assert_eq!(stats.frames, 4);
        assert_eq!(stats.mean, vec![4.0, 2.0]);
        assert!((stats.std[0] - 5f32.sqrt()).abs() < 1e-6);
        assert_eq!(stats.std[1], 0.5);
        let mut c = feats(&[&[4.0 + 5f32.sqrt(), 3.0]]);
        stats.apply(&mut c).expect("apply");
        assert!((c.data[0] - 1.0).abs() < 1e-6 && (c.data[1] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn welford_is_stable_with_a_large_offset() {
        // x = 1e4 + {−1, +1} repeated: naive E[x²] − E[x]² in f32 would lose the variance.
        let rows: Vec<[f32; 1]> = (0..1_000)
            .map(|i| [1e4 + if i % 2 == 0 { -1.0 } else { 1.0 }])
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| &r[..]).collect();
        let stats = FeatureStats::from_training([&feats(&refs)], 1e-6).expect("stats");
        assert!((stats.std[0] - 1.0).abs() < 1e-6, "{}", stats.std[0]);
        assert!((stats.mean[0] - 1e4).abs() < 1e-3);
    }

    #[test]
    fn errors_are_explained() {
        let empty: [&Features; 0] = [];
        assert_eq!(
            FeatureStats::from_training(empty, 1e-3)
                .expect_err("empty")
                .to_string(),
            "CMVN statistics: the training set has no frames; pass the training \
             split's features"
        );
        let a = feats(&[&[1.0, 2.0]]);
        let b = feats(&[&[1.0, 2.0, 3.0]]);
        assert!(FeatureStats::from_training([&a, &b], 1e-3).is_err());
        let stats = FeatureStats::from_training([&a], 1e-3).expect("stats");
        let mut wrong = b.clone();
        assert!(
            stats
                .apply(&mut wrong)
                .expect_err("bins")
                .to_string()
                .contains("3 bins")
        );
    }

    #[test]
    fn non_finite_features_and_statistics_are_refused_naming_the_bin() {
        let nan = feats(&[&[1.0, 2.0], &[3.0, f32::NAN]]);
        let err = FeatureStats::from_training([&nan], 1e-3).unwrap_err();
        assert_eq!(
            err.to_string(),
            AudioError::Cmvn {
                reason: "training utterance 0, frame 1, feature bin 1 is NaN; its features are \
                         corrupt — delete the feature cache (it is rebuilt from the audio) and \
                         check that utterance's audio"
                    .to_owned()
            }
            .to_string()
        );
        let stats = FeatureStats {
            mean: vec![0.0, f32::INFINITY],
            std: vec![1.0, 1.0],
            frames: 2,
        };
        assert!(
            stats
                .check_finite()
                .unwrap_err()
                .to_string()
                .contains("the mean of feature bin 1 is inf")
        );
    }

    #[test]
    fn per_utterance_by_hand() {
        // Bin 0 over frames [1, 3]: mean 2, std 1 → [−1/(1+eps), 1/(1+eps)]; bin 1 constant → 0.
        let z = per_utterance_cmvn(&feats(&[&[1.0, 5.0], &[3.0, 5.0]]), 1e-5);
        assert_eq!((z.data[1], z.data[3]), (0.0, 0.0));
        let z = Features {
            frames: 2,
            bins: 1,
            data: vec![z.data[0], z.data[2]],
        };
        assert!(
            (z.data[0] + 1.0 / 1.00001).abs() < 1e-7 && (z.data[1] - 1.0 / 1.00001).abs() < 1e-7
        );
    }
}
