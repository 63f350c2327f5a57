//! Synthetic corpus, sanity check (`hrf synth --check`): prosodic statistics per clip →
//! leave-one-session-out nearest-centroid classifier → per-fold and mean UA.
//!
//! The corpus should be learnable but not trivial: a classifier this simple should land well
//! above chance (25% for 4 classes) and well below ceiling. Features are z-normalised with the
//! training folds' mean and standard deviation only.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::SynthError;
use super::pitch::{PitchConfig, PitchTracker};
use crate::datasets::load_manifest;
use crate::metrics::ConfusionMatrix;
use crate::wav::{TARGET_SAMPLE_RATE, load_mono_16k};

/// Number of prosodic statistics per clip.
pub const FEATURES: usize = 6;

/// Names of the statistics, in [`ProsodicFeatures::values`] order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "f0 mean (st re 100 Hz)",
    "f0 range p10-p90 (st)",
    "rms mean (dB)",
    "rms std (dB)",
    "duration (s)",
    "voiced fraction",
];

/// Frames quieter than this many dB below the clip's loudest frame are pauses, not speech.
const ACTIVE_FLOOR_DB: f64 = 40.0;

/// Simple prosodic statistics of one clip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProsodicFeatures {
    /// (FEATURES,) — see [`FEATURE_NAMES`]. F0 statistics are 0 for a clip with no voiced frame.
    pub values: [f64; FEATURES],
}

/// Computes the statistics from mono samples at `sample_rate`, with the tracker's framing
/// (40 ms frames, 10 ms hop) for both pitch and energy.
///
/// - F0 in semitones re 100 Hz, `12·log2(f0/100)`, over voiced frames: mean, and p90 − p10.
/// - Frame RMS in dB, `20·log10(rms + 1e-5)`, over active frames (within 40 dB of the loudest):
///   mean and standard deviation.
/// - Duration in seconds; voiced fraction = voiced frames / active frames.
pub fn prosodic_features(
    tracker: &PitchTracker,
    samples: &[f32],
    sample_rate: u32,
) -> ProsodicFeatures {
    let config = PitchConfig::speech(sample_rate);
    let n = (config.frame_s * f64::from(sample_rate)).round() as usize;
    let hop = (config.hop_s * f64::from(sample_rate)).round() as usize;
    let track = tracker.track(samples);
    let mut semitones: Vec<f64> = track
        .voiced()
        .map(|f0| 12.0 * (f0 / 100.0).log2())
        .collect();
    semitones.sort_by(f64::total_cmp);

    // (frames,) — frame RMS in dB, same frames as the pitch track.
    let rms_db: Vec<f64> = (0..track.f0_hz.len())
        .map(|t| {
            let frame = &samples[t * hop..t * hop + n];
            let power = frame
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>()
                / n as f64;
            20.0 * (power.sqrt() + 1e-5).log10()
        })
        .collect();
    let loudest = rms_db.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let active: Vec<f64> = rms_db
        .iter()
        .copied()
        .filter(|&db| db >= loudest - ACTIVE_FLOOR_DB)
        .collect();
    let (rms_mean, rms_std) = mean_std(&active);

    let (f0_mean, f0_range) = if semitones.is_empty() {
        (0.0, 0.0)
    } else {
        (
            mean_std(&semitones).0,
            percentile(&semitones, 0.9) - percentile(&semitones, 0.1),
        )
    };
    let voiced_fraction = if active.is_empty() {
        0.0
    } else {
        semitones.len() as f64 / active.len() as f64
    };
    ProsodicFeatures {
        values: [
            f0_mean,
            f0_range,
            rms_mean,
            rms_std,
            samples.len() as f64 / f64::from(sample_rate),
            voiced_fraction,
        ],
    }
}

/// (mean, population standard deviation); (0, 0) for an empty slice.
fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Linear-interpolated percentile `q` ∈ [0, 1] of sorted, non-empty `values`.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// One leave-one-session-out fold's result.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldResult {
    /// The held-out session.
    pub session: String,
    pub test_clips: usize,
    /// Unweighted accuracy (mean per-class recall) on the held-out session.
    pub ua: f64,
}

/// The outcome of the check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    pub classes: Vec<String>,
    pub folds: Vec<FoldResult>,
    /// Mean of the per-fold UAs (folds averaged, not pooled).
    pub mean_ua: f64,
    /// Confusion matrix pooled over all held-out sessions.
    pub confusion: ConfusionMatrix,
}

