//! Synthetic corpus (`hrf synth`): a 4- or 6-class acted-emotion corpus of 16 kHz WAVs with a
//! generic manifest and blake3 checksums, from one of two engines:
//! - `builtin` (default): the pure-Rust formant synthesiser of [`formant`], with parametric
//!   speakers (`--speakers`) and seeded pseudo-sentences; byte-identical on every machine, and
//!   the default corpus's checksums are committed ([`DEFAULT_CHECKSUMS`], `hrf synth --verify`);
//! - `espeak-ng` (optional, needs the program): ten fixed voices reading English sentences.
//!
//! Layout: 5 sessions, speakers disjoint across sessions (speaker `i` in session `i mod 5 + 1`),
//! sentences disjoint across sessions, every speaker of a session reads the session's sentences
//! in every emotion × 2 intensities.
//! ```text
//! <out>/manifest.csv     path,label,speaker,session (paths relative to it)
//! <out>/corpus.json      engine and version, seed, classes, counts, degradations
//! <out>/checksums.b3     blake3 of every WAV, the manifest and corpus.json (b3sum format)
//! <out>/wav/<speaker>/<speaker>_t<sentence>_<emo>_<intensity>.wav
//! ```

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
pub use corpus::{
    ClipPlan, CorpusInfo, SynthSummary, builtin_clip, builtin_hashes, builtin_sentence,
    manifest_text, plan, record_texts,
};
pub use error::SynthError;
pub use espeak::{EspeakInstall, locate as locate_espeak};
pub use formant::Degradation;
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
/// Default seed of the corpus (speakers, sentences, per-clip variation).
pub const DEFAULT_SEED: u64 = 5;
/// Environment variable naming the espeak-ng binary (default: `espeak-ng` on `PATH`).
pub const ESPEAK_ENV: &str = "HRF_ESPEAK_NG";
/// Speakers of the default built-in corpus (8 per session).
pub const DEFAULT_SPEAKERS: usize = 40;
/// Sentences per session of the default built-in corpus.
pub const DEFAULT_SENTENCES: usize = 12;
/// Most speakers and sentences per session the built-in engine accepts.
pub const MAX_SPEAKERS: usize = 1000;
pub const MAX_SENTENCES: usize = 500;
/// The committed checksums of the default built-in corpus (`hrf synth` with no options), in
/// `checksums.b3` format: `hrf synth --verify` and the tests compare against them.
pub const DEFAULT_CHECKSUMS: &str = include_str!("default_corpus.b3");

/// Which synthesiser makes the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The built-in formant synthesiser (no system dependency; byte-identical everywhere).
    Builtin,
    /// espeak-ng, run as a program (optional; its output depends on its version).
    EspeakNg,
}

impl Engine {
    /// The name used on the command line and in `corpus.json`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Builtin => "builtin",
            Engine::EspeakNg => "espeak-ng",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "builtin" => Ok(Engine::Builtin),
            "espeak-ng" | "espeak" => Ok(Engine::EspeakNg),
            other => Err(format!(
                "unknown engine `{other}`: use `builtin` (default) or `espeak-ng`"
            )),
        }
    }
}

/// What to generate and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    /// Corpus directory.
    pub out_dir: PathBuf,
    pub engine: Engine,
    /// Seed of speakers, sentences and per-clip variation.
    pub seed: u64,
    /// Add fear and disgust (6 classes) to neutral, angry, happy, sad.
    pub six_classes: bool,
    /// Speakers (built-in engine, 10..=1000; espeak-ng has exactly 10).
    pub speakers: usize,
    /// Sentences per session (built-in 1..=500; espeak-ng 1..=20).
    pub sentences_per_session: usize,
    /// Additive noise and channel filtering (built-in engine).
    pub degradation: Degradation,
    /// Clips synthesised at once (threads; espeak-ng processes).
    pub workers: usize,
    /// Regenerate even if a matching, verified corpus exists.
    pub force: bool,
    /// The espeak-ng binary (a name on `PATH` or a path).
    pub espeak_program: PathBuf,
    /// Draw an indicatif progress bar on stderr.
    pub show_progress: bool,
}

