//! `hrf fold`: a trained checkpoint → the folded (deployed) model, verified against the trained
//! model's logits on held-out utterances; nothing is written past the tolerance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hrf_audio::datasets::DataSource;
use hrf_runtime::infer::{folded_weights_to_file, predict_folded, scratch_len};
use hrf_runtime::plan::{ModelPlan, PlanOp};
use hrf_runtime::train::TrainModel;
use serde_json::json;

use super::CliError;
use super::threads::init_threads;
use crate::pipeline::{Corpus, cache_dir};
use crate::report::utc_now;
use crate::run::{LoadedModel, check_dir_creatable, ensure_writable_dir, write_text_atomic};

/// Default bound on the relative logit difference (see [`FoldCheck::max_rel`]).
pub const DEFAULT_TOLERANCE: f64 = 1e-4;

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// A run directory written by `hrf train` or a checkpoint file.
    #[arg(long)]
    pub model: PathBuf,
    /// Corpus whose held-out utterances are compared (default: the run's corpus and fold; a
    /// bare checkpoint without --data is checked on seeded random frames).
    #[arg(long)]
    pub data: Option<DataSource>,
    /// Output directory: folded.safetensors and fold.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Utterances compared.
    #[arg(long, default_value_t = 64)]
    pub utterances: usize,
    /// Largest accepted relative logit difference.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE, allow_negative_numbers = true)]
    pub tolerance: f64,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

/// Folded vs trained logits over a set of utterances.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldCheck {
    pub utterances: usize,
    /// max |folded − trained| over every logit.
    pub max_abs: f64,
    /// max over utterances of max|folded − trained| / max(max|trained|, 1): the difference
    /// relative to the utterance's logit scale (logits near 0 do not blow it up).
    pub max_rel: f64,
    /// Utterances whose predicted class differs.
    pub argmax_changes: usize,
    /// Where the utterances came from.
    pub source: String,
}

impl FoldCheck {
    /// Whether the largest relative difference is within `tolerance`.
    pub fn passes(&self, tolerance: f64) -> bool {
        self.max_rel <= tolerance
    }
}

/// Folds `model`, compares it with the trained form on `inputs` (`(frames, features)` each).
pub fn fold_and_check(
    trained: &mut TrainModel,
    inputs: &[Vec<f32>],
    source: &str,
) -> Result<(Vec<f32>, FoldCheck), String> {
    let plan = trained.plan();
    let weights = hrf_runtime::fold::fold_model(plan, trained.params(), trained.buffers())
        .map_err(|e| format!("cannot fold {}: {e}", plan.name))?;
    let mut scratch = vec![0.0f32; scratch_len(plan)];
    let mut folded = vec![0.0f32; plan.num_classes()];
    let mut check = FoldCheck {
        utterances: inputs.len(),
        max_abs: 0.0,
        max_rel: 0.0,
        argmax_changes: 0,
        source: source.to_owned(),
    };
    for frames in inputs {
        let reference = trained.predict(frames).map_err(|e| e.to_string())?;
        predict_folded(plan, &weights, frames, &mut scratch, &mut folded)
            .map_err(|e| format!("folded model refused an input: {e}"))?;
        let scale = reference
            .iter()
            .fold(1.0f64, |m, &x| m.max(f64::from(x).abs()));
        // A NaN difference must not vanish in `max` (f64::max ignores NaN): count it as ∞.
        let diff = reference.iter().zip(&folded).fold(0.0f64, |m, (&a, &b)| {
            let d = (f64::from(a) - f64::from(b)).abs();
            m.max(if d.is_nan() { f64::INFINITY } else { d })
        });
        check.max_abs = check.max_abs.max(diff);
        check.max_rel = check.max_rel.max(diff / scale);
        if crate::report::argmax(&reference) != crate::report::argmax(&folded) {
            check.argmax_changes += 1;
        }
    }
    Ok((weights, check))
}

/// `n` seeded pseudo-random utterances shaped like log-Mel input: each feature drawn around the
/// model's CMVN mean with its std (uniform, same variance); the first has `limit` frames, the
/// others lengths spread down to 16 frames.
pub fn random_inputs(trained: &TrainModel, n: usize, limit: usize) -> Vec<Vec<f32>> {
    let plan = trained.plan();
    let (mean, std) = feature_stats(plan, trained.buffers());
    let mut state = 0x5EED_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0 // uniform in [-1, 1)
    };
    let min_frames = 16.min(limit);
    (0..n)
        .map(|u| {
            let frames = limit - (u * 37) % (limit - min_frames + 1);
            (0..frames * plan.features)
                .map(|k| {
                    let f = k % plan.features;
                    // Uniform on [-√3, √3] has unit variance.
                    (f64::from(mean[f]) + f64::from(std[f]) * 3f64.sqrt() * next()) as f32
                })
                .collect()
        })
        .collect()
}