/// Leave-one-group-out nearest-centroid classification.
///
/// For each group `g`: z-normalise with the mean and standard deviation of the clips outside
/// `g`, average each class's training clips into a centroid, and predict each clip of `g` as
/// the class of the nearest centroid (Euclidean distance in z-space). Groups are visited in
/// sorted order. A class absent from a fold's training clips gets no centroid; a feature with
/// zero training variance is left unscaled.
///
/// Returns `(fold results, pooled confusion)`; inputs are parallel slices of equal length.
pub fn nearest_centroid_by_group(
    features: &[[f64; FEATURES]],
    labels: &[usize],
    groups: &[String],
    classes: usize,
) -> (Vec<FoldResult>, ConfusionMatrix) {
    let mut distinct: Vec<&String> = groups.iter().collect();
    distinct.sort();
    distinct.dedup();
    let mut pooled = ConfusionMatrix::new(classes);
    let mut folds = Vec::new();
    for held_out in distinct {
        let train: Vec<usize> = (0..features.len())
            .filter(|&i| &groups[i] != held_out)
            .collect();
        let test: Vec<usize> = (0..features.len())
            .filter(|&i| &groups[i] == held_out)
            .collect();

        let mut mean = [0.0; FEATURES];
        let mut std = [0.0; FEATURES];
        for k in 0..FEATURES {
            let column: Vec<f64> = train.iter().map(|&i| features[i][k]).collect();
            let (m, s) = mean_std(&column);
            mean[k] = m;
            std[k] = if s > 0.0 { s } else { 1.0 };
        }
        let z = |x: &[f64; FEATURES]| -> [f64; FEATURES] {
            std::array::from_fn(|k| (x[k] - mean[k]) / std[k])
        };

        // (classes, FEATURES) — class centroids in z-space; None for classes without training clips.
        let mut sums = vec![[0.0; FEATURES]; classes];
        let mut counts = vec![0usize; classes];
        for &i in &train {
            let zi = z(&features[i]);
            counts[labels[i]] += 1;
            sums[labels[i]]
                .iter_mut()
                .zip(zi)
                .for_each(|(s, v)| *s += v);
        }
        let centroids: Vec<Option<[f64; FEATURES]>> = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| (c > 0).then(|| s.map(|v| v / c as f64)))
            .collect();

        let truth: Vec<usize> = test.iter().map(|&i| labels[i]).collect();
        let predicted: Vec<usize> = test
            .iter()
            .map(|&i| {
                let zi = z(&features[i]);
                let distance = |c: &[f64; FEATURES]| {
                    c.iter().zip(zi).map(|(a, b)| (a - b).powi(2)).sum::<f64>()
                };
                centroids
                    .iter()
                    .enumerate()
                    .filter_map(|(class, c)| c.as_ref().map(|c| (class, distance(c))))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or(0, |(class, _)| class)
            })
            .collect();
        // Labels are < classes by construction, so the matrix always builds.
        if let Ok(matrix) = ConfusionMatrix::from_labels(classes, &truth, &predicted) {
            let _ = pooled.merge(&matrix);
            folds.push(FoldResult {
                session: held_out.clone(),
                test_clips: test.len(),
                ua: matrix.unweighted_accuracy().unwrap_or(0.0),
            });
        }
    }
    (folds, pooled)
}

