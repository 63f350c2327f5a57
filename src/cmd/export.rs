//! `hrf export`: a trained checkpoint → one folded weight file (safetensors with the spec's
//! name, hash, dims and classes) for `include_bytes!` / build.rs embedding; verified first.

use std::path::PathBuf;
use std::process::ExitCode;

use hrf_runtime::infer::folded_weights_to_file;

use super::CliError;
use super::fold::{DEFAULT_TOLERANCE, fold_and_check, print_check, random_inputs};
use crate::run::{LoadedModel, ensure_writable_file};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// A run directory written by `hrf train` or a checkpoint file.
    #[arg(long)]
    pub model: PathBuf,
    /// The folded weight file to write (`model.safetensors`).
    #[arg(long)]
    pub out: PathBuf,
    /// Largest accepted relative logit difference on the check inputs.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE)]
    pub tolerance: f64,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    let model = LoadedModel::load(&args.model, None).map_err(|e| CliError(e.to_string()))?;
    ensure_writable_file(&args.out).map_err(|e| CliError(e.to_string()))?;
    let plan = model.checkpoint.plan;
    let mut trained = model.train_model().map_err(CliError)?;
    // A quick self-check on seeded inputs (`hrf fold` checks real held-out utterances).
    let inputs = random_inputs(&trained, 8, model.max_frames());
    let (weights, check) =
        fold_and_check(&mut trained, &inputs, "8 seeded random inputs").map_err(CliError)?;
    print_check(plan, &check, args.tolerance);
    if !check.passes(args.tolerance) {
        return Err(CliError(format!(
            "refusing to export: max relative logit difference {:.3e} exceeds {:.1e}",
            check.max_rel, args.tolerance
        )));
    }
    folded_weights_to_file(plan, &weights, &args.out).map_err(|e| CliError(e.to_string()))?;
    println!(
        "wrote {}: {} (spec hash {}), {} floats ({} bytes); embed it with `include_bytes!` next to the code `hrf_compiler::build` generates for the same spec",
        args.out.display(),
        plan.name,
        plan.spec_hash,
        weights.len(),
        4 * weights.len()
    );
    Ok(ExitCode::SUCCESS)
}
