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
use crate::training::{ClassWeights, Crop, Select, TrainConfig, TrainJob, state_path, train};

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
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory (default: `hrf-out/runs/<spec>-fold<N>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint (same spec, data, fold and settings).
    #[arg(long)]
    pub resume: bool,
    /// Peak learning rate (linear warmup over 5% of the steps, cosine decay to 0). Default:
    /// 1e-3, and 5e-4 for the `*_large` presets (wider models need a smaller step).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Distill from this trained run (a run directory of `hrf train`; its best weights, run
    /// through the folded model, on exactly the batches the student sees).
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// α of the distilled loss `(1 − α)·CE + α·T²·KL(teacher ‖ student)`, in [0, 1].
    #[arg(
        long,
        default_value_t = 0.5,
        allow_negative_numbers = true,
        requires = "teacher"
    )]
    pub kd_weight: f32,
    /// Temperature T of the softened distributions, in (0, 100].
    #[arg(
        long,
        default_value_t = 2.0,
        allow_negative_numbers = true,
        requires = "teacher"
    )]
    pub kd_temperature: f32,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Feature cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Test hook: exit abruptly (as if killed) after this many optimizer steps.
    #[arg(long, hide = true)]
    pub crash_after_steps: Option<u64>,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

/// The training settings shared by `hrf train` and `hrf study` (everything but the spec, data,
/// seed and learning rate, which a study sets per cell).
#[derive(clap::Args, Clone, Debug)]
pub struct RecipeArgs {
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// AdamW's decoupled weight decay.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub weight_decay: f32,
    /// Epochs without a better validation UA before stopping (0 = never stop early).
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    /// Also checkpoint every N optimizer steps (0 = only at epoch ends).
    #[arg(long, default_value_t = 50)]
    pub checkpoint_steps: u64,
    /// Crop training utterances to at most this many frames (default: the spec's max_frames);
    /// evaluation scores longer utterances whole, by windows of this many frames (hop ½).
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// How a training utterance longer than --max-frames is cropped: a random window per step
    /// (deterministic in seed and step) or its centre.
    #[arg(long, value_enum, default_value_t = Crop::Random)]
    pub crop: Crop,
    /// SpecAugment time masks per training utterance (Park et al. 2019; LD policy: 2).
    #[arg(long, default_value_t = 2)]
    pub time_masks: usize,
    /// Largest time-mask width in frames; each width is uniform in [0, W] (LD: 100 = 1 s).
    #[arg(long, default_value_t = 100)]
    pub time_mask_width: usize,
    /// A time mask covers at most this share of the utterance (Park et al.'s p; 0.2 suits
    /// 2–5 s emotional utterances).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub time_mask_ratio: f64,
    /// SpecAugment frequency masks per training utterance (LD policy: 2).
    #[arg(long, default_value_t = 2)]
    pub freq_masks: usize,
    /// Largest frequency-mask width in mel bins, uniform in [0, F] (default: LD's 27 of 80
    /// bins scaled to the spec's bins, 22 of 64).
    #[arg(long)]
    pub freq_mask_width: Option<usize>,
    /// Turn SpecAugment off (overrides the four mask options).
    #[arg(long)]
    pub no_spec_augment: bool,
    /// Decay of the exponential moving average of the weights used for validation, the best
    /// checkpoint and therefore eval/fold/export (0 = off; warmed up as (1+t)/(10+t)).
    #[arg(long, default_value_t = 0.999, allow_negative_numbers = true)]
    pub ema_decay: f64,
    /// Label smoothing ε of the training loss, in [0, 1) (0 = off). The validation loss is
    /// always the plain cross-entropy.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub label_smoothing: f32,
    /// Class weights of the training loss: none, or balanced (inverse training-set class
    /// frequency, mean 1).
    #[arg(long, value_enum, default_value_t = ClassWeights::None)]
    pub class_weights: ClassWeights,
    /// Which validation score picks best.safetensors and drives --patience: ua (highest UA)
    /// or loss (lowest cross-entropy); of the EMA weights when --ema-decay > 0.
    #[arg(long, value_enum, default_value_t = Select::Ua)]
    pub select: Select,
}

/// The largest `--lr` accepted: past it, AdamW diverges on the first steps of any spec.
pub const MAX_LR: f64 = 10.0;
/// The largest `--weight-decay` accepted (AdamW multiplies each weight by 1 − lr·wd per step).
pub const MAX_WEIGHT_DECAY: f32 = 10.0;
/// The most SpecAugment masks of each kind accepted per utterance.
pub const MAX_MASKS: usize = 16;
/// The largest `--ema-decay` accepted below 1 (1 would never move the average).
pub const MAX_EMA_DECAY: f64 = 0.99999;

impl RecipeArgs {
    /// These options as command-line words (every one explicit, so a command printed by
    /// `hrf study --plan` does not depend on the defaults of the `hrf` that runs it).
    pub fn to_args(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |flag: &str, value: String| {
            out.push(flag.to_owned());
            out.push(value);
        };
        push("--epochs", self.epochs.to_string());
        push("--batch-size", self.batch_size.to_string());
        push("--weight-decay", self.weight_decay.to_string());
        push("--patience", self.patience.to_string());
        push("--checkpoint-steps", self.checkpoint_steps.to_string());
        if let Some(m) = self.max_frames {
            push("--max-frames", m.to_string());
        }
        push("--crop", value_name(&self.crop));
        push("--time-masks", self.time_masks.to_string());
        push("--time-mask-width", self.time_mask_width.to_string());
        push("--time-mask-ratio", self.time_mask_ratio.to_string());
        push("--freq-masks", self.freq_masks.to_string());
        if let Some(f) = self.freq_mask_width {
            push("--freq-mask-width", f.to_string());
        }
        push("--ema-decay", self.ema_decay.to_string());
        push("--label-smoothing", self.label_smoothing.to_string());
        push("--class-weights", value_name(&self.class_weights));
        push("--select", value_name(&self.select));
        if self.no_spec_augment {
            out.push("--no-spec-augment".to_owned());
        }
        out
    }

    /// Every problem of these options, one per line.
    pub fn problems(&self) -> Vec<String> {
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
        if !(self.weight_decay.is_finite() && (0.0..=MAX_WEIGHT_DECAY).contains(&self.weight_decay))
        {
            problems.push(format!(
                "--weight-decay {} must be a finite number ≥ 0 and ≤ {MAX_WEIGHT_DECAY} (the default is 0.01)",
                self.weight_decay
            ));
        }
        for (flag, n) in [
            ("--time-masks", self.time_masks),
            ("--freq-masks", self.freq_masks),
        ] {
            if n > MAX_MASKS {
                problems.push(format!(
                    "{flag} {n} must be in 0..={MAX_MASKS} (the default is 2)"
                ));
            }
        }
        if self.time_mask_width > 10_000 {
            problems.push(format!(
                "--time-mask-width {} must be in 0..=10000 frames (the default is 100)",
                self.time_mask_width
            ));
        }
        if !(self.time_mask_ratio.is_finite() && (0.0..=1.0).contains(&self.time_mask_ratio)) {
            problems.push(format!(
                "--time-mask-ratio {} must be a finite number in [0, 1] (the default is 0.2)",
                self.time_mask_ratio
            ));
        }
        if !(self.ema_decay.is_finite() && (0.0..=MAX_EMA_DECAY).contains(&self.ema_decay)) {
            problems.push(format!(
                "--ema-decay {} must be 0 (off) or a finite number in (0, {MAX_EMA_DECAY}] (the default is 0.999)",
                self.ema_decay
            ));
        }
        if !(self.label_smoothing.is_finite() && (0.0..1.0).contains(&self.label_smoothing)) {
            problems.push(format!(
                "--label-smoothing {} must be a finite number in [0, 1) (the default is 0.1; 0 = off)",
                self.label_smoothing
            ));
        }
        problems
    }

    /// The config of `plan` with these options, `seed` and `lr` (default: the spec's).
    pub fn config(
        &self,
        plan: &hrf_runtime::plan::ModelPlan,
        seed: u64,
        lr: Option<f64>,
    ) -> TrainConfig {
        let defaults = TrainConfig::recipe_defaults(plan, seed);
        let max_frames = self
            .max_frames
            .unwrap_or(plan.max_frames)
            .min(plan.max_frames);
        let spec_augment = !self.no_spec_augment;
        TrainConfig {
            lr: lr.unwrap_or(defaults.lr),
            max_frames,
            epochs: self.epochs,
            batch_size: self.batch_size,
            weight_decay: self.weight_decay,
            patience: self.patience,
            checkpoint_steps: self.checkpoint_steps,
            time_masks: if spec_augment { self.time_masks } else { 0 },
            time_mask_width: if spec_augment {
                self.time_mask_width
            } else {
                0
            },
            time_mask_ratio: self.time_mask_ratio,
            freq_masks: if spec_augment { self.freq_masks } else { 0 },
            freq_mask_width: if spec_augment {
                self.freq_mask_width.unwrap_or(defaults.freq_mask_width)
            } else {
                0
            },
            crop: self.crop,
            ema_decay: self.ema_decay,
            label_smoothing: self.label_smoothing,
            class_weights: self.class_weights,
            select: self.select,
            ..defaults
        }
    }
}

/// The problems of `--kd-weight` and `--kd-temperature` (shared by `hrf train` and `hrf study`).
pub fn kd_problems(weight: f32, temperature: f32) -> Vec<String> {
    let mut problems = Vec::new();
    if !(weight.is_finite() && (0.0..=1.0).contains(&weight)) {
        problems.push(format!(
            "--kd-weight {weight} must be a finite number in [0, 1] (the default is 0.5)"
        ));
    }
    if !(temperature.is_finite() && temperature > 0.0 && temperature <= 100.0) {
        problems.push(format!(
            "--kd-temperature {temperature} must be a finite number in (0, 100] (the default is 2)"
        ));
    }
    problems
}

impl Args {
    /// Every option problem, one per line; checked before anything is read or written.
    fn validate(&self) -> Result<(), CliError> {
        let mut problems = self.recipe.problems();
        problems.extend(kd_problems(self.kd_weight, self.kd_temperature));
        if let Some(lr) = self.lr
            && !(lr.is_finite() && lr > 0.0 && lr <= MAX_LR)
        {
            problems.push(format!(
                "--lr {lr} must be a finite number > 0 and ≤ {MAX_LR} (the default is 1e-3, 5e-4 for large presets)"
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

    fn config(&self, plan: &hrf_runtime::plan::ModelPlan) -> TrainConfig {
        self.recipe.config(plan, self.seed, self.lr)
    }
}

/// The teacher of `--teacher DIR`: its best weights folded, and the record run.json keeps.
pub fn load_teacher(
    dir: &std::path::Path,
    weight: f32,
    temperature: f32,
) -> Result<(crate::training::Teacher, crate::training::TeacherRef), CliError> {
    let model = LoadedModel::load(dir, None).map_err(|e| {
        CliError(format!(
            "--teacher {}: {e}; pass the run directory of a finished `hrf train`",
            dir.display()
        ))
    })?;
    let plan = model.checkpoint.plan;
    let weights =
        hrf_runtime::fold::fold_model(plan, &model.checkpoint.params, &model.checkpoint.buffers)
            .map_err(|e| {
                CliError(format!(
                    "--teacher {}: cannot fold {}: {e}",
                    dir.display(),
                    plan.name
                ))
            })?;
    Ok((
        crate::training::Teacher { plan, weights },
        crate::training::TeacherRef {
            run: dir.display().to_string(),
            spec_name: plan.name.to_owned(),
            spec_hash: plan.spec_hash.to_owned(),
            weight,
            temperature,
        },
    ))
}

/// The command-line spelling of a value-enum option.
fn value_name<T: clap::ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

/// One line naming the recipe settings of `config`.
pub fn recipe_line(c: &TrainConfig) -> String {
    let augment = if c.spec_augment().is_on() {
        format!(
            "SpecAugment {}×F≤{} + {}×T≤{} (≤{}·len)",
            c.freq_masks, c.freq_mask_width, c.time_masks, c.time_mask_width, c.time_mask_ratio
        )
    } else {
        "no SpecAugment".to_owned()
    };
    format!(
        "recipe: {augment}, {} crops, EMA {}, label smoothing {}, class weights {}, best by {}",
        match c.crop {
            Crop::Random => "random",
            Crop::Centre => "centre",
        },
        if c.ema_decay > 0.0 {
            c.ema_decay.to_string()
        } else {
            "off".to_owned()
        },
        c.label_smoothing,
        match c.class_weights {
            ClassWeights::None => "none",
            ClassWeights::Balanced => "balanced",
        },
        c.select.describe()
    )
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    // Options, spec, --out, the run record and the data are all checked before --out is
    // created or written, so that a refused command leaves nothing behind.
    init_threads(args.threads)?;
    args.validate()?;
    let spec = SpecSource::resolve(&args.spec).map_err(|e| CliError(e.to_string()))?;
    let plan = spec.plan().map_err(CliError)?;
    super::budget::check_batch(&spec, args.recipe.batch_size)?;
    if let Some(width) = args.recipe.freq_mask_width
        && width > plan.features
    {
        return Err(CliError(format!(
            "--freq-mask-width {width} must be in 0..={} (the spec's mel bins; the default is {}) (nothing was written)",
            plan.features,
            crate::training::default_freq_mask_width(plan.features)
        )));
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("hrf-out/runs/{}-fold{}", plan.module, args.fold))
    });
    // Fail on an unusable --out before loading data or training.
    check_dir_creatable(&out).map_err(|e| CliError(e.to_string()))?;
    let state = state_path(&out);
    let mut config = args.config(plan);
    let teacher = match &args.teacher {
        None => None,
        Some(dir) => {
            let (teacher, record) = load_teacher(dir, args.kd_weight, args.kd_temperature)?;
            config.teacher = Some(record);
            Some(teacher)
        }
    };
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
            // Compared as configs: recipe settings a record from before they existed lacks
            // take their "off" defaults, which is what that run did.
            let recorded = TrainConfig::from_record(&info.hyper).map_err(|e| {
                CliError(format!(
                    "--resume: the settings in {}/{} are not readable ({e}); start a new run",
                    out.display(),
                    run::RUN_FILE
                ))
            })?;
            if info.data != args.data.to_string() || info.seed != args.seed || recorded != config {
                let differences = recorded.differences(&config);
                return Err(CliError(format!(
                    "--resume: the run in {} used --data {} --seed {} and settings {}; resume with the same options (only --threads may change){}",
                    out.display(),
                    info.data,
                    info.seed,
                    info.hyper,
                    if differences.is_empty() {
                        String::new()
                    } else if info.hyper.get("crop").is_none() {
                        format!(
                            "; differing: {} (this run was recorded before the training recipe existed: it trained with --no-spec-augment --crop centre --ema-decay 0 --label-smoothing 0)",
                            differences.join(", ")
                        )
                    } else {
                        format!("; differing: {}", differences.join(", "))
                    }
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
    println!("{}", recipe_line(&config));
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
        teacher: teacher.as_ref(),
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
        "# hrf train — {}\n\n- data: `{}`, fold {} ({} train / {} validation / {} test utterances)\n- seed {}; {} after {} steps; checkpoint chosen by best {} at epoch {}\n\nValidation scores of `best.safetensors` (score the test set with `hrf eval --model {}`):\n\n",
        plan.name,
        args.data,
        fold.name,
        fold.train.len(),
        fold.val.len(),
        fold.test.len(),
        args.seed,
        outcome.stop_reason,
        outcome.steps,
        args.recipe.select.describe(),
        outcome.best_epoch,
        out.display()
    );
    md.push_str(&scores.markdown());
    crate::report::embed_svgs(&mut md, &plots);
    write_text_atomic(&out.join("report.md"), &md).map_err(|e| fail(e.to_string()))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
