//! `hrf demo`: the main job end to end — synthetic corpus (generated if absent) → train conformer
//! light, light+HRF and large on one leave-one-session-out fold → fold and verify → evaluate
//! the folded models on the held-out session → benchmark → one report (md + json + plots).

mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use hrf_audio::datasets::{DataKind, DataSource, ProtocolKind};
use hrf_audio::synth::{self, SynthConfig};
use indicatif::MultiProgress;

use super::CliError;
use super::bench::{BenchResult, bench, single_thread};
use super::fold::{DEFAULT_TOLERANCE, FoldCheck, fold_and_check};
use super::threads::init_threads;
use crate::pipeline::{Corpus, cache_dir};
use crate::report::{EvalScores, argmax};
use crate::run::{
    LoadedModel, RunInfo, SPEC_FILE, STATE_FILE, SpecSource, ensure_writable_dir, write_text_atomic,
};
use crate::training::predict::folded_logits;
use crate::training::{TrainConfig, TrainJob, TrainOutcome, train};

pub use report::DemoRow;

/// The Conformer trio (the paper's comparison); `--families all` adds the other two families.
const CONFORMER: [&str; 3] = ["conformer_light", "conformer_light_hrf", "conformer_large"];
const OTHER_FAMILIES: [&str; 6] = [
    "conv_transformer_light",
    "conv_transformer_light_hrf",
    "conv_transformer_large",
    "speechformer_light",
    "speechformer_light_hrf",
    "speechformer_large",
];

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Smoke run (< 3 min): a smaller corpus, fewer epochs, shorter crops — real training.
    #[arg(long)]
    pub quick: bool,
    /// `conformer` (light, light_hrf, large) or `all` (adds ConvTransformer and SpeechFormer).
    #[arg(long, default_value = "conformer", value_parser = ["conformer", "all"])]
    pub families: String,
    /// Report and run directory (default: hrf-out/demo, or hrf-out/demo-quick with --quick).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The corpus (default: the synthetic corpus, generated when absent).
    #[arg(long)]
    pub data: Option<DataSource>,
    /// Leave-one-session-out fold (index or session name).
    #[arg(long, default_value = "0")]
    pub fold: String,
    /// Epochs per model (default: 6, quick: 3); training stops early after 3 epochs without a
    /// better validation UA.
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Training settings of one demo mode.
struct DemoSettings {
    epochs: usize,
    max_frames: usize,
    /// Sentences per session of a generated corpus.
    sentences: usize,
    bench_runs: usize,
    fold_check_utterances: usize,
}

