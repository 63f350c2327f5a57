//! Training stage: the epoch loop — seeded batches (random crops, SpecAugment), optimizer steps,
//! the weight EMA, step and epoch checkpoints (full state, atomic), validation (of the EMA
//! weights when on) with best-checkpoint selection by UA or loss, early stopping, exact resume.
//!
//! Determinism: the epoch order depends only on `(seed, epoch)`, the dropout seed of a step
//! only on `(seed, global step)`, and each utterance's crop and masks only on `(seed, global
//! step, position in batch)`; the EMA is saved with the state; the engine's reductions run in a
//! fixed order. So a run resumed from any checkpoint replays exactly the steps an uninterrupted
//! run would take.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hrf_audio::datasets::Fold;
use hrf_runtime::batch::{Batch, UtteranceRef, epoch_batches};
use hrf_runtime::optim::{AdamWConfig, ClipError};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::train::{Mode, Optimizer, OptimizerConfig, TrainError, TrainModel, TrainState};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::predict::trained_logits;
use super::recipe::{
    Ema, Stream, balanced_class_weights, centre_crop_start, random_crop_start, utterance_rng,
};
use super::{ClassWeights, Crop, KeptCheckpoint, Select, TrainConfig, TrainRunError};
use crate::pipeline::Corpus;
use crate::report::{EvalScores, argmax};
use crate::run::{
    BEST_FILE, Checkpoint, EmaWeights, EpochRecord, HISTORY_FILE, STATE_FILE, SpecSource,
    TrainProgress, write_text_atomic,
};

/// What a finished (or early-stopped) training run produced.
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    /// Validation UA of the best epoch (chosen by `config.select`).
    pub best_ua: f64,
    pub best_epoch: usize,
    pub history: Vec<EpochRecord>,
    pub stop_reason: String,
    pub steps: u64,
    /// Wall-clock seconds of this invocation.
    pub seconds: f64,
}

/// Everything [`train`] needs.
pub struct TrainJob<'a> {
    pub spec: &'a SpecSource,
    pub plan: &'static ModelPlan,
    pub corpus: &'a Corpus,
    pub fold: &'a Fold,
    pub config: &'a TrainConfig,
    /// The run directory (already checked writable).
    pub out: &'a Path,
    /// Continue from `<out>/state.safetensors`.
    pub resume: bool,
    /// Test hook: exit the process (like a crash: nothing is flushed) after this many steps.
    pub crash_after_steps: Option<u64>,
    /// Progress bars are drawn here; hidden when `None`.
    pub bars: Option<&'a MultiProgress>,
    /// The folded teacher of a distilled run (`config.teacher` names it).
    pub teacher: Option<&'a Teacher>,
}

/// A trained teacher, run through its folded model: it sees exactly the batch the student
/// sees (same crop, same SpecAugment masks — the "consistent teaching" of Beyer et al. 2022).
pub struct Teacher {
    pub plan: &'static ModelPlan,
    pub weights: Vec<f32>,
}

