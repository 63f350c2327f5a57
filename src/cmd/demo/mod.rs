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
use super::fold::DEFAULT_TOLERANCE;
use super::threads::init_threads;
use crate::pipeline::{Corpus, cache_dir};
use crate::run::{SpecSource, ensure_writable_dir};
use crate::study::{CellJob, StudySettings, run_cell};
use crate::training::TrainConfig;

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
    /// Epochs per model (default and quick: 3); training stops early after 3 epochs without a
    /// better validation UA.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seeds: every model is trained once per seed (`0,1,2`, `0-4`); the report gives mean ± sd
    /// and the paired difference of light+HRF against light over seeds.
    #[arg(long, default_value = "0,1,2")]
    pub seeds: String,
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
                // 3 models × 3 seeds within 20 min on 2 cores. At 4 epochs of 200-frame
                // crops the demo took 1,433 s in CI, three quarters of it in the large cells;
                // 3 epochs of 180-frame crops cut the training work by a third.
                epochs: args.epochs.unwrap_or(3),
                max_frames: 180,
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

    // 2. Per model and seed: a study cell — train (or resume), fold + verify, evaluate the
    // folded model, benchmark.
    let seeds = crate::study::parse_list(&args.seeds, "seeds").map_err(CliError)?;
    let fold_index = corpus.fold_index(&fold);
    let modules: Vec<String> = specs.iter().map(|s| (*s).to_owned()).collect();
    let names: Vec<String> = sources
        .iter()
        .map(|s| s.plan().map(|p| p.name.to_owned()))
        .collect::<Result<_, _>>()
        .map_err(CliError)?;
    let grid = crate::study::cells(&specs, &[fold_index], &seeds);
    println!(
        "demo: {}",
        super::train::recipe_line(&TrainConfig::recipe_defaults(first, 0))
    );
    let bars = MultiProgress::new();
    let mut rows = Vec::new();
    let mut records = Vec::new();
    let base = |plan: &hrf_runtime::plan::ModelPlan, seed: u64| TrainConfig {
        epochs: settings.epochs,
        patience: 3,
        max_frames: settings.max_frames.min(plan.max_frames),
        ..TrainConfig::recipe_defaults(plan, seed)
    };
    for key in &grid {
        let spec = &sources[key.spec];
        let plan = spec.plan().map_err(CliError)?;
        if plan.classes != first.classes || plan.features != first.features {
            return Err(CliError(format!(
                "{} has other classes or features than {}; the demo compares models on one corpus",
                plan.name, first.name
            )));
        }
        let config = base(plan, key.seed);
        let run_dir = key.dir(&out);
        let cell = run_cell(&CellJob {
            id: key.id(),
            spec,
            data_text: data.to_string(),
            corpus: &corpus,
            fold: &fold,
            fold_index,
            also: &[],
            teacher: None,
            config,
            dir: run_dir.clone(),
            bench_runs: settings.bench_runs,
            fold_check_utterances: settings.fold_check_utterances,
            bars: Some(&bars),
            crash_after_steps: None,
        })
        .map_err(|e| CliError(format!("{}: {e}", key.id())))?;
        super::fold::print_check(plan, &cell.check, DEFAULT_TOLERANCE);
        let s = cell.test_scores.scores;
        println!(
            "{}: test UA {:.1}%, WA {:.1}%, F1 {:.1}% (folded); latency {:.2} ms folded vs {:.2} ms training form ({} frames, 1 thread); trained in {:.0} s",
            key.id(),
            100.0 * s.unweighted_accuracy,
            100.0 * s.weighted_accuracy,
            100.0 * s.macro_f1,
            cell.bench.folded_median_ms,
            cell.bench.trained_median_ms,
            cell.bench.frames,
            cell.record.timing.train_seconds
        );
        rows.push(DemoRow {
            spec: plan.name.to_owned(),
            module: key.id(),
            scores: cell.test_scores,
            check: cell.check,
            bench: cell.bench,
            outcome: cell.outcome,
            train_seconds: cell.record.timing.train_seconds,
            run_dir,
        });
        records.push(cell.record);
    }
    let mut recipe = serde_json::to_value(base(first, 0)).unwrap_or_default();
    if let Some(map) = recipe.as_object_mut() {
        map.remove("lr");
        map.remove("seed");
    }
    let study_settings = StudySettings {
        specs: modules.clone(),
        data: data.to_string(),
        folds: vec![fold_index],
        seeds: seeds.clone(),
        also: Vec::new(),
        baseline: None,
        recipe,
        teachers: Vec::new(),
        kd: None,
        lr: modules
            .iter()
            .map(|m| (m.clone(), crate::training::default_lr(m)))
            .collect(),
    };
    let study_files =
        crate::study::report::write(&out, &study_settings, &modules, &names, &grid, &records)
            .map_err(CliError)?;

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
            seeds: seeds.clone(),
            seconds: start.elapsed().as_secs_f64(),
        },
    )
    .map_err(CliError)?;
    println!(
        "demo finished in {:.0} s; report: {}",
        start.elapsed().as_secs_f64(),
        study_files
            .iter()
            .chain(&files)
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
