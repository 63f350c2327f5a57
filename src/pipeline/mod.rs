//! CLI data stage: `--data` → corpus with the model's class order → cached log-Mel features per
//! utterance → one protocol fold's train/val/test sets, CMVN statistics from the training side
//! only, and centre-cropped frames for the model.

mod features;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hrf_audio::datasets::{DataKind, DataSource, Dataset, Evaluation, Fold};
use hrf_audio::features::{FeatureStats, Features};

pub use features::extract_features;

/// Default feature-cache directory, relative to the working directory.
pub const DEFAULT_CACHE_DIR: &str = "hrf-data/cache/features";

/// Skipped dataset entries whose reasons `train`, `eval` and `fold` print (all: `hrf data`).
const SKIPPED_SHOWN: usize = 5;

/// Why the data could not be prepared for a model.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Data(#[from] hrf_audio::datasets::DataError),
    #[error("{0}")]
    Audio(#[from] hrf_audio::AudioError),
    #[error("generating the synthetic corpus: {0}")]
    Synth(#[from] hrf_audio::synth::SynthError),
    #[error(
        "{source_text}: labels {labels} are not classes of the model ({classes}); evaluate \
         on data with the model's labels, or train a spec whose `classes` include them"
    )]
    UnknownLabels {
        source_text: String,
        labels: String,
        classes: String,
    },
    #[error("{source_text}: no usable utterances{detail}")]
    Empty { source_text: String, detail: String },
    #[error(
        "--fold {given}: the {dataset} protocol has {count} folds ({names}); pass an index 0..{count} or a fold name"
    )]
    NoSuchFold {
        given: String,
        dataset: String,
        count: usize,
        names: String,
    },
}

/// `--data synth[:dir]` is the embedded default dataset: when its manifest is absent, the
/// default corpus is generated there (built-in engine, with a progress bar) instead of failing.
pub fn ensure_synth_corpus(source: &DataSource) -> Result<(), hrf_audio::synth::SynthError> {
    if source.kind != DataKind::Synth || source.path.exists() {
        return Ok(());
    }
    let dir = source
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let config = hrf_audio::synth::SynthConfig {
        out_dir: dir,
        show_progress: true,
        ..hrf_audio::synth::SynthConfig::default()
    };
    eprintln!(
        "{} does not exist: generating the default synthetic corpus ({} clips, built-in engine) into {}",
        source.path.display(),
        hrf_audio::synth::plan(&config).len(),
        config.out_dir.display()
    );
    let summary = hrf_audio::synth::generate(&config)?;
    eprintln!(
        "generated {} clips ({:.0} s of audio) in {:.1} s",
        summary.clips, summary.audio_seconds, summary.seconds
    );
    Ok(())
}

/// A corpus loaded for one model: utterance labels are indices into the model's classes.
pub struct Corpus {
    pub dataset: Dataset,
    /// One raw log-Mel matrix per utterance of `dataset.utterances` (CMVN happens inside the
    /// model, from the statistics stored in its buffers).
    pub features: Vec<Features>,
}

