//! Data stage 0 report: a loaded corpus → counts per class / speaker / group and total audio
//! duration from WAV headers (what `hrf data` prints).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{Dataset, Skipped};

/// Utterance counts of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// (classes) — utterances per class.
    pub per_class: Vec<usize>,
    /// speaker → (classes) counts.
    pub per_speaker: BTreeMap<String, Vec<usize>>,
    /// group → (classes) counts; empty when the corpus has no groups.
    pub per_group: BTreeMap<String, Vec<usize>>,
}

/// Counts every utterance by class, speaker and group.
pub fn count(dataset: &Dataset) -> Counts {
    let n = dataset.classes.len();
    let mut counts = Counts {
        per_class: vec![0; n],
        per_speaker: BTreeMap::new(),
        per_group: BTreeMap::new(),
    };
    for u in &dataset.utterances {
        counts.per_class[u.label] += 1;
        counts
            .per_speaker
            .entry(u.speaker.clone())
            .or_insert_with(|| vec![0; n])[u.label] += 1;
        if let Some(group) = &u.group {
            counts
                .per_group
                .entry(group.clone())
                .or_insert_with(|| vec![0; n])[u.label] += 1;
        }
    }
    counts
}

/// Audio duration of a dataset, from WAV headers only (no samples are decoded).
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    /// Sum over measured utterances, in seconds (segments count their own span).
    pub total_seconds: f64,
    /// Utterances whose duration is known.
    pub measured: usize,
    /// Longest measured utterance, in seconds.
    pub max_seconds: f64,
    /// Files whose header could not be read, and segments that end after their recording.
    pub problems: Vec<Skipped>,
}

/// Duration of a WAV file in seconds from its header: frames / sample rate.
pub fn wav_duration(path: &Path) -> Result<f64, String> {
    let reader = hound::WavReader::open(path).map_err(|e| format!("unreadable WAV header: {e}"))?;
    let rate = reader.spec().sample_rate;
    // The decoder's range: a file it would refuse is not counted as audio here either.
    if !crate::wav::SAMPLE_RATES.contains(&rate) {
        return Err(format!(
            "the WAV header declares a sample rate of {rate} Hz, outside the supported {}–{} Hz; \
             the header is probably corrupt: re-export the file",
            crate::wav::SAMPLE_RATES.start(),
            crate::wav::SAMPLE_RATES.end()
        ));
    }
    Ok(f64::from(reader.duration()) / f64::from(rate))
}

/// Reads every distinct file's header once (in parallel) and sums utterance durations.
pub fn durations(dataset: &Dataset) -> Durations {
    let mut files: Vec<&PathBuf> = dataset.utterances.iter().map(|u| &u.path).collect();
    files.sort();
    files.dedup();
    let file_seconds: HashMap<&PathBuf, Result<f64, String>> = files
        .into_par_iter()
        .map(|path| (path, wav_duration(path)))
        .collect();

    let mut report = Durations {
        total_seconds: 0.0,
        measured: 0,
        max_seconds: 0.0,
        problems: Vec::new(),
    };
    let mut reported_files: HashSet<&PathBuf> = HashSet::new();
    for u in &dataset.utterances {
        let seconds = match (&file_seconds[&u.path], u.segment) {
            (Err(reason), _) => {
                if reported_files.insert(&u.path) {
                    report.problems.push(Skipped {
                        location: u.path.display().to_string(),
                        reason: reason.clone(),
                    });
                }
                continue;
            }
            (Ok(file), Some(segment)) => {
                // Tolerate rounding of transcript times (10 ms) at the end of the recording.
                if segment.end > file + 0.01 {
                    report.problems.push(Skipped {
                        location: u.id.clone(),
                        reason: format!(
                            "segment {:.3}–{:.3} s ends after its recording ({file:.3} s)",
                            segment.start, segment.end
                        ),
                    });
                }
                segment.duration()
            }
            (Ok(file), None) => *file,
        };
        report.total_seconds += seconds;
        report.measured += 1;
        report.max_seconds = report.max_seconds.max(seconds);
    }
    report
}
