//! One module per `hrf` subcommand; each exposes `Args` (clap) and `run(Args) -> Result<ExitCode, CliError>`.

pub mod data;
pub mod inspect;
pub mod synth;

/// An error a subcommand reports to the user: already rendered, printed after `error: `.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);
