//! The `hrf` command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod models;
mod pipeline;
mod report;
mod run;
mod study;
mod training;

#[derive(Parser)]
#[command(
    name = "hrf",
    version,
    about = "Train over-parameterized (HRF) speech transformers, deploy them folded"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a corpus (`--data <kind>:<path>`) and print counts, folds, duration and skipped entries.
    Data(cmd::data::Args),
    /// Print a spec's layer table, parameter counts (train vs folded) and FLOPs per second of audio.
    Inspect(cmd::inspect::Args),
    /// Generate the synthetic emotional-speech corpus (built-in synthesiser or espeak-ng).
    Synth(cmd::synth::Args),
    /// Train a spec on one fold of a corpus: progress bars, validation, checkpoints, --resume.
    Train(cmd::train::Args),
    /// Evaluate a trained model: WA, UA, macro-F1, confusion; report.json/md and plots.
    Eval(cmd::eval::Args),
    /// Fold a trained model (HRF, LayerNorm, BatchNorm, CMVN, Q/K/V) and verify it.
    Fold(cmd::fold::Args),
    /// Write the folded weights (safetensors) for build.rs / include_bytes! embedding.
    Export(cmd::export::Args),
    /// Latency (batch 1, one thread), GFLOP/s and memory of the folded vs the training-form model.
    Bench(cmd::bench::Args),
    /// The main job: synth → train light, light+HRF, large → fold → eval → bench → one report.
    Demo(cmd::demo::Args),
    /// A grid of specs × folds × seeds with paired statistics against a baseline (resumable;
    /// --plan for job arrays, --collect for the report).
    Study(cmd::study::Args),
}

/// Options that take counts and sizes do not accept negative numbers, and clap reads `-3` after
/// `--epochs` as an unknown flag ("unexpected argument '-3'"). Say what is really wrong: the
/// option and that it must be ≥ 0.
fn negative_count_error(e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let Some(ContextValue::String(token)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    if !token.parse::<f64>().is_ok_and(|x| x < 0.0) {
        return e;
    }
    let argv: Vec<String> = std::env::args().collect();
    // clap names `-1` of `-16` (read as short flags): find the whole negative value.
    let Some((flag, value)) = argv
        .windows(2)
        .find(|w| {
            w[0].starts_with("--")
                && w[1].starts_with(token.as_str())
                && w[1].parse::<f64>().is_ok_and(|x| x < 0.0)
        })
        .map(|w| (w[0].clone(), w[1].clone()))
    else {
        return e;
    };
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.error(
        ErrorKind::ValueValidation,
        format!("{flag} {value}: must be ≥ 0 (it is a count or size)"),
    )
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::try_parse().unwrap_or_else(|e| negative_count_error(e).exit());
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Synth(args) => cmd::synth::run(args),
        Command::Train(args) => cmd::train::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Fold(args) => cmd::fold::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Study(args) => cmd::study::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A rendered spec diagnostic already starts with its own `error:`.
            let text = err.to_string();
            if text.starts_with("error: ") {
                eprintln!("{text}");
            } else {
                eprintln!("error: {text}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so writing to a closed pipe (`hrf data … | head`) makes `println!`
/// panic. A command-line tool should end quietly there, as `cat` does.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; installing the default
    // disposition of one signal has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
