//! One cell of a study (spec × fold × seed), and the same steps for the demo: train (or
//! resume) → fold and verify → evaluate the folded model on the fold's test set and on every
//! extra corpus → benchmark → `cell.json`, written last and atomically, so its presence means
//! the cell finished.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hrf_audio::datasets::Fold;
use indicatif::MultiProgress;
use serde::{Deserialize, Serialize};

use crate::cmd::bench::{BenchResult, bench, single_thread};
use crate::cmd::fold::{DEFAULT_TOLERANCE, FoldCheck, fold_and_check};
use crate::pipeline::Corpus;
use crate::report::{EvalScores, argmax};
use crate::run::{LoadedModel, RunInfo, SPEC_FILE, STATE_FILE, SpecSource, write_text_atomic};
use crate::training::predict::folded_logits;
use crate::training::{TrainConfig, TrainJob, TrainOutcome, train};

/// The record of a finished cell.
pub const CELL_FILE: &str = "cell.json";

/// UA, WA and macro-F1 of one evaluation, with its size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub ua: f64,
    pub wa: f64,
    pub macro_f1: f64,
    pub utterances: usize,
}

impl Score {
    pub fn of(e: &EvalScores) -> Score {
        Score {
            ua: e.scores.unweighted_accuracy,
            wa: e.scores.weighted_accuracy,
            macro_f1: e.scores.macro_f1,
            utterances: e.confusion.total() as usize,
        }
    }
}

/// The validation scores of the checkpoint a cell selected: what settings are compared on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValScore {
    pub ua: f64,
    /// Mean cross-entropy per utterance.
    pub loss: f64,
    pub utterances: usize,
}

/// What a finished cell produced (`<cell>/cell.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    pub id: String,
    pub spec: String,
    pub module: String,
    pub spec_hash: String,
    pub fold: usize,
    pub fold_name: String,
    pub seed: u64,
    /// The training settings, as recorded in run.json.
    pub recipe: serde_json::Value,
    /// The selected checkpoint on the validation speakers (absent in records from before it
    /// was kept).
    #[serde(default)]
    pub val: Option<ValScore>,
    /// Folded model on the fold's held-out test set.
    pub test: Score,
    /// Folded model on each extra corpus (`--also`), every utterance, keyed by its `--data`.
    pub also: Vec<(String, Score)>,
    pub train_params: usize,
    pub deployed_params: usize,
    pub best_epoch: usize,
    pub epochs_run: usize,
    pub stop_reason: String,
    pub fold_max_rel: f64,
    /// Machine-dependent figures, kept apart from the scores.
    pub timing: CellTiming,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellTiming {
    /// Wall-clock seconds of the invocation that finished training (a resumed run counts
    /// only its last part).
    pub train_seconds: f64,
    /// Folded latency, batch 1, one thread, median.
    pub folded_ms: f64,
    pub bench_frames: usize,
}

/// What [`run_cell`] needs besides the spec.
pub struct CellJob<'a> {
    pub id: String,
    pub spec: &'a SpecSource,
    pub data_text: String,
    pub corpus: &'a Corpus,
    pub fold: &'a Fold,
    pub fold_index: usize,
    pub also: &'a [(String, Corpus)],
    /// The folded teacher of a distilled cell (`config.teacher` records it).
    pub teacher: Option<&'a crate::training::Teacher>,
    pub config: TrainConfig,
    pub dir: PathBuf,
    pub bench_runs: usize,
    pub fold_check_utterances: usize,
    pub bars: Option<&'a MultiProgress>,
    /// Test hook: exit the process (as if killed) after this many optimizer steps.
    pub crash_after_steps: Option<u64>,
}

/// Everything a cell produced in this process (the record plus what the demo prints).
pub struct CellOutput {
    pub record: CellRecord,
    pub test_scores: EvalScores,
    pub check: FoldCheck,
    pub bench: BenchResult,
    pub outcome: TrainOutcome,
}

/// Loads `<dir>/cell.json` if it exists and was made with `recipe` (else `None`).
pub fn finished(dir: &Path, recipe: &serde_json::Value) -> Result<Option<CellRecord>, String> {
    let path = dir.join(CELL_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let record = load_record(&path)?;
    Ok((record.recipe == *recipe).then_some(record))
}

pub fn load_record(path: &Path) -> Result<CellRecord, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a cell record ({e}); delete it to rerun the cell's evaluation",
            path.display()
        )
    })
}