/// The model's CMVN mean and std (zeros and ones when the spec has no feature norm).
fn feature_stats(plan: &ModelPlan, buffers: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let name = plan.ops.iter().find_map(|op| match op {
        PlanOp::FeatureNorm { name, .. } => Some(*name),
        _ => None,
    });
    let get = |suffix: &str, default: f32| {
        name.and_then(|n| plan.train.buffer(&format!("{n}.{suffix}")))
            .map_or(vec![default; plan.features], |s| {
                buffers[s.range()].to_vec()
            })
    };
    (get("mean", 0.0), get("std", 1.0))
}

/// Held-out utterances for the check: the run's (or `--data`'s) test set, else random frames.
pub fn check_inputs(
    model: &LoadedModel,
    trained: &TrainModel,
    data: Option<&DataSource>,
    n: usize,
    cache: &Path,
) -> Result<(Vec<Vec<f32>>, String), String> {
    let plan = model.checkpoint.plan;
    let limit = model.max_frames();
    let run_data = model
        .info
        .as_ref()
        .and_then(|i| i.data.parse::<DataSource>().ok());
    let Some(source) = data.cloned().or(run_data) else {
        return Ok((
            random_inputs(trained, n, limit),
            format!("{n} seeded random inputs (no corpus given)"),
        ));
    };
    let corpus =
        Corpus::load(&source, plan.classes, plan.features, cache).map_err(|e| e.to_string())?;
    let fold_name = model
        .info
        .as_ref()
        .map_or("0".to_owned(), |i| i.fold_name.clone());
    let indices = match corpus.fold(&fold_name) {
        Ok(fold) => fold.test,
        Err(_) => (0..corpus.dataset.utterances.len()).collect(),
    };
    let picked: Vec<Vec<f32>> = indices
        .iter()
        .take(n)
        .map(|&i| corpus.frames(i, limit).to_vec())
        .collect();
    let description = format!("{} held-out utterances of {source}", picked.len());
    Ok((picked, description))
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    // Before anything is read or written, and before the first parallel call.
    init_threads(args.threads)?;
    if !(args.tolerance.is_finite() && args.tolerance > 0.0) {
        return Err(CliError(format!(
            "--tolerance {} must be a finite number > 0 (the default is {DEFAULT_TOLERANCE:e}; nothing was written)",
            args.tolerance
        )));
    }
    check_dir_creatable(&args.out).map_err(|e| CliError(e.to_string()))?;
    let model = LoadedModel::load(&args.model, None).map_err(|e| CliError(e.to_string()))?;
    let plan = model.checkpoint.plan;
    let mut trained = model.train_model().map_err(CliError)?;
    let (inputs, source) = check_inputs(
        &model,
        &trained,
        args.data.as_ref(),
        args.utterances.max(1),
        &cache_dir(args.cache_dir.as_deref()),
    )
    .map_err(CliError)?;
    let (weights, check) = fold_and_check(&mut trained, &inputs, &source).map_err(CliError)?;
    print_check(plan, &check, args.tolerance);
    if !check.passes(args.tolerance) {
        return Err(CliError(format!(
            "refusing to write the folded model: max relative logit difference {:.3e} exceeds the tolerance {:.1e}; this is a fold bug — please report it with the checkpoint",
            check.max_rel, args.tolerance
        )));
    }
    ensure_writable_dir(&args.out).map_err(|e| CliError(e.to_string()))?;
    let path = args.out.join("folded.safetensors");
    folded_weights_to_file(plan, &weights, &path).map_err(|e| CliError(e.to_string()))?;
    let record = json!({
        "command": "fold",
        "created": utc_now(),
        "model": model.path.display().to_string(),
        "spec": { "name": plan.name, "hash": plan.spec_hash },
        "check": check_json(&check, args.tolerance),
        "train_params": plan.train.params_len(),
        "folded_params": plan.folded.params_len(),
        "folded_arena": weights.len(),
        "file": path.display().to_string(),
    });
    write_text_atomic(
        &args.out.join("fold.json"),
        &serde_json::to_string_pretty(&record).unwrap_or_default(),
    )
    .map_err(|e| CliError(e.to_string()))?;
    println!(
        "wrote {} ({} floats: {} train-time params → {} deployed params + {} buffers)",
        path.display(),
        weights.len(),
        plan.train.params_len(),
        plan.folded.params_len(),
        plan.folded.buffers_len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn print_check(plan: &ModelPlan, check: &FoldCheck, tolerance: f64) {
    println!(
        "{}: folded vs trained logits on {}: max abs diff {:.3e}, max rel diff {:.3e} (tolerance {:.1e}), {} predictions changed",
        plan.name, check.source, check.max_abs, check.max_rel, tolerance, check.argmax_changes
    );
}

pub fn check_json(check: &FoldCheck, tolerance: f64) -> serde_json::Value {
    json!({
        "utterances": check.utterances,
        "inputs": check.source,
        "max_abs_diff": check.max_abs,
        "max_rel_diff": check.max_rel,
        "tolerance": tolerance,
        "argmax_changes": check.argmax_changes,
        "passed": check.passes(tolerance),
    })
}