impl Default for SynthConfig {
    /// The default corpus: built-in engine, 40 speakers, 12 sentences per session, 4 classes,
    /// noise (10–30 dB SNR) and a random channel per clip.
    fn default() -> Self {
        Self {
            out_dir: PathBuf::from(DEFAULT_OUT_DIR),
            engine: Engine::Builtin,
            seed: DEFAULT_SEED,
            six_classes: false,
            speakers: DEFAULT_SPEAKERS,
            sentences_per_session: DEFAULT_SENTENCES,
            degradation: Degradation::DEFAULT_CORPUS,
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

    /// The espeak-ng engine's corpus: its ten voices and 20 sentences per session.
    pub fn espeak() -> Self {
        Self {
            engine: Engine::EspeakNg,
            speakers: SPEAKERS.len(),
            sentences_per_session: SENTENCES_PER_SESSION,
            degradation: Degradation::default(),
            ..Self::default()
        }
    }

    /// Whether this is the default corpus, whose checksums are committed.
    pub fn is_default_corpus(&self) -> bool {
        let d = SynthConfig::default();
        self.engine == d.engine
            && self.seed == d.seed
            && self.six_classes == d.six_classes
            && self.speakers == d.speakers
            && self.sentences_per_session == d.sentences_per_session
            && self.degradation == d.degradation
    }

    fn validate(&self) -> Result<(), SynthError> {
        let invalid = |field, reason: String| Err(SynthError::InvalidConfig { field, reason });
        match self.engine {
            Engine::Builtin => {
                if !(2 * SESSIONS..=MAX_SPEAKERS).contains(&self.speakers) {
                    return invalid(
                        "speakers",
                        format!(
                            "{} is outside {}..={MAX_SPEAKERS} (at least two speakers in each of the {SESSIONS} sessions)",
                            self.speakers,
                            2 * SESSIONS
                        ),
                    );
                }
                if !(1..=MAX_SENTENCES).contains(&self.sentences_per_session) {
                    return invalid(
                        "sentences",
                        format!(
                            "{} is outside 1..={MAX_SENTENCES} sentences per session",
                            self.sentences_per_session
                        ),
                    );
                }
                if let Some(snr) = self.degradation.noise_snr_db
                    && !(snr.is_finite() && (-10.0..=100.0).contains(&snr))
                {
                    return invalid("noise", format!("SNR {snr} dB is outside −10..=100 dB"));
                }
            }
            Engine::EspeakNg => {
                if self.speakers != SPEAKERS.len() {
                    return invalid(
                        "speakers",
                        format!(
                            "the espeak-ng engine has exactly {} voices (got {}); use --engine builtin for other speaker counts",
                            SPEAKERS.len(),
                            self.speakers
                        ),
                    );
                }
                if !(1..=SENTENCES_PER_SESSION).contains(&self.sentences_per_session) {
                    return invalid(
                        "sentences",
                        format!(
                            "{} is outside 1..={SENTENCES_PER_SESSION} (espeak-ng reads {SENTENCES_PER_SESSION} sentences per session)",
                            self.sentences_per_session
                        ),
                    );
                }
                if self.degradation != Degradation::default() {
                    return invalid(
                        "noise",
                        "noise and channel degradations need --engine builtin".to_owned(),
                    );
                }
            }
        }
        if self.workers == 0 || self.workers > 1024 {
            return invalid("workers", format!("{} is outside 1..=1024", self.workers));
        }
        Ok(())
    }
}

/// Generates the corpus into `config.out_dir`, or keeps the existing one when its record
/// matches the config and every checksum verifies (unless `config.force`).
///
/// # Errors
/// [`SynthError::InvalidConfig`] for impossible options; for espeak-ng,
/// [`SynthError::EspeakMissing`] (with install instructions) and [`SynthError::EspeakFailed`]
/// naming the clip; I/O errors naming the file.
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
                engine: format!("{} {}", info.engine, info.engine_version),
                audio_seconds: 0.0,
            });
        }
    }
    corpus::generate_corpus(config)
}

/// Checks the default corpus in `dir` against the committed checksums [`DEFAULT_CHECKSUMS`]:
/// every listed file must exist with that blake3. Returns the number of files checked.
///
/// # Errors
/// [`SynthError::Checksum`] naming the first file that is missing or differs.
pub fn verify_default_corpus(dir: &std::path::Path) -> Result<usize, SynthError> {
    let committed = std::path::Path::new("hrf-audio/src/synth/default_corpus.b3");
    let entries = checksums::parse(DEFAULT_CHECKSUMS, committed)?;
    checksums::verify_entries(
        dir,
        &entries,
        committed,
        "which differs from the committed",
        "the default corpus",
    )
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
