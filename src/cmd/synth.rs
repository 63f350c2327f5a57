//! `hrf synth`: generate (or reuse) the synthetic emotional-speech corpus; `--check` runs the
//! prosodic nearest-centroid sanity check on it.

use std::path::PathBuf;
use std::process::ExitCode;

use hrf_audio::synth::{self, SynthConfig};

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// Corpus directory (manifest.csv, corpus.json, checksums.b3, wav/).
    #[arg(long, default_value = synth::DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    /// Seed of the per-clip prosody variation.
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    pub seed: u64,
    /// Six classes: add fear and disgust to neutral, angry, happy, sad.
    #[arg(long)]
    pub six: bool,
    /// Sentences per session (1..=20); fewer than 20 makes a small corpus for quick tries.
    #[arg(long, default_value_t = synth::SENTENCES_PER_SESSION)]
    pub sentences: usize,
    /// espeak-ng processes to run in parallel.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Regenerate even if the corpus exists and its checksums verify.
    #[arg(long)]
    pub force: bool,
    /// After generating (or reusing), run the leave-one-session-out nearest-centroid check on
    /// prosodic statistics and print per-fold and mean UA.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let config = SynthConfig {
        out_dir: args.out,
        seed: args.seed,
        six_classes: args.six,
        sentences_per_session: args.sentences,
        workers: args.jobs,
        force: args.force,
        espeak_program: SynthConfig::espeak_from_env(),
        show_progress: true,
    };
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
            "{}: generated {} clips ({:.0} s of audio) with espeak-ng {} in {:.1} s",
            summary.out_dir.display(),
            summary.clips,
            summary.audio_seconds,
            summary.espeak_ng_version,
            summary.seconds
        );
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
