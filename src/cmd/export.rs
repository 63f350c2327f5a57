//! `hrf export`: a trained checkpoint → one folded model file, verified first: safetensors (the
//! spec's name, hash, dims and classes as metadata) for `include_bytes!` / build.rs embedding,
//! or ONNX (`hrf_onnx`: standard opset-17 ops, dynamic batch and frames) for other runtimes.

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
    /// The file format: safetensors (hrf's folded weights) or onnx (the whole folded model as
    /// an ONNX graph, opset 17; input `features` (batch, frames, features), output `logits`;
    /// the items of a batch share one length).
    #[arg(long, value_enum, default_value_t = Format::Safetensors)]
    pub format: Format,
    /// Largest accepted relative logit difference on the check inputs.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE)]
    pub tolerance: f64,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Safetensors,
    Onnx,
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
    if args.format == Format::Onnx {
        let bytes = hrf_onnx::to_onnx_bytes(plan, &weights).map_err(|e| {
            CliError(format!(
                "cannot export {} as ONNX: {e} (nothing was written)",
                plan.name
            ))
        })?;
        crate::run::atomic::write_atomic(&args.out, &bytes).map_err(|e| CliError(e.to_string()))?;
        println!(
            "wrote {}: {} (spec hash {}) as ONNX (opset 17), {} bytes; input `features` \
             (batch, frames, {}), output `logits` (batch, {})",
            args.out.display(),
            plan.name,
            plan.spec_hash,
            bytes.len(),
            plan.features,
            plan.classes.len()
        );
        return Ok(ExitCode::SUCCESS);
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