impl DemoSettings {
    fn of(args: &Args) -> Self {
        if args.quick {
            DemoSettings {
                epochs: args.epochs.unwrap_or(3),
                max_frames: 160,
                sentences: 4,
                bench_runs: 20,
                fold_check_utterances: 16,
            }
        } else {
            DemoSettings {
                epochs: args.epochs.unwrap_or(6),
                max_frames: 300,
                sentences: synth::DEFAULT_SENTENCES,
                bench_runs: 50,
                fold_check_utterances: 64,
            }
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let start = Instant::now();
    init_threads(args.threads)?;
    let settings = DemoSettings::of(&args);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
            "hrf-out/demo-quick"
        } else {
            "hrf-out/demo"
        })
    });
    ensure_writable_dir(&out).map_err(|e| CliError(e.to_string()))?;
    let specs: Vec<&str> = if args.families == "all" {
        CONFORMER
            .iter()
            .chain(OTHER_FAMILIES.iter())
            .copied()
            .collect()
    } else {
        CONFORMER.to_vec()
    };

    // 1. Data: the synthetic corpus unless told otherwise.
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            let dir = if args.quick {
                PathBuf::from(format!("{}-quick", synth::DEFAULT_OUT_DIR))
            } else {
                PathBuf::from(synth::DEFAULT_OUT_DIR)
            };
            ensure_synth(&dir, settings.sentences)?;
            DataSource {
                kind: DataKind::Synth,
                path: dir.join(synth::MANIFEST_FILE),
            }
        }
    };
    let sources: Vec<SpecSource> = specs
        .iter()
        .map(|s| SpecSource::resolve(s))
        .collect::<Result<_, _>>()
        .map_err(|e| CliError(e.to_string()))?;
    let first = sources[0].plan().map_err(CliError)?;
    let corpus = Corpus::load(
        &data,
        first.classes,
        first.features,
        &cache_dir(args.cache_dir.as_deref()),
    )
    .map_err(|e| CliError(e.to_string()))?;
    let fold = corpus
        .fold(&args.fold)
        .map_err(|e| CliError(e.to_string()))?;
    // `session 1` for leave-one-session-out, `fold fold2` style otherwise.
    let held_out = match corpus.dataset.protocol.kind {
        ProtocolKind::LeaveOneGroupOut => format!("session {}", fold.name),
        _ => format!("fold {}", fold.name),
    };
    println!(
        "demo: {} models on {data}, held-out {} ({} train / {} val / {} test utterances), {} epochs, ≤ {} frames",
        specs.len(),
        held_out,
        fold.train.len(),
        fold.val.len(),
        fold.test.len(),
        settings.epochs,
        settings.max_frames
    );

    println!(
        "demo: {}",
        super::train::recipe_line(&TrainConfig::recipe_defaults(first, args.seed))
    );

    // 2. Per model: train (or resume), fold + verify, evaluate folded, benchmark.
    let bars = MultiProgress::new();
    let mut rows = Vec::new();
    for spec in &sources {
        let plan = spec.plan().map_err(CliError)?;
        if plan.classes != first.classes || plan.features != first.features {
            return Err(CliError(format!(
                "{} has other classes or features than {}; the demo compares models on one corpus",
                plan.name, first.name
            )));
        }
        let run_dir = out.join("runs").join(plan.module);
        ensure_writable_dir(&run_dir).map_err(|e| CliError(e.to_string()))?;
        let config = TrainConfig {
            epochs: settings.epochs,
            patience: 3,
            max_frames: settings.max_frames.min(plan.max_frames),
            ..TrainConfig::recipe_defaults(plan, args.seed)
        };
        let info = RunInfo {
            spec_name: plan.name.to_owned(),
            spec_hash: plan.spec_hash.to_owned(),
            spec_path: spec.label.clone(),
            data: data.to_string(),
            fold: corpus.fold_index(&fold),
            fold_name: fold.name.clone(),
            seed: args.seed,
            classes: plan.classes.iter().map(|c| (*c).to_owned()).collect(),
            train_utterances: fold.train.len(),
            val_utterances: fold.val.len(),
            test_utterances: fold.test.len(),
            hyper: serde_json::to_value(&config).unwrap_or_default(),
        };
        let resume = prepare_run_dir(&run_dir, &info, spec)?;
        let t0 = Instant::now();
        let outcome: TrainOutcome = train(&TrainJob {
            spec,
            plan,
            corpus: &corpus,
            fold: &fold,
            config: &config,
            out: &run_dir,
            resume,
            crash_after_steps: None,
            bars: Some(&bars),
        })
        .map_err(|e| CliError(e.to_string()))?;
        let train_seconds = t0.elapsed().as_secs_f64();

        let model = LoadedModel::load(&run_dir, Some(plan)).map_err(|e| CliError(e.to_string()))?;
        let mut trained = model.train_model().map_err(CliError)?;
        let check_inputs: Vec<Vec<f32>> = fold
            .test
            .iter()
            .take(settings.fold_check_utterances)
            .map(|&i| corpus.frames(i, config.max_frames).to_vec())
            .collect();
        let (weights, check): (Vec<f32>, FoldCheck) = fold_and_check(
            &mut trained,
            &check_inputs,
            &format!("{} held-out utterances", check_inputs.len()),
        )
        .map_err(CliError)?;
        super::fold::print_check(plan, &check, DEFAULT_TOLERANCE);
        if !check.passes(DEFAULT_TOLERANCE) {
            return Err(CliError(format!(
                "{}: the folded model differs from the trained one by {:.3e} (relative) > {:.1e}; refusing to report it",
                plan.name, check.max_rel, DEFAULT_TOLERANCE
            )));
        }
        let folded_path = run_dir.join("folded.safetensors");
        hrf_runtime::infer::folded_weights_to_file(plan, &weights, &folded_path)
            .map_err(|e| CliError(e.to_string()))?;
        let logits = folded_logits(plan, &weights, &corpus, &fold.test, config.max_frames)
            .map_err(CliError)?;
        let truth: Vec<usize> = fold.test.iter().map(|&i| corpus.label(i)).collect();
        let predicted: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
        let scores =
            EvalScores::new(&corpus.dataset.classes, &truth, &predicted, None).map_err(CliError)?;
        let checked = spec.checked().map_err(CliError)?;
        let frames = 300.min(plan.max_frames);
        let bench_result: BenchResult = single_thread(|| {
            bench(
                &mut trained,
                &weights,
                &checked,
                frames,
                settings.bench_runs,
            )
        })
        .map_err(CliError)?
        .map_err(CliError)?;
        let s = scores.scores;
        println!(
            "{}: test UA {:.1}%, WA {:.1}%, F1 {:.1}% (folded); latency {:.2} ms folded vs {:.2} ms training form ({} frames, 1 thread); trained in {:.0} s",
            plan.name,
            100.0 * s.unweighted_accuracy,
            100.0 * s.weighted_accuracy,
            100.0 * s.macro_f1,
            bench_result.folded_median_ms,
            bench_result.trained_median_ms,
            bench_result.frames,
            train_seconds
        );
        rows.push(DemoRow {
            spec: plan.name.to_owned(),
            module: plan.module.to_owned(),
            scores,
            check,
            bench: bench_result,
            outcome,
            train_seconds,
            run_dir,
        });
    }

    // 3. One report.
    let files = report::write(
        &out,
        &rows,
        &report::DemoContext {
            data: data.to_string(),
            fold: held_out.clone(),
            train: fold.train.len(),
            val: fold.val.len(),
            test: fold.test.len(),
            epochs: settings.epochs,
            max_frames: settings.max_frames,
            quick: args.quick,
            seed: args.seed,
            seconds: start.elapsed().as_secs_f64(),
        },
    )
    .map_err(CliError)?;
    println!(
        "demo finished in {:.0} s; report: {}",
        start.elapsed().as_secs_f64(),
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Generates the synthetic corpus into `dir`, or reuses it when its record matches and every
/// checksum verifies (as `hrf synth` does).
fn ensure_synth(dir: &Path, sentences: usize) -> Result<(), CliError> {
    let summary = synth::generate(&SynthConfig {
        out_dir: dir.to_path_buf(),
        sentences_per_session: sentences,
        show_progress: true,
        ..SynthConfig::default()
    })
    .map_err(|e| CliError(e.to_string()))?;
    if summary.reused {
        println!(
            "demo: synthetic corpus {}: {} clips, verified",
            dir.display(),
            summary.clips
        );
    } else {
        println!(
            "demo: generated the synthetic corpus {} with {}: {} clips in {:.1} s",
            dir.display(),
            summary.engine,
            summary.clips,
            summary.seconds
        );
    }
    Ok(())
}

/// Writes a new run's record, or checks that an existing one matches (then the run is resumed,
/// which returns at once when it had finished). Returns whether to resume.
fn prepare_run_dir(dir: &Path, info: &RunInfo, spec: &SpecSource) -> Result<bool, CliError> {
    let state = dir.join(STATE_FILE);
    if state.is_file() {
        let previous = RunInfo::load(dir).map_err(|e| CliError(e.to_string()))?;
        // Settings compared as configs: a record from before the recipe existed reads as a
        // run without it (and so differs from today's recipe).
        let same = previous.as_ref().is_some_and(|p| {
            let config = |i: &RunInfo| TrainConfig::from_record(&i.hyper).ok();
            RunInfo {
                hyper: serde_json::Value::Null,
                ..p.clone()
            } == RunInfo {
                hyper: serde_json::Value::Null,
                ..info.clone()
            } && config(p).is_some()
                && config(p) == config(info)
        });
        if same {
            return Ok(true);
        }
        return Err(CliError(format!(
            "{} holds a run with other settings (corpus, fold, seed, epochs or training recipe); pass another --out to keep it, or delete it",
            dir.display()
        )));
    }
    write_text_atomic(&dir.join(SPEC_FILE), &spec.text).map_err(|e| CliError(e.to_string()))?;
    info.save(dir).map_err(|e| CliError(e.to_string()))?;
    Ok(false)
}
