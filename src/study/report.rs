//! A study's report: per spec, UA / WA / macro-F1 as mean ± sd over its cells with per-fold
//! means, parameters and folded latency; per spec against its baseline, the paired statistics
//! over identical (fold, seed) cells, on the test folds and on every extra corpus; plots.
//!
//! `report.json` holds the statistics under `results` — a function of the cell records only,
//! so an interrupted study, or cells run by hand in another order, give the same `results` —
//! and the machine-dependent figures (latency, training time, date) apart from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::stats::{MeanSd, Paired, mean_sd, paired};
use super::{CellKey, CellRecord, StudySettings};
use crate::report::{plots, utc_now};

/// The corpus name of the comparisons on the validation speakers (the selected checkpoints'
/// scores, on which settings are chosen; the test folds are for the final table only).
pub const VALIDATION: &str = "validation";

/// One spec's row.
#[derive(Clone, Debug, Serialize)]
pub struct SpecSummary {
    pub spec: String,
    pub module: String,
    pub cells: usize,
    pub expected_cells: usize,
    pub ua: Option<MeanSd>,
    pub wa: Option<MeanSd>,
    pub macro_f1: Option<MeanSd>,
    /// Validation UA and loss of the selected checkpoints.
    pub val_ua: Option<MeanSd>,
    pub val_loss: Option<MeanSd>,
    /// `(fold index, fold name, mean UA, cells)`.
    pub per_fold: Vec<(usize, String, f64, usize)>,
    pub train_params: Option<usize>,
    pub deployed_params: Option<usize>,
    /// Per extra corpus: UA mean ± sd over cells.
    pub also: Vec<(String, Option<MeanSd>)>,
}

/// `spec − baseline` on one corpus.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub spec: String,
    pub baseline: String,
    /// `test` (the protocol's held-out folds) or an extra corpus.
    pub corpus: String,
    /// UA differences in points (×100).
    pub paired: Option<Paired>,
    /// `(fold index, mean paired UA difference in points)`.
    pub per_fold: Vec<(usize, f64)>,
    /// Share of the baseline → `large` gap this spec closes (paired means), when the family's
    /// large spec is in the study and the gap is not ~0.
    pub gap_closed: Option<f64>,
    pub large: Option<String>,
}

/// The `_light` / `_light_hrf` / `_large` family of a module (`conformer_light_hrf` → `conformer`).
pub fn family(module: &str) -> &str {
    for suffix in ["_light_hrf", "_light", "_large"] {
        if let Some(f) = module.strip_suffix(suffix) {
            return f;
        }
    }
    module
}

/// The baseline each module is compared with: `--baseline`, else its family's `_light`.
pub fn baseline_of<'a>(
    module: &str,
    modules: &'a [String],
    given: Option<&'a str>,
) -> Option<&'a str> {
    let candidate = match given {
        Some(b) => modules.iter().find(|m| m.as_str() == b)?.as_str(),
        None => {
            let want = format!("{}_light", family(module));
            modules.iter().find(|m| **m == want)?.as_str()
        }
    };
    (candidate != module).then_some(candidate)
}

fn points(records: &[&CellRecord], corpus: &str) -> BTreeMap<(usize, u64), f64> {
    records
        .iter()
        .filter_map(|r| {
            let ua = if corpus == "test" {
                Some(r.test.ua)
            } else if corpus == VALIDATION {
                r.val.map(|v| v.ua)
            } else {
                r.also.iter().find(|(n, _)| n == corpus).map(|(_, s)| s.ua)
            }?;
            Some(((r.fold, r.seed), 100.0 * ua))
        })
        .collect()
}

