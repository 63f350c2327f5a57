//! `hrf train`: a spec + a corpus fold → a run directory (checkpoints, history, run record),
//! with progress bars, validation each epoch, early stopping and `--resume`.

use std::path::PathBuf;
use std::process::ExitCode;

use hrf_audio::datasets::DataSource;
use indicatif::MultiProgress;

use super::CliError;
use super::threads::init_threads;
use serde_json::json;

use super::eval::write_plots;
use crate::pipeline::{Corpus, cache_dir};
use crate::report::{EvalScores, argmax, utc_now};
use crate::run::LoadedModel;
use crate::run::{
    self, RunInfo, SPEC_FILE, SpecSource, check_dir_creatable, ensure_writable_dir,
    write_text_atomic,
};
use crate::training::predict::trained_logits;
use crate::training::{TrainConfig, TrainJob, state_path, train};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// A preset name (`conformer_light_hrf`) or a path to a YAML spec.
    #[arg(long)]
    pub spec: String,
    /// The corpus: `synth`, `iemocap:<dir>`, `manifest:<file.csv>`… (see `hrf data --help`).
    #[arg(long, default_value = "synth")]
    pub data: DataSource,
    /// Protocol fold to train: index (0-based) or name (`Ses01`); its test set is held out.
    #[arg(long, default_value = "0")]
    pub fold: String,
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory (default: hrf-out/runs/<spec>-fold<N>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint (same spec, data, fold and settings).
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Peak learning rate (linear warmup over 5% of the steps, cosine decay to 0). Default:
    /// 1e-3, and 5e-4 for the `*_large` presets (wider models need a smaller step).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// AdamW's decoupled weight decay.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub weight_decay: f32,
    /// Epochs without a better validation UA before stopping (0 = never stop early).
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    /// Also checkpoint every N optimizer steps (0 = only at epoch ends).
    #[arg(long, default_value_t = 50)]
    pub checkpoint_steps: u64,
    /// Centre-crop utterances to at most this many frames (default: the spec's max_frames).
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Feature cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Test hook: exit abruptly (as if killed) after this many optimizer steps.
    #[arg(long, hide = true)]
    pub crash_after_steps: Option<u64>,
}

/// The default peak learning rate of a spec: 5e-4 for the `*_large` presets (d 192, six
/// blocks), 1e-3 otherwise. The demo trains with the same values.
pub fn default_lr(module: &str) -> f64 {
    if module.ends_with("large") {
        5e-4
    } else {
        1e-3
    }
}

/// The largest `--lr` accepted: past it, AdamW diverges on the first steps of any spec.
pub const MAX_LR: f64 = 10.0;
/// The largest `--weight-decay` accepted (AdamW multiplies each weight by 1 − lr·wd per step).
pub const MAX_WEIGHT_DECAY: f32 = 10.0;

