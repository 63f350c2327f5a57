//! `hrf eval`: a trained model + a corpus split → WA, UA, macro-F1, confusion (and the DAIC-WOZ
//! speaker vote) in report.json / report.md, with a confusion heatmap and learning curves.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hrf_audio::datasets::DataSource;
use serde_json::json;

use super::CliError;
use super::threads::init_threads;
use crate::pipeline::{Corpus, cache_dir};
use crate::report::{EvalScores, argmax, plots, utc_now};
use crate::run::{LoadedModel, check_dir_creatable, ensure_writable_dir, load_history};
use crate::training::predict::{folded_logits, trained_logits};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// A run directory written by `hrf train` (uses its best.safetensors) or a checkpoint file.
    #[arg(long)]
    pub model: PathBuf,
    /// The corpus (default: the one the run was trained on). Labels must be model classes.
    #[arg(long)]
    pub data: Option<DataSource>,
    /// Evaluate this protocol fold's test set (index or name).
    #[arg(long, conflicts_with = "split")]
    pub fold: Option<String>,
    /// `all`: every utterance of the corpus (default for a corpus other than the run's).
    #[arg(long, value_parser = ["all"])]
    pub split: Option<String>,
    /// Report directory (default: `<run>/eval-<split>`, or `hrf-out/eval`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Evaluate the folded (deployed) model instead of the training-form one.
    #[arg(long)]
    pub folded: bool,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