/// Runs the check on the corpus whose manifest is `manifest`: features of every clip (in
/// parallel), then leave-one-session-out nearest centroid.
///
/// # Errors
/// [`SynthError::Corpus`] if the manifest cannot be loaded, has skipped rows or lacks sessions;
/// [`SynthError::Analysis`] naming a clip that cannot be read.
pub fn check_corpus(manifest: &Path, show_progress: bool) -> Result<CheckReport, SynthError> {
    let corpus_error = |reason: String| SynthError::Corpus {
        path: manifest.to_path_buf(),
        reason,
    };
    let dataset = load_manifest(manifest, None)
        .map_err(|e| corpus_error(format!("{e}; generate the corpus with `hrf synth`")))?;
    if let Some(skip) = dataset.skipped.first() {
        return Err(corpus_error(format!(
            "{} unusable rows, first at {}: {}; regenerate with `hrf synth --force`",
            dataset.skipped.len(),
            skip.location,
            skip.reason
        )));
    }
    let groups: Vec<String> = dataset
        .utterances
        .iter()
        .map(|u| {
            u.group
                .clone()
                .ok_or_else(|| corpus_error(format!("{} has no session column", u.id)))
        })
        .collect::<Result<_, _>>()?;
    if groups
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        < 2
    {
        return Err(corpus_error(
            "leave-one-session-out needs at least two sessions".to_owned(),
        ));
    }

    let progress = if show_progress {
        indicatif::ProgressBar::new(dataset.utterances.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let tracker = PitchTracker::new(PitchConfig::speech(TARGET_SAMPLE_RATE));
    let features: Vec<[f64; FEATURES]> = dataset
        .utterances
        .par_iter()
        .map(|u| {
            let samples = load_mono_16k(&u.path).map_err(|source| SynthError::Analysis {
                path: u.path.clone(),
                source,
            })?;
            progress.inc(1);
            Ok(prosodic_features(&tracker, &samples, TARGET_SAMPLE_RATE).values)
        })
        .collect::<Result<_, SynthError>>()?;
    progress.finish_and_clear();

    let labels: Vec<usize> = dataset.utterances.iter().map(|u| u.label).collect();
    let (folds, confusion) =
        nearest_centroid_by_group(&features, &labels, &groups, dataset.classes.len());
    let mean_ua = folds.iter().map(|f| f.ua).sum::<f64>() / folds.len().max(1) as f64;
    Ok(CheckReport {
        classes: dataset.classes,
        folds,
        mean_ua,
        confusion,
    })
}

/// The manifest path inside a corpus directory.
pub fn manifest_in(dir: &Path) -> PathBuf {
    dir.join(super::MANIFEST_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_centroid_hand_computed_case() {
        // Feature 0 separates the classes (class 0 near 0, class 1 near 10); the rest are 0.
        // Groups a and b: training on one group, testing on the other.
        let f = |x: f64| {
            let mut v = [0.0; FEATURES];
            v[0] = x;
            v
        };
        let features = [
            f(0.0),
            f(1.0),
            f(10.0),
            f(11.0),
            f(0.5),
            f(6.0),
            f(9.0),
            f(10.5),
        ];
        let labels = [0, 0, 1, 1, 0, 0, 1, 1];
        let groups: Vec<String> = ["a", "a", "a", "a", "b", "b", "b", "b"]
            .map(String::from)
            .into();
        let (folds, pooled) = nearest_centroid_by_group(&features, &labels, &groups, 2);
        // Fold a (train b: centroids 3.25, 9.75 in raw units, midpoint 6.5): 0,1 → 0; 10,11 → 1.
        // Fold b (train a: centroids 0.5, 10.5, midpoint 5.5): 0.5 → 0, 6 → 1 (wrong), 9, 10.5 → 1.
        // z-normalisation is affine per feature, so midpoints are unchanged by it.
        assert_eq!(folds.len(), 2);
        assert_eq!((folds[0].session.as_str(), folds[0].test_clips), ("a", 4));
        assert!((folds[0].ua - 1.0).abs() < 1e-12);
        // Class 0 recall 1/2, class 1 recall 2/2 → UA 0.75.
        assert!((folds[1].ua - 0.75).abs() < 1e-12);
        assert_eq!(pooled.count(0, 1), 1);
        assert_eq!(pooled.total(), 8);
    }

    #[test]
    fn features_of_a_steady_tone_are_hand_checkable() {
        // 1 s of a 200 Hz sine at amplitude 0.5, then 0.5 s of silence.
        let sr = 16_000;
        let mut samples: Vec<f32> = (0..sr)
            .map(|i| 0.5 * (std::f32::consts::TAU * 200.0 * i as f32 / sr as f32).sin())
            .collect();
        samples.extend(std::iter::repeat_n(0.0, sr as usize / 2));
        let tracker = PitchTracker::new(PitchConfig::speech(sr));
        let v = prosodic_features(&tracker, &samples, sr).values;
        // 12·log2(200/100) = 12 st, no range.
        assert!((v[0] - 12.0).abs() < 0.01, "{v:?}");
        assert!(v[1].abs() < 0.01, "{v:?}");
        // RMS of a 0.5 sine = 0.5/√2 → 20·log10(0.35355) = −9.03 dB; frames straddling the
        // silence edge are a little quieter, so the mean sits just below and the std is small.
        assert!((v[2] + 9.03).abs() < 0.6, "{v:?}");
        assert!(v[3] < 3.0, "{v:?}");
        assert!((v[4] - 1.5).abs() < 1e-9, "{v:?}");
        // Silent frames are inactive (−100 dB); every active frame but the edge ones is voiced.
        assert!(v[5] > 0.9 && v[5] <= 1.0, "{v:?}");
    }
}
