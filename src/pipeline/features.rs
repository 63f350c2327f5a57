//! CLI data stage: the corpus's audio files → log-Mel features per utterance, through
//! hrf-audio's parallel on-disk cache; segments (DAIC-WOZ) are cut from their recording's
//! features, so each long interview is analysed once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hrf_audio::datasets::Dataset;
use hrf_audio::features::{Features, FrontendConfig, extract_all_with_progress};
use indicatif::{ProgressBar, ProgressStyle};

use super::PipelineError;

/// Raw log-Mel features (hrf's default front-end with `n_mels` bins) for every utterance, or
/// the error of its audio file (a corrupt or unreadable WAV); the caller reports and drops those.
pub fn extract_features(
    dataset: &Dataset,
    n_mels: usize,
    cache_dir: &Path,
) -> Result<Vec<Result<Features, String>>, PipelineError> {
    let cfg = FrontendConfig::librosa_slaney(n_mels);
    // Each file once, in first-seen order.
    let mut index_of: BTreeMap<&Path, usize> = BTreeMap::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for u in &dataset.utterances {
        index_of.entry(u.path.as_path()).or_insert_with(|| {
            files.push(u.path.clone());
            files.len() - 1
        });
    }
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "features {bar:30.cyan/blue} {pos}/{len} files {per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let per_file = extract_all_with_progress(&files, &cfg, cache_dir, &bar)?.per_file;
    let frames_per_second = cfg.sample_rate as f64 / cfg.hop_length as f64;
    Ok(dataset
        .utterances
        .iter()
        .map(|u| {
            let whole = match &per_file[index_of[u.path.as_path()]] {
                Ok(whole) => whole,
                Err(e) => return Err(e.to_string()),
            };
            Ok(match u.segment {
                None => whole.clone(),
                Some(seg) => {
                    // Frame t is centred at t·hop: keep ⌊start·fps⌋ .. ⌈end·fps⌉ (≥ 1 frame).
                    let t0 = ((seg.start * frames_per_second).floor().max(0.0) as usize)
                        .min(whole.frames.saturating_sub(1));
                    let t1 = ((seg.end * frames_per_second).ceil() as usize)
                        .clamp(t0 + 1, whole.frames.max(t0 + 1));
                    let t1 = t1.min(whole.frames);
                    Features {
                        frames: t1 - t0,
                        bins: whole.bins,
                        data: whole.data[t0 * whole.bins..t1 * whole.bins].to_vec(),
                    }
                }
            })
        })
        .collect())
}