impl Args {
    /// Every option problem, one per line; checked before anything is read or written.
    fn validate(&self) -> Result<(), CliError> {
        let mut problems = Vec::new();
        if self.epochs == 0 {
            problems.push("--epochs 0: train at least 1 epoch".to_owned());
        }
        if self.batch_size == 0 {
            problems.push("--batch-size 0: a batch holds at least 1 utterance".to_owned());
        }
        if self.max_frames == Some(0) {
            problems.push(
                "--max-frames 0: crop to at least 1 frame, or leave it out to use the spec's max_frames"
                    .to_owned(),
            );
        }
        if let Some(lr) = self.lr
            && !(lr.is_finite() && lr > 0.0 && lr <= MAX_LR)
        {
            problems.push(format!(
                "--lr {lr} must be a finite number > 0 and ≤ {MAX_LR} (the default is 1e-3, 5e-4 for large presets)"
            ));
        }
        if !(self.weight_decay.is_finite() && (0.0..=MAX_WEIGHT_DECAY).contains(&self.weight_decay))
        {
            problems.push(format!(
                "--weight-decay {} must be a finite number ≥ 0 and ≤ {MAX_WEIGHT_DECAY} (the default is 0.01)",
                self.weight_decay
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError(format!(
                "{} (nothing was written)",
                problems.join("\n")
            )))
        }
    }

    fn config(&self, spec_max_frames: usize, module: &str) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr.unwrap_or_else(|| default_lr(module)),
            weight_decay: self.weight_decay,
            warmup_fraction: 0.05,
            clip_norm: 5.0,
            patience: self.patience,
            seed: self.seed,
            checkpoint_steps: self.checkpoint_steps,
            max_frames: self
                .max_frames
                .unwrap_or(spec_max_frames)
                .min(spec_max_frames),
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    // Options, spec, --out, the run record and the data are all checked before --out is
    // created or written, so that a refused command leaves nothing behind.
    init_threads(args.threads)?;
    args.validate()?;
    let spec = SpecSource::resolve(&args.spec).map_err(|e| CliError(e.to_string()))?;
    let plan = spec.plan().map_err(CliError)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("hrf-out/runs/{}-fold{}", plan.module, args.fold))
    });
    // Fail on an unusable --out before loading data or training.
    check_dir_creatable(&out).map_err(|e| CliError(e.to_string()))?;
    let state = state_path(&out);
    let config = args.config(plan.max_frames, plan.module);
    let previous = RunInfo::load(&out).map_err(|e| CliError(e.to_string()))?;
    // A run killed before its first checkpoint has a record but no state: it restarts from
    // step 0, which is exactly where it stood.
    let resume_from_state = args.resume && state.is_file();
    if args.resume {
        if !state.is_file() && previous.is_none() {
            return Err(CliError(format!(
                "--resume: {} holds no training run ({} and {} are missing); start the run without --resume",
                out.display(),
                run::RUN_FILE,
                run::STATE_FILE
            )));
        }
        if let Some(info) = &previous {
            if info.spec_hash != plan.spec_hash {
                return Err(CliError(format!(
                    "--resume: the run in {} was trained with spec {} (hash {}), but --spec {} is {} (hash {}); pass the run's own spec (saved as {}/{SPEC_FILE})",
                    out.display(),
                    info.spec_name,
                    info.spec_hash,
                    args.spec,
                    plan.name,
                    plan.spec_hash,
                    out.display()
                )));
            }
            let hyper = serde_json::to_value(&config).unwrap_or_default();
            if info.data != args.data.to_string() || info.seed != args.seed || info.hyper != hyper {
                return Err(CliError(format!(
                    "--resume: the run in {} used --data {} --seed {} and settings {}; resume with the same options (only --threads may change)",
                    out.display(),
                    info.data,
                    info.seed,
                    info.hyper
                )));
            }
        }
    } else if state.is_file() {
        return Err(CliError(format!(
            "{} already holds a training run; continue it with --resume, or choose another --out (nothing was changed)",
            out.display()
        )));
    }

    let corpus = Corpus::load(
        &args.data,
        plan.classes,
        plan.features,
        &cache_dir(args.cache_dir.as_deref()),
    )
    .map_err(|e| CliError(e.to_string()))?;
    let fold = corpus
        .fold(&args.fold)
        .map_err(|e| CliError(e.to_string()))?;
    if let Some(info) = &previous
        && args.resume
        && info.fold_name != fold.name
    {
        return Err(CliError(format!(
            "--resume: the run in {} trained fold {}, not {}; pass --fold {}",
            out.display(),
            info.fold_name,
            fold.name,
            info.fold
        )));
    }
    ensure_writable_dir(&out).map_err(|e| CliError(e.to_string()))?;
    println!(
        "{}: {} on {} fold {} — {} train / {} val / {} test utterances, ≤ {} frames, {} epochs, seed {}",
        out.display(),
        plan.name,
        args.data,
        fold.name,
        fold.train.len(),
        fold.val.len(),
        fold.test.len(),
        config.max_frames,
        config.epochs,
        config.seed
    );
    if !resume_from_state {
        write_text_atomic(&out.join(SPEC_FILE), &spec.text).map_err(|e| CliError(e.to_string()))?;
        RunInfo {
            spec_name: plan.name.to_owned(),
            spec_hash: plan.spec_hash.to_owned(),
            spec_path: spec.label.clone(),
            data: args.data.to_string(),
            fold: corpus.fold_index(&fold),
            fold_name: fold.name.clone(),
            seed: args.seed,
            classes: plan.classes.iter().map(|c| (*c).to_owned()).collect(),
            train_utterances: fold.train.len(),
            val_utterances: fold.val.len(),
            test_utterances: fold.test.len(),
            hyper: serde_json::to_value(&config).unwrap_or_default(),
        }
        .save(&out)
        .map_err(|e| CliError(e.to_string()))?;
    }
    let bars = MultiProgress::new();
    let outcome = train(&TrainJob {
        spec: &spec,
        plan,
        corpus: &corpus,
        fold: &fold,
        config: &config,
        out: &out,
        resume: resume_from_state,
        crash_after_steps: args.crash_after_steps,
        bars: Some(&bars),
    })
    .map_err(|e| CliError(e.to_string()))?;
    println!(
        "{}: {} after {} steps ({:.1} s); best validation UA {:.1}% at epoch {} → {}",
        plan.name,
        outcome.stop_reason,
        outcome.steps,
        outcome.seconds,
        100.0 * outcome.best_ua,
        outcome.best_epoch,
        out.join(run::BEST_FILE).display()
    );
    write_train_report(&out, &args, &corpus, &fold, &outcome)?;
    Ok(ExitCode::SUCCESS)
}

