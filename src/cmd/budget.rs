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
