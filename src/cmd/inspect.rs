//! `hrf inspect <spec.yaml>`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// A preset name (`conformer_light_hrf`) or a path to a YAML spec.
    pub spec: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    Err(CliError(format!(
        "cannot inspect {}: the spec compiler is not built yet",
        args.spec.display()
    )))
}
