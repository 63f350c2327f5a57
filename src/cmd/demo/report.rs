//! `hrf demo` reporting: the comparison table (model, train params, deployed params, UA, WA,
//! F1, latency), per-cell details and plots → cells.md + cells.json (the headline, mean ± sd over seeds
//! and the paired differences, is the study report: report.md + report.json).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cmd::bench::{BenchResult, markdown as bench_markdown};
use crate::cmd::fold::{FoldCheck, check_json};
use crate::report::{EvalScores, machine, plots, thousands, utc_now};
use crate::training::TrainOutcome;

/// One trained, folded, evaluated and benchmarked model.
pub struct DemoRow {
    pub spec: String,
    pub module: String,
    /// Folded model on the held-out session.
    pub scores: EvalScores,
    pub check: FoldCheck,
    pub bench: BenchResult,
    pub outcome: TrainOutcome,
    pub train_seconds: f64,
    pub run_dir: PathBuf,
}

/// What the demo ran on.
pub struct DemoContext {
    pub data: String,
    pub fold: String,
    pub train: usize,
    pub val: usize,
    pub test: usize,
    pub epochs: usize,
    pub max_frames: usize,
    pub quick: bool,
    pub seeds: Vec<u64>,
    pub seconds: f64,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The results table in Markdown (also pasted into the README).
pub fn table(rows: &[DemoRow]) -> String {
    let mut out = String::from(
        "| model | train params | deployed params | UA | WA | macro-F1 | latency (folded) | latency (training form) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let s = r.scores.scores;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.2} ms | {:.2} ms |",
            r.module,
            thousands(r.bench.train_params),
            thousands(r.bench.deployed_params),
            pct(s.unweighted_accuracy),
            pct(s.weighted_accuracy),
            pct(s.macro_f1),
            r.bench.folded_median_ms,
            r.bench.trained_median_ms
        );
    }
    out
}

/// Writes cells.md, cells.json and the per-cell plots; returns the files written.
pub fn write(out: &Path, rows: &[DemoRow], cx: &DemoContext) -> Result<Vec<PathBuf>, String> {
    let (cores, cpu) = machine();
    let date = utc_now();
    let mut md = format!(
        "# hrf demo: every cell\n\n{date} · {cores} cores (`nproc`) · {cpu}{}\n\n\
         Data: `{}`, **{}** held out: {} train / {} validation / {} test \
         utterances. Each model trained for up to {} epochs (seeds {:?}), utterances centre-cropped \
         to {} frames; the weights with the best validation UA are folded, checked against the \
         trained model, and the **folded** model is evaluated on the held-out session. Latency: \
         one {}-frame utterance, batch 1, one thread (median of the timed runs).\n\n",
        if cx.quick {
            " · `--quick` smoke run"
        } else {
            ""
        },
        cx.data,
        cx.fold,
        cx.train,
        cx.val,
        cx.test,
        cx.epochs,
        cx.seeds,
        cx.max_frames,
        rows.first().map_or(300, |r| r.bench.frames),
    );
    md.push_str(&table(rows));
    let _ = writeln!(md, "\nTotal demo time: {:.0} s.\n", cx.seconds);
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut models = Vec::new();
    for r in rows {
        let base = out.join(&r.module);
        let (f1, w1) = plots::confusion_heatmap(
            &r.scores.confusion,
            &r.scores.classes,
            &format!("{} (folded), held-out {}", r.module, cx.fold),
            &out.join(format!("{}-confusion", r.module)),
        );
        let (f2, w2) = plots::learning_curves(
            &r.outcome.history,
            &out.join(format!("{}-learning_curves", r.module)),
        );
        let _ = base;
        let _ = writeln!(
            md,
            "## {}\n\nTrained {} steps in {:.0} s ({}); best validation UA {} at epoch {}. Fold check on {}: max abs diff {:.2e}, max rel diff {:.2e}, {} predictions changed. Run directory: `{}`.\n\n{}\n{}",
            r.module,
            r.outcome.steps,
            r.train_seconds,
            r.outcome.stop_reason,
            pct(r.outcome.best_ua),
            r.outcome.best_epoch,
            r.check.source,
            r.check.max_abs,
            r.check.max_rel,
            r.check.argmax_changes,
            r.run_dir.display(),
            r.scores.markdown(),
            bench_markdown(&r.bench)
        );
        crate::report::embed_svgs(&mut md, &f1);
        crate::report::embed_svgs(&mut md, &f2);
        files.extend(f1);
        files.extend(f2);
        warnings.extend(w1);
        warnings.extend(w2);
        models.push(json!({
            "model": r.module,
            "spec": r.spec,
            "train_params": r.bench.train_params,
            "deployed_params": r.bench.deployed_params,
            "metrics": r.scores.metrics_json(),
            "latency_ms": { "folded_median": r.bench.folded_median_ms, "folded_p90": r.bench.folded_p90_ms,
                            "trained_median": r.bench.trained_median_ms, "trained_p90": r.bench.trained_p90_ms },
            "bench": r.bench,
            "fold_check": check_json(&r.check, crate::cmd::fold::DEFAULT_TOLERANCE),
            "training": {
                "steps": r.outcome.steps,
                "seconds": r.train_seconds,
                "best_val_ua": r.outcome.best_ua,
                "best_epoch": r.outcome.best_epoch,
                "stop_reason": r.outcome.stop_reason,
                "history": r.outcome.history,
            },
            "run_dir": r.run_dir.display().to_string(),
        }));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let report = json!({
        "command": "demo",
        "created": date,
        "machine": { "cores": cores, "cpu": cpu },
        "quick": cx.quick,
        "dataset": { "source": cx.data },
        "split": { "fold": cx.fold, "train": cx.train, "val": cx.val, "test": cx.test },
        "seeds": cx.seeds,
        "epochs": cx.epochs,
        "max_frames": cx.max_frames,
        "seconds": cx.seconds,
        "models": models,
    });
    let mut all =
        crate::report::write_md_json(out, "cells", &md, &report).map_err(|e| e.to_string())?;
    all.extend(files);
    Ok(all)
}