impl Teacher {
    /// `(batch, classes)` logits of every utterance of `batch`, in parallel.
    fn logits(&self, batch: &Batch) -> Result<Vec<f32>, TrainRunError> {
        use rayon::prelude::*;
        let classes = self.plan.num_classes();
        let scratch = hrf_runtime::infer::scratch_len(self.plan);
        let rows: Vec<Vec<f32>> = (0..batch.len())
            .into_par_iter()
            .map_init(
                || vec![0.0f32; scratch],
                |scratch, k| {
                    let mut out = vec![0.0f32; classes];
                    hrf_runtime::infer::predict_folded(
                        self.plan,
                        &self.weights,
                        batch.utterance_frames(k),
                        scratch,
                        &mut out,
                    )
                    .map(|()| out)
                    .map_err(|e| TrainRunError::Other(format!("the teacher refused an input: {e}")))
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(rows.concat())
    }
}

/// A new seed per step, a pure function of `(seed, step)` (SplitMix64 finaliser).
fn step_seed(seed: u64, step: u64) -> u64 {
    let mut z = seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn engine(e: TrainError) -> TrainRunError {
    TrainRunError::Other(e.to_string())
}

/// Trains (or resumes) one run; see the module docs.
pub fn train(job: &TrainJob<'_>) -> Result<TrainOutcome, TrainRunError> {
    let start = Instant::now();
    let TrainJob {
        spec,
        plan,
        corpus,
        fold,
        config,
        out,
        ..
    } = *job;
    let limit = config.max_frames.min(plan.max_frames).max(1);
    match (job.teacher, &config.teacher) {
        (None, None) => {}
        (Some(t), Some(r)) => {
            if t.plan.classes != plan.classes || t.plan.features != plan.features {
                return Err(TrainRunError::Other(format!(
                    "teacher {} ({}) has other classes or features than {}; distill from a model of the same task",
                    r.run, t.plan.name, plan.name
                )));
            }
            if t.plan.max_frames < limit {
                return Err(TrainRunError::Other(format!(
                    "teacher {} takes at most {} frames, the student's crops have {limit}; pass --max-frames {}",
                    r.run, t.plan.max_frames, t.plan.max_frames
                )));
            }
        }
        _ => {
            return Err(TrainRunError::Other(
                "a distilled run needs both its teacher's record and its folded weights".to_owned(),
            ));
        }
    }
    let train_set = &fold.train;
    let val_set = if fold.val.is_empty() {
        return Err(TrainRunError::Other(format!(
            "fold `{}` has no validation utterances; the protocol needs at least 2 training speakers",
            fold.name
        )));
    } else {
        &fold.val
    };
    let batches_per_epoch = train_set.len().div_ceil(config.batch_size.max(1));
    let total_steps = (batches_per_epoch * config.epochs).max(1) as u64;
    let opt_config = OptimizerConfig {
        adamw: AdamWConfig {
            weight_decay: config.weight_decay,
            ..AdamWConfig::default()
        },
        peak_lr: config.lr,
        floor_lr: 0.0,
        warmup_steps: (total_steps as f64 * config.warmup_fraction).round() as u64,
        total_steps,
        clip_norm: Some(config.clip_norm),
    };

    let state_path = out.join(STATE_FILE);
    let mut model = TrainModel::try_new(plan, config.seed).map_err(engine)?;
    let (mut optimizer, mut progress, mut ema) = if job.resume {
        let ckpt = Checkpoint::load(&state_path, Some(plan))?;
        let progress = ckpt.progress.clone().unwrap_or_default();
        let ema = match (config.ema_decay > 0.0, ckpt.ema.clone()) {
            (false, _) => None,
            (true, Some(e)) => Some(Ema {
                decay: config.ema_decay,
                params: e.params,
                buffers: e.buffers,
            }),
            (true, None) => {
                return Err(TrainRunError::Other(format!(
                    "{} holds no weight EMA, but the run uses --ema-decay {}; it cannot resume \
                     exactly: start a new run",
                    state_path.display(),
                    config.ema_decay
                )));
            }
        };
        let state = TrainState {
            params: ckpt.params,
            buffers: ckpt.buffers,
            optimizer: ckpt.optimizer,
            step: ckpt.step,
        };
        let moments = state.restore(&mut model).map_err(engine)?.ok_or_else(|| {
            TrainRunError::Other(format!(
                "{} holds no optimizer state, so training cannot resume exactly; start a new run",
                state_path.display()
            ))
        })?;
        let optimizer = Optimizer::from_state(&model, opt_config, moments).map_err(engine)?;
        (optimizer, progress, ema)
    } else {
        let stats = corpus
            .feature_stats(train_set)
            .map_err(|e| TrainRunError::Other(e.to_string()))?;
        model
            .set_feature_stats(&stats.mean, &stats.std)
            .map_err(engine)?;
        let optimizer = Optimizer::new(&model, opt_config).map_err(engine)?;
        let ema = (config.ema_decay > 0.0)
            .then(|| Ema::new(config.ema_decay, model.params(), model.buffers()));
        (optimizer, TrainProgress::default(), ema)
    };
    // The training objective (the validation loss stays plain cross-entropy: Eval mode).
    let class_weights = match config.class_weights {
        ClassWeights::None => None,
        ClassWeights::Balanced => Some(balanced_class_weights(
            train_set.iter().map(|&i| corpus.label(i)),
            plan.num_classes(),
        )),
    };
    model
        .set_objective(class_weights.as_deref(), config.label_smoothing)
        .map_err(engine)?;
    let spec_augment = config.spec_augment();
    // SpecAugment fills masks with the training mean (0 after the model's own CMVN).
    let mask_fill = model
        .feature_mean()
        .unwrap_or_else(|| vec![0.0; plan.features]);

    let hidden = MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden());
    let bars = job.bars.unwrap_or(&hidden);
    let epoch_bar = bars.add(ProgressBar::new(config.epochs as u64));
    epoch_bar.set_style(
        ProgressStyle::with_template("{prefix:>12} epoch {pos}/{len} {bar:20.green/white} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    epoch_bar.set_prefix(plan.module.to_owned());
    epoch_bar.set_position(progress.epoch as u64);
    let step_bar = bars.add(ProgressBar::new(batches_per_epoch as u64));
    step_bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} step {pos}/{len} {bar:30.cyan/blue} {msg} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    step_bar.set_prefix(plan.module.to_owned());
    let best_msg = |p: &TrainProgress| {
        p.best_ua.map_or(String::new(), |ua| {
            format!(
                "best val UA {:.1}% (epoch {}, by {})",
                100.0 * ua,
                p.best_epoch,
                config.select.describe()
            )
        })
    };
    epoch_bar.set_message(best_msg(&progress));

    let save_state =
        |model: &TrainModel, optimizer: &Optimizer, progress: &TrainProgress, ema: &Option<Ema>| {
            Checkpoint {
                spec: spec.clone(),
                plan,
                params: model.params().to_vec(),
                buffers: model.buffers().to_vec(),
                optimizer: Some(optimizer.state().clone()),
                step: model.step(),
                progress: Some(progress.clone()),
                ema: ema.as_ref().map(|e| EmaWeights {
                    params: e.params.clone(),
                    buffers: e.buffers.clone(),
                }),
            }
            .save(&state_path)
        };
    let mut batch = Batch::default();

    while progress.finished.is_none() && progress.epoch < config.epochs {
        let epoch = progress.epoch;
        let order = epoch_batches(
            train_set.len(),
            config.batch_size,
            config.seed,
            epoch as u64,
        )
        .map_err(|e| TrainRunError::Other(e.to_string()))?;
        step_bar.set_length(order.len() as u64);
        step_bar.set_position(progress.step_in_epoch as u64);
        step_bar.reset_eta();
        let mut lr = 0.0;
        for positions in order.iter().skip(progress.step_in_epoch) {
            let step = progress.global_step;
            let utts: Vec<UtteranceRef<'_>> = positions
                .iter()
                .enumerate()
                .map(|(k, &p)| {
                    let i = train_set[p];
                    let total = corpus.frame_count(i);
                    let start = match config.crop {
                        Crop::Centre => centre_crop_start(total, limit),
                        Crop::Random => random_crop_start(
                            total,
                            limit,
                            &mut utterance_rng(config.seed, step, k, Stream::Crop),
                        ),
                    };
                    UtteranceRef {
                        frames: corpus.window(i, start, limit),
                        label: corpus.label(i),
                    }
                })
                .collect();
            batch
                .refill(&utts, plan.features, plan.max_frames)
                .map_err(|e| TrainRunError::Other(e.to_string()))?;
            if spec_augment.is_on() {
                let (f, stride) = (batch.features, batch.max_frames * batch.features);
                for k in 0..batch.len() {
                    let len = batch.lengths[k];
                    spec_augment.apply(
                        &mut batch.frames[k * stride..k * stride + len * f],
                        f,
                        &mask_fill,
                        &mut utterance_rng(config.seed, step, k, Stream::Masks),
                    );
                }
            }
            if let (Some(teacher), Some(kd)) = (job.teacher, &config.teacher) {
                let logits = teacher.logits(&batch)?;
                model
                    .set_distillation(&logits, kd.weight, kd.temperature)
                    .map_err(engine)?;
            }
            let mode = Mode::Train {
                dropout_seed: step_seed(config.seed, progress.global_step),
            };
            let non_finite = |what: &'static str, value: f32| TrainRunError::NonFinite {
                what,
                value,
                epoch: epoch + 1,
                step: progress.global_step + 1,
                lr: config.lr,
                kept: kept_checkpoint(out),
            };
            let loss = match model.forward(&batch, mode) {
                Ok(loss) if loss.is_finite() => loss,
                Ok(loss) => return Err(non_finite("loss", loss)),
                Err(TrainError::NonFiniteLoss { .. }) => return Err(non_finite("loss", f32::NAN)),
                Err(e) => return Err(engine(e)),
            };
            model.backward().map_err(engine)?;
            let report = match optimizer.step(&mut model) {
                Ok(r) => r,
                Err(TrainError::NonFiniteLoss { .. }) => {
                    return Err(non_finite("loss", f32::INFINITY));
                }
                Err(TrainError::Clip(ClipError::NonFiniteNorm { norm, .. })) => {
                    return Err(non_finite("gradient norm", norm as f32));
                }
                Err(e) => return Err(engine(e)),
            };
            lr = f64::from(report.lr);
            if let Some(e) = &mut ema {
                e.update(progress.global_step, model.params(), model.buffers());
            }
            progress.global_step += 1;
            progress.step_in_epoch += 1;
            progress.epoch_loss_sum += f64::from(loss);
            step_bar.inc(1);
            step_bar.set_message(format!(
                "loss {:.3} (epoch mean {:.3})",
                loss,
                progress.epoch_loss_sum / progress.step_in_epoch as f64
            ));
            if config.checkpoint_steps > 0 && progress.global_step % config.checkpoint_steps == 0 {
                save_state(&model, &optimizer, &progress, &ema)?;
            }
            if job.crash_after_steps == Some(progress.global_step) {
                // Test hook: stop like `kill -9` would, with only the checkpoints written so far.
                std::process::exit(137);
            }
        }

        // Validation, best checkpoint, history, early stopping.
        step_bar.set_message("validating…".to_owned());
        // With EMA, validate the averaged weights (swapped in, then the live ones restored
        // bit for bit: an Eval forward changes no params or buffers).
        let live = ema.as_ref().map(|e| {
            let live = (model.params().to_vec(), model.buffers().to_vec());
            model.params_mut().copy_from_slice(&e.params);
            model.buffers_mut().copy_from_slice(&e.buffers);
            live
        });
        let validated = trained_logits(&mut model, corpus, val_set, limit);
        if let Some((params, buffers)) = &live {
            model.params_mut().copy_from_slice(params);
            model.buffers_mut().copy_from_slice(buffers);
        }
        let (logits, val_loss) = match validated {
            Ok(r) => r,
            Err(TrainError::NonFiniteLoss { .. }) => {
                return Err(TrainRunError::NonFinite {
                    what: "validation loss",
                    value: f32::NAN,
                    epoch: epoch + 1,
                    step: progress.global_step,
                    lr: config.lr,
                    kept: kept_checkpoint(out),
                });
            }
            Err(e) => return Err(engine(e)),
        };
        let truth: Vec<usize> = val_set.iter().map(|&i| corpus.label(i)).collect();
        let predicted: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
        let scores = EvalScores::new(&corpus.dataset.classes, &truth, &predicted, None)
            .map_err(TrainRunError::Other)?
            .scores;
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: progress.epoch_loss_sum / progress.step_in_epoch.max(1) as f64,
            val_loss,
            val_ua: scores.unweighted_accuracy,
            val_wa: scores.weighted_accuracy,
            val_macro_f1: scores.macro_f1,
            lr,
        };
        progress.history.push(record.clone());
        let better = match config.select {
            Select::Ua => progress.best_ua.is_none_or(|best| record.val_ua > best),
            Select::Loss => progress
                .best_val_loss
                .is_none_or(|best| record.val_loss < best),
        };
        if better {
            progress.best_ua = Some(record.val_ua);
            progress.best_val_loss = Some(record.val_loss);
            progress.best_epoch = epoch + 1;
            progress.epochs_since_best = 0;
            // The weights validated: the EMA's when on (so eval, fold and export use them).
            let (params, buffers) = match &ema {
                Some(e) => (e.params.clone(), e.buffers.clone()),
                None => (model.params().to_vec(), model.buffers().to_vec()),
            };
            Checkpoint {
                spec: spec.clone(),
                plan,
                params,
                buffers,
                optimizer: None,
                step: model.step(),
                progress: None,
                ema: None,
            }
            .save(&out.join(BEST_FILE))?;
        } else {
            progress.epochs_since_best += 1;
        }
        progress.epoch += 1;
        progress.step_in_epoch = 0;
        progress.epoch_loss_sum = 0.0;
        if config.patience > 0 && progress.epochs_since_best >= config.patience {
            progress.finished = Some(format!(
                "early stopping: no better {} for {} epochs",
                config.select.describe(),
                config.patience
            ));
        } else if progress.epoch >= config.epochs {
            progress.finished = Some(format!("all {} epochs done", config.epochs));
        }
        write_history(out, &progress.history)?;
        save_state(&model, &optimizer, &progress, &ema)?;
        epoch_bar.set_position(progress.epoch as u64);
        epoch_bar.set_message(best_msg(&progress));
        let line = format!(
            "{} epoch {:>3}/{}: train loss {:.4}, val{} loss {:.4}, val UA {:.1}%, WA {:.1}%, F1 {:.1}%{}",
            plan.module,
            record.epoch,
            config.epochs,
            record.train_loss,
            if ema.is_some() { " (EMA)" } else { "" },
            record.val_loss,
            100.0 * record.val_ua,
            100.0 * record.val_wa,
            100.0 * record.val_macro_f1,
            if progress.best_epoch == record.epoch {
                format!("  (best {})", config.select.describe())
            } else {
                format!(
                    "  (best {}: epoch {})",
                    config.select.describe(),
                    progress.best_epoch
                )
            }
        );
        // Printed above the bars (and as a plain log line when stderr is not a terminal).
        bars.suspend(|| println!("{line}"));
    }
    step_bar.finish_and_clear();
    epoch_bar.finish_and_clear();
    Ok(TrainOutcome {
        best_ua: progress.best_ua.unwrap_or(0.0),
        best_epoch: progress.best_epoch,
        history: progress.history.clone(),
        stop_reason: progress
            .finished
            .clone()
            .unwrap_or_else(|| "stopped".to_owned()),
        steps: progress.global_step,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn write_history(out: &Path, history: &[EpochRecord]) -> Result<(), TrainRunError> {
    let text =
        serde_json::to_string_pretty(history).map_err(|e| TrainRunError::Other(e.to_string()))?;
    Ok(write_text_atomic(&out.join(HISTORY_FILE), &text)?)
}

/// `<out>/state.safetensors`.
pub fn state_path(out: &Path) -> PathBuf {
    out.join(STATE_FILE)
}

/// The newest checkpoint of run `out` (the step state, else the best weights), if any.
fn kept_checkpoint(out: &Path) -> KeptCheckpoint {
    let state = state_path(out);
    let best = out.join(crate::run::BEST_FILE);
    KeptCheckpoint([state, best].into_iter().find(|p| p.is_file()))
}