/// `<run>/report.json` + `report.md`: the best checkpoint's validation metrics, the history,
/// and plots (learning curves, validation confusion). The test set stays untouched: score it
/// with `hrf eval`.
fn write_train_report(
    out: &std::path::Path,
    args: &Args,
    corpus: &Corpus,
    fold: &hrf_audio::datasets::Fold,
    outcome: &crate::training::TrainOutcome,
) -> Result<(), CliError> {
    let fail = |e: String| CliError(format!("training finished, but its report failed: {e}"));
    let model = LoadedModel::load(out, None).map_err(|e| fail(e.to_string()))?;
    let plan = model.checkpoint.plan;
    let mut trained = model.train_model().map_err(fail)?;
    let (logits, _) = trained_logits(&mut trained, corpus, &fold.val, model.max_frames())
        .map_err(|e| fail(e.to_string()))?;
    let truth: Vec<usize> = fold.val.iter().map(|&i| corpus.label(i)).collect();
    let predicted: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
    let scores =
        EvalScores::new(&corpus.dataset.classes, &truth, &predicted, None).map_err(fail)?;
    let report = json!({
        "command": "train",
        "created": utc_now(),
        "spec": { "name": plan.name, "hash": plan.spec_hash, "path": model.checkpoint.spec.label },
        "dataset": { "source": args.data.to_string(), "name": corpus.dataset.name,
                     "utterances": corpus.dataset.utterances.len() },
        "split": { "fold": fold.name, "scored": "validation", "utterances": fold.val.len(),
                   "train": fold.train.len(), "test": fold.test.len() },
        "seed": args.seed,
        "metrics": scores.metrics_json(),
        "training": {
            "best_epoch": outcome.best_epoch,
            "stop_reason": outcome.stop_reason,
            "steps": outcome.steps,
            "history": outcome.history,
        },
    });
    write_text_atomic(
        &out.join("report.json"),
        &serde_json::to_string_pretty(&report).unwrap_or_default(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let (plots, warnings) = write_plots(out, &scores, Some(out));
    let mut md = format!(
        "# hrf train — {}\n\n- data: `{}`, fold {} ({} train / {} validation / {} test utterances)\n- seed {}; {} after {} steps; best validation UA at epoch {}\n\nValidation scores of `best.safetensors` (score the test set with `hrf eval --model {}`):\n\n",
        plan.name,
        args.data,
        fold.name,
        fold.train.len(),
        fold.val.len(),
        fold.test.len(),
        args.seed,
        outcome.stop_reason,
        outcome.steps,
        outcome.best_epoch,
        out.display()
    );
    md.push_str(&scores.markdown());
    for f in plots
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
    {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        md.push_str(&format!("\n![{name}]({name})\n"));
    }
    write_text_atomic(&out.join("report.md"), &md).map_err(|e| fail(e.to_string()))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
