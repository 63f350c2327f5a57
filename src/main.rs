//! The `hrf` command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

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
    /// Generate the synthetic emotional-speech corpus with espeak-ng (`--check` tests it).
    Synth(cmd::synth::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Synth(args) => cmd::synth::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
