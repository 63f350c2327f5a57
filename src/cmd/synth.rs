//! `hrf synth`: generate (or reuse) the synthetic emotional-speech corpus with the built-in
//! formant synthesiser (default) or espeak-ng; `--verify` checks the default corpus against the
//! committed checksums; `--check` runs the prosodic nearest-centroid sanity check on it.

use std::path::PathBuf;
use std::process::ExitCode;

use hrf_audio::synth::{self, Degradation, Engine, SynthConfig};

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Corpus directory (manifest.csv, corpus.json, checksums.b3, wav/).
    #[arg(long, default_value = synth::DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// `builtin` (the pure-Rust formant synthesiser, byte-identical everywhere) or `espeak-ng`
    /// (needs the espeak-ng program; 10 fixed voices).
    #[arg(long, default_value = "builtin")]
    pub engine: Engine,
    /// Seed of speakers, sentences and per-clip variation.
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    pub seed: u64,
    /// Six classes: add fear and disgust to neutral, angry, happy, sad.
    #[arg(long)]
    pub six: bool,
    /// Speakers, each in exactly one of the 5 sessions (built-in engine: 10..=1000, default 40;
    /// espeak-ng: 10).
    #[arg(long)]
    pub speakers: Option<usize>,
    /// Sentences per session (built-in: 1..=500, default 12; espeak-ng: 1..=20, default 20).
    #[arg(long)]
    pub sentences: Option<usize>,
    /// Mean SNR in dB of the white noise added to each clip (built-in engine; each clip draws
    /// its SNR within ±10 dB of it). Default 20.
    #[arg(long, allow_negative_numbers = true)]
    pub noise_snr: Option<f64>,
    /// No additive noise (built-in engine).
    #[arg(long, conflicts_with = "noise_snr")]
    pub no_noise: bool,
    /// No random channel (band-limiting and coloration per clip; built-in engine).
    #[arg(long)]
    pub no_channel: bool,
    /// Clips synthesised in parallel (threads, or espeak-ng processes). The bytes do not
    /// depend on it.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Regenerate even if the corpus exists and its checksums verify.
    #[arg(long)]
    pub force: bool,
    /// After generating (or reusing), check every file against the committed checksums of the
    /// default corpus (hrf-audio/src/synth/default_corpus.b3); other corpora are checked
    /// against their own checksums.b3.
    #[arg(long)]
    pub verify: bool,
    /// After generating (or reusing), run the leave-one-session-out nearest-centroid check on
    /// prosodic statistics and print per-fold and mean UA.
    #[arg(long)]
    pub check: bool,
}

impl Args {
    fn config(&self) -> SynthConfig {
        let base = match self.engine {
            Engine::Builtin => SynthConfig::default(),
            Engine::EspeakNg => SynthConfig::espeak(),
        };
        SynthConfig {
            out_dir: self.out.clone(),
            seed: self.seed,
            six_classes: self.six,
            speakers: self.speakers.unwrap_or(base.speakers),
            sentences_per_session: self.sentences.unwrap_or(base.sentences_per_session),
            degradation: Degradation {
                noise_snr_db: if self.no_noise {
                    None
                } else {
                    self.noise_snr.or(base.degradation.noise_snr_db)
                },
                channel: base.degradation.channel && !self.no_channel,
            },
            workers: self.jobs,
            force: self.force,
            espeak_program: SynthConfig::espeak_from_env(),
            show_progress: true,
            ..base
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let config = args.config();
    let summary = synth::generate(&config).map_err(|e| CliError(e.to_string()))?;
    if summary.reused {
        println!(
            "{}: {} clips already generated and verified (blake3) in {:.1} s; use --force to regenerate",
            summary.out_dir.display(),
            summary.clips,
            summary.seconds
        );
    } else {
        println!(
            "{}: generated {} clips ({:.0} s of audio, {:.0}× real time) with {} in {:.1} s",
            summary.out_dir.display(),
            summary.clips,
            summary.audio_seconds,
            summary.audio_seconds / summary.seconds.max(1e-9),
            summary.engine,
            summary.seconds
        );
    }
    if args.verify {
        if config.is_default_corpus() {
            let n = synth::verify_default_corpus(&config.out_dir)
                .map_err(|e| CliError(e.to_string()))?;
            println!(
                "verify: all {n} files match the committed checksums of the default corpus (hrf-audio/src/synth/default_corpus.b3)"
            );
        } else {
            let n = synth::verify_corpus(&config.out_dir).map_err(|e| CliError(e.to_string()))?;
            println!(
                "verify: all {n} files match {} (not the default corpus: the committed checksums cover only `hrf synth` with default options)",
                config.out_dir.join(synth::CHECKSUM_FILE).display()
            );
        }
    }
    if args.check {
        let manifest = synth::manifest_in(&config.out_dir);
        let report = synth::check_corpus(&manifest, true).map_err(|e| CliError(e.to_string()))?;
        println!(
            "check: nearest centroid on {} z-normalised prosodic statistics ({}), leave-one-session-out",
            synth::FEATURES,
            synth::FEATURE_NAMES.join(", ")
        );
        for fold in &report.folds {
            println!(
                "  held-out session {}: {} clips, UA {:.1}%",
                fold.session,
                fold.test_clips,
                100.0 * fold.ua
            );
        }
        println!(
            "  mean UA over folds: {:.1}% (chance {:.1}%)",
            100.0 * report.mean_ua,
            100.0 / report.classes.len() as f64
        );
        println!(
            "  pooled confusion (rows: truth, columns: predicted; {}):",
            report.classes.join(", ")
        );
        for (class, row) in report.classes.iter().zip(report.confusion.rows()) {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:5}")).collect();
            println!("  {class:>8} {}", cells.join(""));
        }
    }
    Ok(ExitCode::SUCCESS)
}
