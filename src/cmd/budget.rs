//! `--memory-budget`, shared by every command that compiles a spec (`inspect`, `train`, `eval`,
//! `fold`, `export`, `bench`, `study`): the byte budget the compiler checks each model against
//! (`hrf_compiler::budget`), over `HRF_MEMORY_BUDGET` and the 8 GiB default.

use super::CliError;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct MemoryBudgetArg {
    /// Memory a model may need (parameters with AdamW moments, training activations at batch
    /// 16, folded scratch): bytes with an optional K/M/G/T suffix, e.g. 32G. Default: the
    /// HRF_MEMORY_BUDGET environment variable, else 8G.
    #[arg(long, value_name = "BYTES")]
    pub memory_budget: Option<String>,
}

impl MemoryBudgetArg {
    /// Sets the process's budget from the flag, or checks that `HRF_MEMORY_BUDGET` (if set)
    /// parses, so a malformed value is refused before any spec is read.
    pub fn apply(&self) -> Result<(), CliError> {
        use hrf_compiler::budget;
        match &self.memory_budget {
            Some(text) => {
                let bytes = budget::parse_bytes("--memory-budget", text)
                    .map_err(|e| CliError(e.to_string()))?;
                budget::set_budget(bytes);
            }
            None => {
                budget::configured_budget().map_err(|e| CliError(e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// The compiler checks every spec at `hrf_compiler::budget::DEFAULT_BATCH` (16): a larger
/// `--batch-size` is checked here, before anything is written, against the same budget.
pub fn check_batch(spec: &crate::run::SpecSource, batch: usize) -> Result<(), CliError> {
    use hrf_compiler::budget::{self, DEFAULT_BATCH, MemoryEstimate, describe_bytes};
    if batch <= DEFAULT_BATCH {
        return Ok(());
    }
    let model = spec.checked().map_err(CliError)?;
    let budget = budget::configured_budget().map_err(|e| CliError(e.to_string()))?;
    let est = MemoryEstimate::of(&model, batch);
    if est.total() <= u128::from(budget) {
        return Ok(());
    }
    Err(CliError(format!(
        "--batch-size {batch}: {} needs {} of memory at this batch, more than the budget of {}: \
         training activations for a batch of {batch} at max_frames = {} {}, parameters {}, \
         folded scratch {}; lower --batch-size (the default is {DEFAULT_BATCH}), or raise the \
         budget with {}=<bytes> or --memory-budget <bytes> (nothing was written)",
        spec.label,
        describe_bytes(est.total()),
        describe_bytes(u128::from(budget)),
        model.ir.max_frames,
        describe_bytes(est.activations),
        describe_bytes(est.params),
        describe_bytes(est.scratch),
        budget::BUDGET_ENV,
    )))
}
