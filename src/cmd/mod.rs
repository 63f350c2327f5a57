//! One module per `hrf` subcommand; each exposes `Args` (clap) and `run(Args) -> Result<ExitCode, CliError>`.

pub mod bench;
pub mod budget;
pub mod data;
pub mod demo;
pub mod eval;
pub mod export;
pub mod fold;
pub mod inspect;
pub mod study;
pub mod synth;
pub mod threads;
pub mod train;

/// An error a subcommand reports to the user: already rendered, printed after `error: `.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl From<threads::ThreadsError> for CliError {
    fn from(e: threads::ThreadsError) -> Self {
        CliError(e.to_string())
    }
}