impl Corpus {
    /// Loads `source` for a model with `classes`, extracts (or reuses cached) features.
    ///
    /// Manifests and the synthetic corpus are read with the model's class list, and any label
    /// outside it is an error that lists them. A built-in corpus keeps its own labels, which
    /// must all be model classes; they are re-indexed into the model's order.
    pub fn load(
        source: &DataSource,
        classes: &[&str],
        features_per_frame: usize,
        cache_dir: &Path,
    ) -> Result<Corpus, PipelineError> {
        ensure_synth_corpus(source)?;
        let source_text = source.to_string();
        let owned: Vec<String> = classes.iter().map(|c| (*c).to_owned()).collect();
        let mut dataset = match source.kind {
            DataKind::Manifest | DataKind::Synth => {
                let dataset = source.load_with_classes(Some(&owned))?;
                if !dataset.excluded_labels.is_empty() {
                    return Err(unknown_labels(
                        &source_text,
                        &dataset.excluded_labels,
                        classes,
                    ));
                }
                dataset
            }
            _ => {
                let mut dataset = source.load()?;
                let missing: BTreeMap<String, usize> = dataset
                    .classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !classes.contains(&c.as_str()))
                    .map(|(i, c)| {
                        let n = dataset.utterances.iter().filter(|u| u.label == i).count();
                        (c.clone(), n)
                    })
                    .collect();
                if !missing.is_empty() {
                    return Err(unknown_labels(&source_text, &missing, classes));
                }
                let remap: Vec<usize> = dataset
                    .classes
                    .iter()
                    .map(|c| classes.iter().position(|m| m == c).unwrap_or(0))
                    .collect();
                for u in &mut dataset.utterances {
                    u.label = remap[u.label];
                }
                dataset.classes = owned.clone();
                dataset
            }
        };
        if dataset.utterances.is_empty() {
            let detail = if dataset.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} entries were skipped (first: {}: {}) — run `hrf data --data {source_text}` for the list",
                    dataset.skipped.len(),
                    dataset.skipped[0].location,
                    dataset.skipped[0].reason
                )
            };
            return Err(PipelineError::Empty {
                source_text,
                detail,
            });
        }
        if !dataset.skipped.is_empty() {
            // As `hrf data` does: the count and the first reasons, so that no row vanishes
            // silently (a manifest with rows of the wrong width, duplicates, missing WAVs…).
            eprintln!(
                "warning: {} entr{} of {source_text} skipped:",
                dataset.skipped.len(),
                if dataset.skipped.len() == 1 {
                    "y"
                } else {
                    "ies"
                }
            );
            for s in dataset.skipped.iter().take(SKIPPED_SHOWN) {
                eprintln!("  {}: {}", s.location, s.reason);
            }
            if dataset.skipped.len() > SKIPPED_SHOWN {
                eprintln!(
                    "  … and {} more (`hrf data --data {source_text}` lists them all)",
                    dataset.skipped.len() - SKIPPED_SHOWN
                );
            }
        }
        dataset.classes = owned;
        let extracted = extract_features(&dataset, features_per_frame, cache_dir)?;
        // Unreadable audio is reported and left out (before folds are built from the list).
        let mut features = Vec::with_capacity(extracted.len());
        let mut kept = Vec::with_capacity(extracted.len());
        let mut failed = Vec::new();
        for (u, f) in dataset.utterances.drain(..).zip(extracted) {
            match f {
                Ok(f) if f.frames > 0 => {
                    features.push(f);
                    kept.push(u);
                }
                Ok(_) => failed.push(format!("{}: no audio frames", u.path.display())),
                Err(e) => failed.push(e),
            }
        }
        dataset.utterances = kept;
        if !failed.is_empty() {
            eprintln!(
                "warning: {} utterance(s) left out because their audio could not be used:",
                failed.len()
            );
            for reason in failed.iter().take(10) {
                eprintln!("  {reason}");
            }
            if failed.len() > 10 {
                eprintln!("  … and {} more", failed.len() - 10);
            }
        }
        if dataset.utterances.is_empty() {
            return Err(PipelineError::Empty {
                source_text,
                detail: format!("; no audio file could be read (first: {})", failed[0]),
            });
        }
        Ok(Corpus { dataset, features })
    }

    /// Label of utterance `i` (model class index).
    pub fn label(&self, i: usize) -> usize {
        self.dataset.utterances[i].label
    }

    /// Whether the corpus is scored per speaker by majority vote (DAIC-WOZ).
    pub fn votes_per_speaker(&self) -> bool {
        self.dataset.protocol.evaluation == Evaluation::SpeakerMajorityVote
    }

    /// The protocol fold named by `given` (an index or a name such as `Ses01`).
    pub fn fold(&self, given: &str) -> Result<Fold, PipelineError> {
        let folds = self.dataset.folds()?;
        let index = given
            .parse::<usize>()
            .ok()
            .filter(|&i| i < folds.len())
            .or_else(|| folds.iter().position(|f| f.name == given));
        match index {
            Some(i) => Ok(folds[i].clone()),
            None => Err(PipelineError::NoSuchFold {
                given: given.to_owned(),
                dataset: self.dataset.name.clone(),
                count: folds.len(),
                names: folds
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Index of the fold called `name` (or `given` parsed as an index).
    pub fn fold_index(&self, fold: &Fold) -> usize {
        self.dataset
            .folds()
            .ok()
            .and_then(|folds| folds.iter().position(|f| f.name == fold.name))
            .unwrap_or(0)
    }

    /// Global CMVN statistics over the frames of `train` (indices into the utterances).
    pub fn feature_stats(&self, train: &[usize]) -> Result<FeatureStats, PipelineError> {
        Ok(FeatureStats::from_training(
            train.iter().map(|&i| &self.features[i]),
            FeatureStats::DEFAULT_STD_FLOOR,
        )?)
    }

    /// `(frames, features)` of utterance `i`, centre-cropped to at most `limit` frames.
    pub fn frames(&self, i: usize, limit: usize) -> &[f32] {
        centre_crop(&self.features[i], limit)
    }

    /// Number of frames of utterance `i`.
    pub fn frame_count(&self, i: usize) -> usize {
        self.features[i].frames
    }

    /// `(frames, features)` of utterance `i`, whole.
    pub fn all_frames(&self, i: usize) -> &[f32] {
        &self.features[i].data
    }

    /// `(≤ len, features)`: frames `start..start + len` of utterance `i` (clamped to its end).
    pub fn window(&self, i: usize, start: usize, len: usize) -> &[f32] {
        let f = &self.features[i];
        let start = start.min(f.frames);
        let end = (start + len).min(f.frames);
        &f.data[start * f.bins..end * f.bins]
    }
}

/// The middle `limit` frames of `f` (all of them when shorter): long utterances keep their
/// centre, where acted emotion is usually strongest, and never exceed the model's max_frames.
pub fn centre_crop(f: &Features, limit: usize) -> &[f32] {
    let keep = f.frames.min(limit.max(1));
    let start = (f.frames - keep) / 2;
    &f.data[start * f.bins..(start + keep) * f.bins]
}

fn unknown_labels(
    source_text: &str,
    labels: &BTreeMap<String, usize>,
    classes: &[&str],
) -> PipelineError {
    PipelineError::UnknownLabels {
        source_text: source_text.to_owned(),
        labels: labels
            .iter()
            .map(|(l, n)| format!("`{l}` ({n} utterance{})", if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", "),
        classes: classes.join(", "),
    }
}

/// The cache directory to use: `given`, else [`DEFAULT_CACHE_DIR`].
pub fn cache_dir(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_crop_keeps_the_middle_frames() {
        let f = Features {
            frames: 5,
            bins: 2,
            data: (0..10).map(|x| x as f32).collect(),
        };
        assert_eq!(centre_crop(&f, 3), [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(centre_crop(&f, 9).len(), 10);
        assert_eq!(centre_crop(&f, 4), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }
}