fn compare(
    spec: &[&CellRecord],
    base: &[&CellRecord],
    large: Option<&[&CellRecord]>,
    corpus: &str,
) -> (Option<Paired>, Vec<(usize, f64)>, Option<f64>) {
    let a = points(spec, corpus);
    let b = points(base, corpus);
    let matched: Vec<((usize, u64), f64)> = a
        .iter()
        .filter_map(|(k, v)| b.get(k).map(|w| (*k, v - w)))
        .collect();
    let diffs: Vec<f64> = matched.iter().map(|(_, d)| *d).collect();
    let mut by_fold: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for ((fold, _), d) in &matched {
        by_fold.entry(*fold).or_default().push(*d);
    }
    let per_fold = by_fold
        .into_iter()
        .map(|(f, d)| (f, d.iter().sum::<f64>() / d.len() as f64))
        .collect();
    let stats = paired(&diffs);
    let gap = large.and_then(|large| {
        let l = points(large, corpus);
        let gap: Vec<f64> = l
            .iter()
            .filter_map(|(k, v)| b.get(k).map(|w| v - w))
            .collect();
        let gap = mean_sd(&gap)?.mean;
        let gain = stats.as_ref()?.mean_difference;
        (gap.abs() > 1e-9).then_some(gain / gap)
    });
    (stats, per_fold, gap)
}

/// Builds the summaries and comparisons from the records present.
pub fn analyse(
    settings: &StudySettings,
    modules: &[String],
    names: &[String],
    expected: &[CellKey],
    records: &[CellRecord],
) -> (Vec<SpecSummary>, Vec<Comparison>) {
    let of = |m: &str| -> Vec<&CellRecord> { records.iter().filter(|r| r.module == m).collect() };
    let mut summaries = Vec::new();
    for (module, name) in modules.iter().zip(names) {
        let rs = of(module);
        let take = |f: &dyn Fn(&CellRecord) -> f64| -> Option<MeanSd> {
            mean_sd(&rs.iter().map(|r| 100.0 * f(r)).collect::<Vec<_>>())
        };
        let mut folds: BTreeMap<usize, (String, Vec<f64>)> = BTreeMap::new();
        for r in &rs {
            folds
                .entry(r.fold)
                .or_insert_with(|| (r.fold_name.clone(), Vec::new()))
                .1
                .push(100.0 * r.test.ua);
        }
        summaries.push(SpecSummary {
            spec: name.clone(),
            module: module.clone(),
            cells: rs.len(),
            expected_cells: expected.iter().filter(|k| &k.module == module).count(),
            ua: take(&|r| r.test.ua),
            wa: take(&|r| r.test.wa),
            macro_f1: take(&|r| r.test.macro_f1),
            val_ua: mean_sd(
                &rs.iter()
                    .filter_map(|r| r.val.map(|v| 100.0 * v.ua))
                    .collect::<Vec<_>>(),
            ),
            val_loss: mean_sd(
                &rs.iter()
                    .filter_map(|r| r.val.map(|v| v.loss))
                    .collect::<Vec<_>>(),
            ),
            per_fold: folds
                .into_iter()
                .map(|(f, (n, v))| (f, n, v.iter().sum::<f64>() / v.len() as f64, v.len()))
                .collect(),
            train_params: rs.first().map(|r| r.train_params),
            deployed_params: rs.first().map(|r| r.deployed_params),
            also: settings
                .also
                .iter()
                .map(|c| {
                    let v: Vec<f64> = rs
                        .iter()
                        .filter_map(|r| r.also.iter().find(|(n, _)| n == c))
                        .map(|(_, s)| 100.0 * s.ua)
                        .collect();
                    (c.clone(), mean_sd(&v))
                })
                .collect(),
        });
    }
    let mut comparisons = Vec::new();
    let corpora: Vec<String> = ["test".to_owned(), VALIDATION.to_owned()]
        .into_iter()
        .chain(settings.also.iter().cloned())
        .collect();
    for corpus in &corpora {
        for module in modules {
            let Some(base) = baseline_of(module, modules, settings.baseline.as_deref()) else {
                continue;
            };
            let large_name = format!("{}_large", family(module));
            let large =
                (module != &large_name && modules.contains(&large_name)).then(|| of(&large_name));
            let (p, per_fold, gap) = compare(&of(module), &of(base), large.as_deref(), corpus);
            comparisons.push(Comparison {
                spec: module.clone(),
                baseline: base.to_owned(),
                corpus: corpus.clone(),
                paired: p,
                per_fold,
                gap_closed: gap,
                large: large.is_some().then(|| large_name.clone()),
            });
        }
    }
    (summaries, comparisons)
}

