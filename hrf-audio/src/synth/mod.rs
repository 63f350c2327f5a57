//! Synthetic corpus (`hrf synth`): espeak-ng + per-emotion prosody rules → a 4- or 6-class
//! acted-emotion corpus of 16 kHz WAVs with a generic manifest and blake3 checksums.
//!
//! Layout: 5 sessions × 2 speakers (10 voices), 20 sentences per session (sessions disjoint in
//! speakers and sentences), 4 emotions × 2 intensities → 1,600 clips by default.
//! ```text
//! <out>/manifest.csv     path,label,speaker,session (paths relative to it)
//! <out>/corpus.json      seed, classes, counts, espeak-ng version
//! <out>/checksums.b3     blake3 of every WAV, the manifest and corpus.json (b3sum format)
//! <out>/wav/<speaker>/<speaker>_t<sentence>_<emo>_<intensity>.wav
//! ```
//! Generation is deterministic: the same seed and espeak-ng version give byte-identical files.

mod check;
mod checksums;
mod corpus;
mod error;
mod espeak;
pub mod formant;
mod pitch;
mod prosody;
mod sentences;
mod voices;

use std::path::PathBuf;
use std::time::Instant;

pub use check::{
    CheckReport, FEATURE_NAMES, FEATURES, FoldResult, ProsodicFeatures, check_corpus, manifest_in,
    nearest_centroid_by_group, prosodic_features,
};
pub use corpus::{ClipPlan, CorpusInfo, SynthSummary, manifest_text, plan};
pub use error::SynthError;
pub use espeak::{EspeakInstall, locate as locate_espeak};
pub use pitch::{PitchConfig, PitchTrack, PitchTracker};
pub use prosody::{ClipRng, Emotion, Intensity, ProsodyFactors};
pub use sentences::{SENTENCES, SENTENCES_PER_SESSION, SESSIONS};
pub use voices::{SPEAKERS, Speaker};

/// The manifest's file name inside the corpus directory.
pub const MANIFEST_FILE: &str = "manifest.csv";
/// The checksum file's name (b3sum format).
pub const CHECKSUM_FILE: &str = "checksums.b3";
/// The record of how the corpus was made.
pub const INFO_FILE: &str = "corpus.json";
/// Default corpus directory, relative to the working directory.
pub const DEFAULT_OUT_DIR: &str = "hrf-data/synth";
/// Default seed of the per-clip prosody variation.
pub const DEFAULT_SEED: u64 = 5;
/// Environment variable naming the espeak-ng binary (default: `espeak-ng` on `PATH`).
pub const ESPEAK_ENV: &str = "HRF_ESPEAK_NG";

/// What to generate and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    /// Corpus directory.
    pub out_dir: PathBuf,
    /// Seed of the per-clip prosody variation.
    pub seed: u64,
    /// Add fear and disgust (6 classes) to neutral, angry, happy, sad.
    pub six_classes: bool,
    /// Sentences per session, 1..=20 (20 = the full corpus; fewer makes a tiny test corpus).
    pub sentences_per_session: usize,
    /// espeak-ng processes running at once.
    pub workers: usize,
    /// Regenerate even if a matching, verified corpus exists.
    pub force: bool,
    /// The espeak-ng binary (a name on `PATH` or a path).
    pub espeak_program: PathBuf,
    /// Draw an indicatif progress bar on stderr.
    pub show_progress: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            out_dir: PathBuf::from(DEFAULT_OUT_DIR),
            seed: DEFAULT_SEED,
            six_classes: false,
            sentences_per_session: SENTENCES_PER_SESSION,
            workers: 2,
            force: false,
            espeak_program: PathBuf::from("espeak-ng"),
            show_progress: false,
        }
    }
}

impl SynthConfig {
    /// The espeak-ng program: `$HRF_ESPEAK_NG` if set and non-empty, else `espeak-ng`.
    pub fn espeak_from_env() -> PathBuf {
        match std::env::var_os(ESPEAK_ENV) {
            Some(program) if !program.is_empty() => PathBuf::from(program),
            _ => PathBuf::from("espeak-ng"),
        }
    }

    fn validate(&self) -> Result<(), SynthError> {
        if !(1..=SENTENCES_PER_SESSION).contains(&self.sentences_per_session) {
            return Err(SynthError::InvalidConfig {
                field: "sentences_per_session",
                reason: format!(
                    "{} is outside 1..={SENTENCES_PER_SESSION} (each session has {SENTENCES_PER_SESSION} sentences)",
                    self.sentences_per_session
                ),
            });
        }
        if self.workers == 0 {
            return Err(SynthError::InvalidConfig {
                field: "workers",
                reason: "must be at least 1".to_owned(),
            });
        }
        Ok(())
    }
}

/// Generates the corpus into `config.out_dir`, or keeps the existing one when its record
/// matches the config and every checksum verifies (unless `config.force`).
///
/// # Errors
/// [`SynthError::EspeakMissing`] (with install instructions) if espeak-ng cannot be run,
/// [`SynthError::EspeakFailed`] naming the clip and espeak-ng's stderr, and I/O errors naming
/// the file.
pub fn generate(config: &SynthConfig) -> Result<SynthSummary, SynthError> {
    config.validate()?;
    if !config.force {
        let start = Instant::now();
        if let Some(info) = existing_corpus(config) {
            return Ok(SynthSummary {
                out_dir: config.out_dir.clone(),
                clips: info.clips,
                reused: true,
                seconds: start.elapsed().as_secs_f64(),
                espeak_ng_version: info.espeak_ng_version,
                audio_seconds: 0.0,
            });
        }
    }
    corpus::generate_corpus(config)
}

/// The record of the corpus in `config.out_dir` if it matches `config` and verifies.
fn existing_corpus(config: &SynthConfig) -> Option<CorpusInfo> {
    let text = std::fs::read_to_string(config.out_dir.join(INFO_FILE)).ok()?;
    let info: CorpusInfo = serde_json::from_str(&text).ok()?;
    // Manifest, record and every clip are listed: clips + 2 entries.
    let verified = verify(config)?;
    (info.matches(config) && verified == info.clips + 2).then_some(info)
}

/// Re-hashes every file listed in the corpus's checksum file; `Some(count)` if all match.
fn verify(config: &SynthConfig) -> Option<usize> {
    checksums::verify(&config.out_dir, CHECKSUM_FILE).ok()
}

/// Verifies the checksums of the corpus in `dir`, returning the number of files checked.
///
/// # Errors
/// [`SynthError::Checksum`] naming the first changed or missing file.
pub fn verify_corpus(dir: &std::path::Path) -> Result<usize, SynthError> {
    checksums::verify(dir, CHECKSUM_FILE)
}
