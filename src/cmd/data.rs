//! `hrf data --data <kind>:<path>`: load a corpus and print what the loaders and the standard
//! protocol make of it.

use std::process::ExitCode;

use hrf_audio::datasets::{DataSource, report, summary};

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The corpus: `iemocap:<dir>`, `m3ed:<dir>`, `daic-woz:<dir>`, `ravdess:<dir>`,
    /// `crema-d:<dir>`, `emodb:<dir>`, `manifest:<file.csv>`, or `synth` (the corpus `hrf synth`
    /// writes to hrf-data/synth; generated there when absent).
    #[arg(long, default_value = "synth")]
    pub data: DataSource,

    /// Class list, comma-separated, for `manifest` and `synth` (default: the labels found).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,

    /// Do not read WAV headers (skips the duration line).
    #[arg(long)]
    pub no_durations: bool,
}

/// Prints the report. Fails when the corpus cannot be loaded or its protocol cannot be built.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    crate::pipeline::ensure_synth_corpus(&args.data).map_err(|e| CliError(e.to_string()))?;
    let dataset = args
        .data
        .load_with_classes(args.classes.as_deref())
        .map_err(|err| CliError(err.to_string()))?;
    let folds = dataset.folds();
    let durations = (!args.no_durations).then(|| summary::durations(&dataset));
    print!("{}", report::render(&dataset, &folds, durations.as_ref()));
    match folds {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            let skipped = dataset.skipped.len();
            Err(CliError(format!(
                "{}: {err}{}",
                args.data,
                if skipped == 0 {
                    String::new()
                } else {
                    format!(
                        "; {skipped} entr{} left out, listed above with the reason for each",
                        if skipped == 1 { "y was" } else { "ies were" }
                    )
                }
            )))
        }
    }
}