fn ms(m: &Option<MeanSd>) -> String {
    m.map_or("–".to_owned(), |m| format!("{:.1} ± {:.1}", m.mean, m.sd))
}

fn p_text(p: Option<f64>) -> String {
    match p {
        None => "–".to_owned(),
        Some(p) if p < 0.001 => "< 0.001".to_owned(),
        Some(p) => format!("{p:.3}"),
    }
}

fn thousands(n: Option<usize>) -> String {
    n.map_or("–".to_owned(), crate::report::thousands)
}

/// The comparison table of one corpus.
fn comparison_table(comparisons: &[Comparison], corpus: &str) -> String {
    let mut md = String::from(
        "| spec | baseline | pairs | ΔUA (points) | 95% CI (paired t) | 95% CI (bootstrap) | Wilcoxon p | sign p | wins / ties / losses | gap to large closed |\n|---|---|---:|---:|---|---|---:|---:|---|---:|\n",
    );
    for c in comparisons.iter().filter(|c| c.corpus == corpus) {
        let Some(p) = &c.paired else {
            let _ = writeln!(
                md,
                "| {} | {} | 0 | – | – | – | – | – | – | – |",
                c.spec, c.baseline
            );
            continue;
        };
        let ci = |i: &Option<super::stats::Interval>| {
            i.map_or("–".to_owned(), |i| {
                format!("[{:+.2}, {:+.2}]", i.low, i.high)
            })
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} |",
            c.spec,
            c.baseline,
            p.n,
            {
                // Bold when the paired t interval excludes 0.
                let d = format!("{:+.2} ± {:.2}", p.mean_difference, p.sd_difference);
                if p.t_interval.is_some_and(|i| i.excludes_zero()) {
                    format!("**{d}**")
                } else {
                    d
                }
            },
            ci(&p.t_interval),
            ci(&p.bootstrap_interval),
            p_text(p.wilcoxon_p),
            p_text(p.sign_p),
            p.wins,
            p.ties,
            p.losses,
            c.gap_closed.map_or("–".to_owned(), |g| format!(
                "{:.0}% (of {})",
                100.0 * g,
                c.large.as_deref().unwrap_or("large")
            )),
        );
    }
    md
}

/// Machine-dependent figures per module: median folded latency over cells and mean training
/// seconds.
fn timing(records: &[CellRecord], module: &str) -> (Option<f64>, Option<f64>, usize) {
    let mut ms: Vec<f64> = records
        .iter()
        .filter(|r| r.module == module)
        .map(|r| r.timing.folded_ms)
        .collect();
    if ms.is_empty() {
        return (None, None, 0);
    }
    ms.sort_by(f64::total_cmp);
    let train: Vec<f64> = records
        .iter()
        .filter(|r| r.module == module)
        .map(|r| r.timing.train_seconds)
        .collect();
    let frames = records
        .iter()
        .find(|r| r.module == module)
        .map_or(0, |r| r.timing.bench_frames);
    (
        Some(ms[ms.len() / 2]),
        Some(train.iter().sum::<f64>() / train.len() as f64),
        frames,
    )
}