/// Trains, folds, verifies, evaluates and benchmarks one cell; writes `cell.json` last.
pub fn run_cell(job: &CellJob<'_>) -> Result<CellOutput, String> {
    let spec = job.spec;
    let plan = spec.plan()?;
    let fold = job.fold;
    let config = &job.config;
    crate::run::ensure_writable_dir(&job.dir).map_err(|e| e.to_string())?;
    let info = RunInfo {
        spec_name: plan.name.to_owned(),
        spec_hash: plan.spec_hash.to_owned(),
        spec_path: spec.label.clone(),
        data: job.data_text.clone(),
        fold: job.fold_index,
        fold_name: fold.name.clone(),
        seed: config.seed,
        classes: plan.classes.iter().map(|c| (*c).to_owned()).collect(),
        train_utterances: fold.train.len(),
        val_utterances: fold.val.len(),
        test_utterances: fold.test.len(),
        hyper: serde_json::to_value(config).unwrap_or_default(),
    };
    let resume = prepare_run_dir(&job.dir, &info, spec)?;
    let t0 = Instant::now();
    let outcome = train(&TrainJob {
        spec,
        plan,
        corpus: job.corpus,
        fold,
        config,
        out: &job.dir,
        resume,
        crash_after_steps: job.crash_after_steps,
        bars: job.bars,
        teacher: job.teacher,
    })
    .map_err(|e| e.to_string())?;
    let train_seconds = t0.elapsed().as_secs_f64();

    let model = LoadedModel::load(&job.dir, Some(plan)).map_err(|e| e.to_string())?;
    let mut trained = model.train_model()?;
    let check_inputs: Vec<Vec<f32>> = fold
        .test
        .iter()
        .take(job.fold_check_utterances)
        .map(|&i| job.corpus.frames(i, config.max_frames).to_vec())
        .collect();
    let (weights, check) = fold_and_check(
        &mut trained,
        &check_inputs,
        &format!("{} held-out utterances", check_inputs.len()),
    )?;
    if !check.passes(DEFAULT_TOLERANCE) {
        return Err(format!(
            "{}: the folded model differs from the trained one by {:.3e} (relative) > {:.1e}; refusing to report it",
            plan.name, check.max_rel, DEFAULT_TOLERANCE
        ));
    }
    hrf_runtime::infer::folded_weights_to_file(plan, &weights, &job.dir.join("folded.safetensors"))
        .map_err(|e| e.to_string())?;

    let score = |corpus: &Corpus, indices: &[usize]| -> Result<EvalScores, String> {
        let logits = folded_logits(plan, &weights, corpus, indices, config.max_frames)?;
        let truth: Vec<usize> = indices.iter().map(|&i| corpus.label(i)).collect();
        let predicted: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
        EvalScores::new(&corpus.dataset.classes, &truth, &predicted, None)
    };
    let test_scores = score(job.corpus, &fold.test)?;
    let mut also = Vec::with_capacity(job.also.len());
    for (name, corpus) in job.also {
        let all: Vec<usize> = (0..corpus.dataset.utterances.len()).collect();
        also.push((name.clone(), Score::of(&score(corpus, &all)?)));
    }

    let checked = spec.checked()?;
    let frames = 300.min(plan.max_frames);
    let bench_result =
        single_thread(|| bench(&mut trained, &weights, &checked, frames, job.bench_runs))??;
    let record = CellRecord {
        id: job.id.clone(),
        spec: plan.name.to_owned(),
        module: plan.module.to_owned(),
        spec_hash: plan.spec_hash.to_owned(),
        fold: job.fold_index,
        fold_name: fold.name.clone(),
        seed: config.seed,
        recipe: info.hyper.clone(),
        val: outcome
            .best_epoch
            .checked_sub(1)
            .and_then(|i| outcome.history.get(i))
            .map(|e| ValScore {
                ua: e.val_ua,
                loss: e.val_loss,
                utterances: fold.val.len(),
            }),
        test: Score::of(&test_scores),
        also,
        train_params: bench_result.train_params,
        deployed_params: bench_result.deployed_params,
        best_epoch: outcome.best_epoch,
        epochs_run: outcome.history.len(),
        stop_reason: outcome.stop_reason.clone(),
        fold_max_rel: check.max_rel,
        timing: CellTiming {
            train_seconds,
            folded_ms: bench_result.folded_median_ms,
            bench_frames: bench_result.frames,
        },
    };
    let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
    write_text_atomic(&job.dir.join(CELL_FILE), &text).map_err(|e| e.to_string())?;
    Ok(CellOutput {
        record,
        test_scores,
        check,
        bench: bench_result,
        outcome,
    })
}