/// Which utterances are evaluated.
enum Split {
    All,
    Fold(String),
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    // Before anything is read or written, and before the first parallel call.
    init_threads(args.threads)?;
    let model = LoadedModel::load(&args.model, None).map_err(|e| CliError(e.to_string()))?;
    let plan = model.checkpoint.plan;
    let run_data = model.info.as_ref().map(|i| i.data.clone());
    let data = match (&args.data, &run_data) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => d
            .parse()
            .map_err(|e: hrf_audio::datasets::DataError| CliError(e.to_string()))?,
        (None, None) => {
            return Err(CliError(format!(
                "{} is not inside a run directory, so its corpus is unknown; pass --data",
                model.path.display()
            )));
        }
    };
    let same_corpus = run_data.as_deref() == Some(data.to_string().as_str());
    let split = match (&args.fold, &args.split) {
        (Some(f), _) => Split::Fold(f.clone()),
        (None, Some(_)) => Split::All,
        (None, None) if same_corpus => Split::Fold(
            model
                .info
                .as_ref()
                .map_or("0".to_owned(), |i| i.fold_name.clone()),
        ),
        (None, None) => Split::All,
    };
    let split_label = match &split {
        Split::All => "all".to_owned(),
        Split::Fold(f) => format!("fold-{f}"),
    };
    let out = args.out.clone().unwrap_or_else(|| match &model.run_dir {
        Some(dir) => dir.join(format!("eval-{split_label}")),
        None => PathBuf::from("hrf-out/eval"),
    });
    check_dir_creatable(&out).map_err(|e| CliError(e.to_string()))?;

    let corpus = Corpus::load(
        &data,
        plan.classes,
        plan.features,
        &cache_dir(args.cache_dir.as_deref()),
    )
    .map_err(|e| CliError(e.to_string()))?;
    let (indices, split_name) = match &split {
        Split::All => (
            (0..corpus.dataset.utterances.len()).collect::<Vec<_>>(),
            "all utterances".to_owned(),
        ),
        Split::Fold(f) => {
            let fold = corpus.fold(f).map_err(|e| CliError(e.to_string()))?;
            (fold.test.clone(), format!("test set of fold {}", fold.name))
        }
    };
    let limit = model.max_frames();
    println!(
        "evaluating {} ({}) on {data}, {split_name}: {} utterances, longer ones scored by windows of {limit} frames",
        plan.name,
        if args.folded {
            "folded"
        } else {
            "training form"
        },
        indices.len()
    );
    let logits = if args.folded {
        let c = &model.checkpoint;
        let weights = hrf_runtime::fold::fold_model(plan, &c.params, &c.buffers)
            .map_err(|e| CliError(format!("cannot fold the model: {e}")))?;
        folded_logits(plan, &weights, &corpus, &indices, limit).map_err(CliError)?
    } else {
        let mut m = model.train_model().map_err(CliError)?;
        trained_logits(&mut m, &corpus, &indices, limit)
            .map_err(|e| CliError(e.to_string()))?
            .0
    };
    let truth: Vec<usize> = indices.iter().map(|&i| corpus.label(i)).collect();
    let predicted: Vec<usize> = logits.iter().map(|l| argmax(l)).collect();
    let speakers: Option<Vec<String>> = corpus.votes_per_speaker().then(|| {
        indices
            .iter()
            .map(|&i| corpus.dataset.utterances[i].speaker.clone())
            .collect()
    });
    let scores = EvalScores::new(
        &corpus.dataset.classes,
        &truth,
        &predicted,
        speakers.as_deref(),
    )
    .map_err(CliError)?;
    let s = scores.scores;
    println!(
        "UA {:.2}%  WA {:.2}%  macro-F1 {:.2}%  ({} utterances)",
        100.0 * s.unweighted_accuracy,
        100.0 * s.weighted_accuracy,
        100.0 * s.macro_f1,
        indices.len()
    );
    if let Some((m, v)) = &scores.vote {
        println!(
            "per-speaker vote: macro-F1 {:.2}%, UA {:.2}% ({} speakers)",
            100.0 * v.macro_f1,
            100.0 * v.unweighted_accuracy,
            m.total()
        );
    }
    print!("{}", scores.confusion.render(&scores.classes));

    let seed = model.info.as_ref().map(|i| i.seed);
    let report = json!({
        "command": "eval",
        "created": utc_now(),
        "model": model.path.display().to_string(),
        "form": if args.folded { "folded" } else { "trained" },
        "spec": { "name": plan.name, "hash": plan.spec_hash, "path": model.checkpoint.spec.label },
        "dataset": {
            "source": data.to_string(),
            "name": corpus.dataset.name,
            "utterances": corpus.dataset.utterances.len(),
            "classes": corpus.dataset.classes,
        },
        "split": { "name": split_label, "description": split_name, "utterances": indices.len() },
        "seed": seed,
        "max_frames": limit,
        "metrics": scores.metrics_json(),
    });
    ensure_writable_dir(&out).map_err(|e| CliError(e.to_string()))?;
    let (plot_files, warnings) = write_plots(&out, &scores, model.run_dir.as_deref());
    let mut md = format!(
        "# hrf eval — {}\n\n- model: `{}` ({} form)\n- spec: {} (hash {})\n- data: `{data}`, {split_name} ({} utterances)\n- seed: {}\n- date: {}\n\n",
        plan.name,
        model.path.display(),
        if args.folded { "folded" } else { "training" },
        model.checkpoint.spec.label,
        plan.spec_hash,
        indices.len(),
        seed.map_or("unknown".to_owned(), |s| s.to_string()),
        utc_now()
    );
    md.push_str(&scores.markdown());
    crate::report::embed_svgs(&mut md, &plot_files);
    let mut files = crate::report::write_md_json(&out, "report", &md, &report)
        .map_err(|e| CliError(e.to_string()))?;
    files.extend(plot_files);
    for w in warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "wrote {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The confusion heatmap and, for a run directory, its learning curves.
pub fn write_plots(
    out: &Path,
    scores: &EvalScores,
    run_dir: Option<&Path>,
) -> (Vec<PathBuf>, Vec<String>) {
    let (mut files, mut warnings) = plots::confusion_heatmap(
        &scores.confusion,
        &scores.classes,
        "confusion (rows: truth)",
        &out.join("confusion"),
    );
    if let Some(dir) = run_dir {
        let (f, w) = plots::learning_curves(&load_history(dir), &out.join("learning_curves"));
        files.extend(f);
        warnings.extend(w);
    }
    (files, warnings)
}