/// Writes report.md, report.json and the plots into `out`; returns the files written.
pub fn write(
    out: &Path,
    settings: &StudySettings,
    modules: &[String],
    names: &[String],
    expected: &[CellKey],
    records: &[CellRecord],
) -> Result<Vec<PathBuf>, String> {
    let (summaries, comparisons) = analyse(settings, modules, names, expected, records);
    let (cores, cpu) = crate::report::machine();
    let date = utc_now();
    let mut md = format!(
        "# hrf study report\n\n{date} · {cores} cores · {cpu}\n\n\
         Data `{}`; folds {:?}; seeds {:?}; {} of {} cells finished. Every cell trains one spec on \
         one protocol fold with one seed (validation speakers of the training sessions choose the \
         checkpoint), folds it (verified against the trained model), and scores the **folded** \
         model once on the fold's held-out test set{}. Mean ± sd are over cells; differences are \
         paired over identical (fold, seed) cells, in UA points.\n\n",
        settings.data,
        settings.folds,
        settings.seeds,
        records.len(),
        expected.len(),
        if settings.also.is_empty() {
            String::new()
        } else {
            format!(" and on {}", settings.also.join(", "))
        }
    );
    md.push_str("## Per spec (test folds)\n\n| spec | cells | UA | WA | macro-F1 | train params | deployed params | folded latency | mean training time |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for s in &summaries {
        let (lat, train, frames) = timing(records, &s.module);
        let _ = writeln!(
            md,
            "| {} | {}/{} | {} | {} | {} | {} | {} | {} | {} |",
            s.module,
            s.cells,
            s.expected_cells,
            ms(&s.ua),
            ms(&s.wa),
            ms(&s.macro_f1),
            thousands(s.train_params),
            thousands(s.deployed_params),
            lat.map_or("–".to_owned(), |l| format!("{l:.2} ms ({frames} frames)")),
            train.map_or("–".to_owned(), |t| format!("{t:.0} s")),
        );
    }
    md.push_str(
        "\nLatency: batch 1, one thread, median over cells, on the machine that ran each cell.\n",
    );
    let folds: Vec<usize> = settings.folds.clone();
    let _ = write!(md, "\n## UA per fold (mean over seeds)\n\n| spec |");
    for f in &folds {
        let _ = write!(md, " fold {f} |");
    }
    let _ = write!(md, "\n|---|");
    for _ in &folds {
        md.push_str("---:|");
    }
    md.push('\n');
    for s in &summaries {
        let _ = write!(md, "| {} |", s.module);
        for f in &folds {
            match s.per_fold.iter().find(|p| p.0 == *f) {
                Some(p) => {
                    let _ = write!(md, " {:.1} ({}) |", p.2, p.1);
                }
                None => md.push_str(" – |"),
            }
        }
        md.push('\n');
    }
    if !comparisons.is_empty() {
        md.push_str("\n## Against the baseline (test folds)\n\n");
        md.push_str(&comparison_table(&comparisons, "test"));
        md.push_str(
            "\nΔUA: mean ± sd of the paired differences. Wilcoxon: signed-rank, two-sided, exact \
             (zero differences dropped); bold: the paired t interval excludes 0. Sign: exact binomial over the non-tied pairs. Gap closed: \
             the paired gain over the baseline divided by the paired gain of the family's large \
             spec.\n",
        );
    }
    let _ = writeln!(
        md,
        "\n## Validation speakers (choose settings here)\n\nThe selected checkpoint of each cell \
         on its fold's validation speakers. Variants and recipe settings are compared on these \
         columns; the test folds above are reported, not chosen on. The selected checkpoint's \
         validation UA is a maximum over epochs under `--select ua`, so it is optimistic: compare \
         settings under the same `--select`.\n\n| spec | cells | val UA | val loss |\n|---|---:|---:|---:|"
    );
    for s in &summaries {
        let loss = s
            .val_loss
            .map_or("–".to_owned(), |m| format!("{:.3} ± {:.3}", m.mean, m.sd));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {loss} |",
            s.module,
            s.cells,
            ms(&s.val_ua)
        );
    }
    md.push('\n');
    md.push_str(&comparison_table(&comparisons, VALIDATION));
    for corpus in &settings.also {
        let _ = writeln!(
            md,
            "\n## On `{corpus}` (every utterance)\n\n| spec | cells | UA |\n|---|---:|---:|"
        );
        for s in &summaries {
            let v = s.also.iter().find(|(n, _)| n == corpus).and_then(|x| x.1);
            let _ = writeln!(md, "| {} | {} | {} |", s.module, s.cells, ms(&v));
        }
        md.push('\n');
        md.push_str(&comparison_table(&comparisons, corpus));
    }
    let _ = writeln!(
        md,
        "\n## Settings\n\nEvery cell used the same recipe (the learning rate per spec):\n\n```json\n{}\n```\n\nLearning rates: {}.",
        serde_json::to_string_pretty(&settings.recipe).unwrap_or_default(),
        settings
            .lr
            .iter()
            .map(|(m, lr)| format!("{m} {lr:e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Plots.
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let bars: Vec<(String, f64, f64)> = summaries
        .iter()
        .filter_map(|s| s.ua.map(|m| (s.module.clone(), m.mean, m.sd)))
        .collect();
    let (f, w) = plots::bars_with_errors(
        &bars,
        "test UA (%), mean ± sd over cells",
        &out.join("ua_bars"),
    );
    files.extend(f);
    warnings.extend(w);
    let columns: Vec<(String, Vec<f64>)> = comparisons
        .iter()
        .filter(|c| c.corpus == "test")
        .map(|c| {
            (
                format!("{} − {}", c.spec, c.baseline),
                c.per_fold.iter().map(|p| p.1).collect(),
            )
        })
        .collect();
    if !columns.is_empty() {
        let (f, w) = plots::paired_dots(
            &columns,
            "paired UA difference per fold (mean over seeds)",
            &out.join("paired_per_fold"),
        );
        files.extend(f);
        warnings.extend(w);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    crate::report::embed_svgs(&mut md, &files);

    let missing: Vec<String> = expected
        .iter()
        .filter(|k| !records.iter().any(|r| r.id == k.id()))
        .map(CellKey::id)
        .collect();
    let report = json!({
        "command": "study",
        "results": {
            "settings": settings,
            "cells_expected": expected.len(),
            "cells_finished": records.len(),
            "missing": missing,
            "specs": summaries,
            "comparisons": comparisons,
            "cells": records.iter().map(|r| json!({
                "id": r.id, "module": r.module, "fold": r.fold, "seed": r.seed,
                "val": r.val, "test": r.test, "also": r.also, "best_epoch": r.best_epoch,
                "epochs_run": r.epochs_run, "fold_max_rel": r.fold_max_rel,
            })).collect::<Vec<_>>(),
        },
        "machine": {
            "created": date,
            "cores": cores,
            "cpu": cpu,
            "timing": records.iter().map(|r| json!({ "id": r.id, "timing": r.timing })).collect::<Vec<_>>(),
        },
    });
    let mut all =
        crate::report::write_md_json(out, "report", &md, &report).map_err(|e| e.to_string())?;
    all.extend(files);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::cell::Score;
    use crate::study::cell::{CellTiming, ValScore};
    use crate::study::cells;

    fn record(module: &str, fold: usize, seed: u64, ua: f64) -> CellRecord {
        CellRecord {
            id: format!("{module}-f{fold}-s{seed}"),
            spec: module.to_owned(),
            module: module.to_owned(),
            spec_hash: String::new(),
            fold,
            fold_name: format!("{}", fold + 1),
            seed,
            recipe: json!({}),
            val: Some(ValScore {
                ua: ua + 0.05,
                loss: 0.5,
                utterances: 4,
            }),
            test: Score {
                ua,
                wa: ua,
                macro_f1: ua,
                utterances: 10,
            },
            also: vec![],
            train_params: 10,
            deployed_params: 8,
            best_epoch: 1,
            epochs_run: 1,
            stop_reason: String::new(),
            fold_max_rel: 0.0,
            timing: CellTiming {
                train_seconds: 1.0,
                folded_ms: 1.0,
                bench_frames: 300,
            },
        }
    }

    #[test]
    fn families_and_baselines() {
        let modules: Vec<String> = ["c_light", "c_light_hrf", "c_large", "d_light_hrf"]
            .map(String::from)
            .to_vec();
        assert_eq!(family("c_light_hrf"), "c");
        assert_eq!(baseline_of("c_light_hrf", &modules, None), Some("c_light"));
        assert_eq!(baseline_of("c_light", &modules, None), None);
        assert_eq!(baseline_of("d_light_hrf", &modules, None), None);
        assert_eq!(
            baseline_of("d_light_hrf", &modules, Some("c_light")),
            Some("c_light")
        );
    }

    #[test]
    fn paired_statistics_match_a_hand_worked_grid() {
        // 2 folds × 2 seeds. light: 0.70, 0.72, 0.60, 0.64; hrf: +2, +4, −1, +3 points;
        // large: +10 points everywhere.
        let light = [0.70, 0.72, 0.60, 0.64];
        let gains = [2.0, 4.0, -1.0, 3.0];
        let mut records = Vec::new();
        for (i, (l, g)) in light.iter().zip(gains).enumerate() {
            let (fold, seed) = (i / 2, (i % 2) as u64);
            records.push(record("c_light", fold, seed, *l));
            records.push(record("c_light_hrf", fold, seed, l + g / 100.0));
            records.push(record("c_large", fold, seed, l + 0.10));
        }
        let modules: Vec<String> = ["c_light", "c_light_hrf", "c_large"]
            .map(String::from)
            .to_vec();
        let settings = StudySettings {
            specs: modules.clone(),
            data: "synth".into(),
            folds: vec![0, 1],
            seeds: vec![0, 1],
            also: vec![],
            baseline: None,
            recipe: json!({}),
            lr: vec![],
            teachers: vec![],
            kd: None,
        };
        let names = modules.clone();
        let refs: Vec<&str> = modules.iter().map(String::as_str).collect();
        let expected = cells(&refs, &[0, 1], &[0, 1]);
        let (summaries, comparisons) = analyse(&settings, &modules, &names, &expected, &records);
        let light_ua = summaries[0].ua.unwrap();
        assert!((light_ua.mean - 66.5).abs() < 1e-9);
        assert_eq!(summaries[0].per_fold.len(), 2);
        assert!((summaries[0].per_fold[0].2 - 71.0).abs() < 1e-9);
        let hrf = comparisons
            .iter()
            .find(|c| c.spec == "c_light_hrf")
            .unwrap();
        let p = hrf.paired.as_ref().unwrap();
        assert_eq!(p.n, 4);
        assert!((p.mean_difference - 2.0).abs() < 1e-9);
        assert_eq!((p.wins, p.ties, p.losses), (3, 0, 1));
        // Per fold: (2 + 4)/2 = 3, (−1 + 3)/2 = 1.
        assert!((hrf.per_fold[0].1 - 3.0).abs() < 1e-9 && (hrf.per_fold[1].1 - 1.0).abs() < 1e-9);
        // Gap: 2 of 10 points.
        assert!((hrf.gap_closed.unwrap() - 0.2).abs() < 1e-9);
        // Validation (5 points above test in every cell): its own summary and comparison.
        assert!((summaries[0].val_ua.unwrap().mean - 71.5).abs() < 1e-9);
        let val = comparisons
            .iter()
            .find(|c| c.spec == "c_light_hrf" && c.corpus == VALIDATION)
            .unwrap();
        assert!((val.paired.as_ref().unwrap().mean_difference - 2.0).abs() < 1e-9);
        // Large against light: no gap of its own.
        let large = comparisons.iter().find(|c| c.spec == "c_large").unwrap();
        assert!(large.gap_closed.is_none());
        assert!((large.paired.as_ref().unwrap().mean_difference - 10.0).abs() < 1e-9);
        // A missing cell drops its pair only.
        let fewer: Vec<CellRecord> = records
            .iter()
            .filter(|r| r.id != "c_light_hrf-f1-s0")
            .cloned()
            .collect();
        let (_, c2) = analyse(&settings, &modules, &names, &expected, &fewer);
        let p2 = c2[0].paired.as_ref().unwrap();
        assert_eq!(p2.n, 3);
        assert!((p2.mean_difference - 3.0).abs() < 1e-9);
    }
}