/// What differs between a recorded run and the one about to run: spec, corpus, fold, seed and
/// split by name, the training settings as configs (as `hrf train --resume` compares them, so
/// recipe settings a record from before they existed lacks take their "off" defaults).
fn run_differences(previous: &RunInfo, now: &RunInfo) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut field = |name: &str, was: String, is: String| {
        if was != is {
            out.push(format!("{name}: run {was}, now {is}"));
        }
    };
    field("spec", previous.spec_hash.clone(), now.spec_hash.clone());
    field("data", previous.data.clone(), now.data.clone());
    field("fold", previous.fold_name.clone(), now.fold_name.clone());
    field("seed", previous.seed.to_string(), now.seed.to_string());
    field("classes", previous.classes.join(","), now.classes.join(","));
    let split = |r: &RunInfo| {
        format!(
            "{}/{}/{}",
            r.train_utterances, r.val_utterances, r.test_utterances
        )
    };
    field("train/val/test utterances", split(previous), split(now));
    let recorded = TrainConfig::from_record(&previous.hyper)
        .map_err(|e| format!("the run's training settings are not readable ({e})"))?;
    let config = TrainConfig::from_record(&now.hyper)?;
    if recorded != config {
        out.extend(recorded.differences(&config));
    }
    Ok(out)
}

/// Writes a new run's record, or checks that an existing one matches (then the run is resumed,
/// which returns at once when it had finished). Returns whether to resume.
pub fn prepare_run_dir(dir: &Path, info: &RunInfo, spec: &SpecSource) -> Result<bool, String> {
    let state = dir.join(STATE_FILE);
    if state.is_file() {
        let previous = RunInfo::load(dir).map_err(|e| e.to_string())?;
        let differences = match &previous {
            Some(previous) => run_differences(previous, info)?,
            None => vec![format!("{} is missing", crate::run::RUN_FILE)],
        };
        if differences.is_empty() {
            return Ok(true);
        }
        return Err(format!(
            "{} holds a run with other settings ({}); pass another --out to keep it, or delete it",
            dir.display(),
            differences.join("; ")
        ));
    }
    write_text_atomic(&dir.join(SPEC_FILE), &spec.text).map_err(|e| e.to_string())?;
    info.save(dir).map_err(|e| e.to_string())?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(seed: u64, config: &TrainConfig) -> RunInfo {
        RunInfo {
            spec_name: "ConformerLight".into(),
            spec_hash: "abc".into(),
            spec_path: "conformer_light".into(),
            data: "synth".into(),
            fold: 0,
            fold_name: "ses1".into(),
            seed,
            classes: vec!["neutral".into(), "angry".into()],
            train_utterances: 10,
            val_utterances: 2,
            test_utterances: 4,
            hyper: serde_json::to_value(config).unwrap(),
        }
    }

    #[test]
    fn a_recorded_run_is_compared_field_by_field_and_names_what_differs() {
        let plan = SpecSource::resolve("conformer_light")
            .unwrap()
            .plan()
            .unwrap();
        let config = TrainConfig::recipe_defaults(plan, 0);
        let same = info(0, &config);
        assert_eq!(
            run_differences(&same, &info(0, &config)).unwrap(),
            Vec::<String>::new()
        );

        let longer = TrainConfig {
            epochs: config.epochs + 1,
            ..config.clone()
        };
        let diff = run_differences(&same, &info(1, &longer)).unwrap();
        assert_eq!(diff.len(), 2, "{diff:?}");
        assert_eq!(diff[0], "seed: run 0, now 1");
        assert!(diff[1].starts_with("epochs: run 20, now 21"), "{diff:?}");
    }
}
