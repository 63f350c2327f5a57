//! `hrf study`: the paper's comparison as a grid of specs × folds × seeds, with a report of
//! paired statistics against a baseline. Resumable; `--plan` prints one command per cell (for a
//! job array), `--cell ID` runs one, `--collect` reports whatever cells exist.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hrf_audio::datasets::{DataKind, DataSource};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::CliError;
use super::threads::init_threads;
use super::train::RecipeArgs;
use crate::pipeline::{Corpus, cache_dir, ensure_synth_corpus};
use crate::run::{SpecSource, ensure_writable_dir};
use crate::study::{CellJob, CellKey, StudySettings, cell, cells, parse_list, report, run_cell};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Comma-separated presets or spec paths, in report order
    /// (`conformer_light,conformer_light_hrf,conformer_large`).
    #[arg(long, value_delimiter = ',', required = true)]
    pub specs: Vec<String>,
    /// The corpus (see `hrf data --help`).
    #[arg(long, default_value = "synth")]
    pub data: DataSource,
    /// `all`, or fold indices / ranges (`0,2`, `0-4`).
    #[arg(long, default_value = "all")]
    pub folds: String,
    /// Seeds (`0,1,2`, `0-4`).
    #[arg(long, default_value = "0,1,2")]
    pub seeds: String,
    /// Also score every cell's folded model on every utterance of this corpus (repeatable).
    #[arg(long)]
    pub also: Vec<DataSource>,
    /// The spec every other is compared with (default: each family's `_light` spec).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Study directory: `cells/<id>/` run directories, `study.json`, the report.
    #[arg(long, default_value = "hrf-out/study")]
    pub out: PathBuf,
    /// Print one JSON line per cell (`{"id": …, "command": …}`) and exit; run the commands in
    /// any order, on any machines sharing --out, then `--collect`.
    #[arg(long, conflicts_with_all = ["collect", "cell"])]
    pub plan: bool,
    /// Build the report from the finished cells in --out, without training.
    #[arg(long, conflicts_with = "cell")]
    pub collect: bool,
    /// Run only this cell (an id printed by --plan, e.g. `conformer_light-f0-s1`).
    #[arg(long)]
    pub cell: Option<String>,
    /// Peak learning rate: `LR` for every spec, or `SPEC=LR` for one (repeatable). Default: as
    /// `hrf train` (1e-3, 5e-4 for `*_large`).
    #[arg(long)]
    pub lr: Vec<String>,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// `STUDENT=TEACHER` (both in --specs, repeatable): every STUDENT cell distills from the
    /// TEACHER cell of the same fold and seed, which runs first.
    #[arg(long)]
    pub teacher: Vec<String>,
    /// α of distilled cells: loss `(1 − α)·CE + α·T²·KL(teacher ‖ student)`, in [0, 1].
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub kd_weight: f32,
    /// Temperature of distilled cells, in (0, 100].
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub kd_temperature: f32,
    /// Timed folded runs per cell for the latency column.
    #[arg(long, default_value_t = 30)]
    pub bench_runs: usize,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Test hook: exit abruptly (as if killed) after this many optimizer steps of a cell.
    #[arg(long, hide = true)]
    pub crash_after_steps: Option<u64>,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

/// The resolved study: specs, fold indices, seeds, per-spec learning rates.
struct Resolved {
    specs: Vec<SpecSource>,
    modules: Vec<String>,
    names: Vec<String>,
    folds: Vec<usize>,
    seeds: Vec<u64>,
    lr: Vec<(String, f64)>,
    settings: StudySettings,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError(e.to_string())
}

/// Checks every option and resolves specs and folds, before anything is written.
fn resolve(args: &Args) -> Result<Resolved, CliError> {
    let problems = args.recipe.problems();
    if !problems.is_empty() {
        return Err(CliError(format!(
            "{} (nothing was written)",
            problems.join("\n")
        )));
    }
    if args.bench_runs == 0 || args.bench_runs > 100_000 {
        return Err(CliError(format!(
            "--bench-runs {} is out of range; give 1 to 100000",
            args.bench_runs
        )));
    }
    let specs: Vec<SpecSource> = args
        .specs
        .iter()
        .map(|s| SpecSource::resolve(s.trim()))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let mut modules: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let first = specs[0].plan().map_err(CliError)?;
    for spec in &specs {
        let plan = spec.plan().map_err(CliError)?;
        super::budget::check_batch(spec, args.recipe.batch_size)?;
        if plan.classes != first.classes || plan.features != first.features {
            return Err(CliError(format!(
                "{} has other classes or features than {}; a study compares models on one corpus",
                spec.label, specs[0].label
            )));
        }
        if modules.iter().any(|m| m == plan.module) {
            return Err(CliError(format!(
                "--specs names {} twice; each spec is one row of the study",
                plan.module
            )));
        }
        modules.push(plan.module.to_owned());
        names.push(plan.name.to_owned());
    }
    let baseline = match &args.baseline {
        None => None,
        Some(b) => {
            let module = SpecSource::resolve(b)
                .ok()
                .and_then(|s| s.plan().ok().map(|p| p.module.to_owned()))
                .unwrap_or_else(|| b.clone());
            if !modules.contains(&module) {
                return Err(CliError(format!(
                    "--baseline {b} is not one of --specs ({}); add it to --specs",
                    modules.join(", ")
                )));
            }
            Some(module)
        }
    };
    // Learning rates: defaults per spec, then `LR`, then `SPEC=LR`.
    let mut lr: Vec<(String, f64)> = modules
        .iter()
        .map(|m| (m.clone(), crate::training::default_lr(m)))
        .collect();
    for given in &args.lr {
        let (who, value) = match given.split_once('=') {
            Some((s, v)) => (Some(s.trim()), v.trim()),
            None => (None, given.trim()),
        };
        let v: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0 && *v <= 10.0)
            .ok_or_else(|| {
                CliError(format!(
                    "--lr {given}: `{value}` is not a learning rate in (0, 10]; write `1e-3` or `conformer_large=5e-4`"
                ))
            })?;
        match who {
            None => lr.iter_mut().for_each(|e| e.1 = v),
            Some(s) => {
                let entry = lr.iter_mut().find(|e| e.0 == s).ok_or_else(|| {
                    CliError(format!(
                        "--lr {given}: `{s}` is not one of --specs ({})",
                        modules.join(", ")
                    ))
                })?;
                entry.1 = v;
            }
        }
    }
    let module_of = |given: &str| -> String {
        SpecSource::resolve(given.trim())
            .ok()
            .and_then(|s| s.plan().ok().map(|p| p.module.to_owned()))
            .unwrap_or_else(|| given.trim().to_owned())
    };
    let mut teachers: Vec<(String, String)> = Vec::new();
    for given in &args.teacher {
        let Some((student, teacher)) = given.split_once('=') else {
            return Err(CliError(format!(
                "--teacher {given}: write STUDENT=TEACHER, e.g. `conformer_light=conformer_large`"
            )));
        };
        let (student, teacher) = (module_of(student), module_of(teacher));
        for m in [&student, &teacher] {
            if !modules.contains(m) {
                return Err(CliError(format!(
                    "--teacher {given}: `{m}` is not one of --specs ({}); add it to --specs",
                    modules.join(", ")
                )));
            }
        }
        if student == teacher || teachers.iter().any(|(s, _)| *s == teacher) {
            return Err(CliError(format!(
                "--teacher {given}: a teacher is trained without distillation, and not by itself"
            )));
        }
        if teachers.iter().any(|(s, _)| *s == student) {
            return Err(CliError(format!(
                "--teacher {given}: `{student}` has a teacher already"
            )));
        }
        if teachers.iter().any(|(_, t)| *t == student) {
            return Err(CliError(format!(
                "--teacher {given}: `{student}` teaches another spec; a teacher is trained without distillation"
            )));
        }
        teachers.push((student, teacher));
    }
    let kd = super::train::kd_problems(args.kd_weight, args.kd_temperature);
    if !kd.is_empty() {
        return Err(CliError(kd.join("\n")));
    }
    let seeds = parse_list(&args.seeds, "seeds").map_err(CliError)?;
    let folds = fold_indices(&args.data, &args.folds, first.classes)?;
    let base = args.recipe.config(first, 0, None);
    let mut recipe = serde_json::to_value(&base).map_err(err)?;
    if let Some(map) = recipe.as_object_mut() {
        map.remove("lr");
        map.remove("seed");
        if args.recipe.max_frames.is_none() {
            map.insert(
                "max_frames".into(),
                serde_json::Value::String("spec".into()),
            );
        }
    }
    let settings = StudySettings {
        specs: args.specs.clone(),
        data: args.data.to_string(),
        folds: folds.clone(),
        seeds: seeds.clone(),
        also: args.also.iter().map(ToString::to_string).collect(),
        baseline,
        recipe,
        lr: lr.clone(),
        kd: (!teachers.is_empty()).then_some((args.kd_weight, args.kd_temperature)),
        teachers,
    };
    Ok(Resolved {
        specs,
        modules,
        names,
        folds,
        seeds,
        lr,
        settings,
    })
}

/// Fold indices of `--folds` (`all`, indices, ranges or fold names), from the corpus's
/// protocol (the audio is not read).
fn fold_indices(data: &DataSource, given: &str, classes: &[&str]) -> Result<Vec<usize>, CliError> {
    ensure_synth_corpus(data).map_err(err)?;
    let owned: Vec<String> = classes.iter().map(|c| (*c).to_owned()).collect();
    let dataset = match data.kind {
        DataKind::Manifest | DataKind::Synth => data.load_with_classes(Some(&owned)),
        _ => data.load(),
    }
    .map_err(err)?;
    let folds = dataset.folds().map_err(err)?;
    let names: Vec<String> = folds.iter().map(|f| f.name.clone()).collect();
    resolve_folds(given, &names, &data.to_string())
}

/// `--folds` against the protocol's fold names. A number (or range) is an index, as `--plan`
/// writes them, even where sessions are named by numbers (the synthetic corpus's `1`…`5`); a
/// part that is not one, or an index out of range that is some fold's name, is that fold's name.
fn resolve_folds(given: &str, names: &[String], data: &str) -> Result<Vec<usize>, CliError> {
    if given.trim() == "all" {
        return Ok((0..names.len()).collect());
    }
    let mut out = Vec::new();
    for part in given.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let by_name = names.iter().position(|n| n == part);
        let indices: Vec<usize> = match parse_list(part, "folds") {
            Ok(list) if list.iter().all(|&i| (i as usize) < names.len()) => {
                list.into_iter().map(|i| i as usize).collect()
            }
            parsed => match (by_name, parsed) {
                (Some(i), _) => vec![i],
                (None, Ok(list)) => list.into_iter().map(|i| i as usize).collect(),
                (None, Err(e)) => return Err(CliError(e)),
            },
        };
        for i in indices {
            if i >= names.len() {
                return Err(CliError(format!(
                    "--folds {given}: {data} has {} folds ({}); indices go from 0 to {}",
                    names.len(),
                    names.join(", "),
                    names.len().saturating_sub(1)
                )));
            }
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    if out.is_empty() {
        return Err(CliError(format!(
            "--folds `{given}` names no fold; give `all` or indices"
        )));
    }
    Ok(out)
}

/// Single-quotes `s` for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/=+@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `hrf study … --cell ID` command of one cell, with every option that defines the study.
fn cell_command(args: &Args, r: &Resolved, id: &str) -> String {
    let mut parts: Vec<String> = vec![
        "hrf".into(),
        "study".into(),
        "--specs".into(),
        args.specs.join(","),
        "--data".into(),
        args.data.to_string(),
        "--folds".into(),
        r.folds
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        "--seeds".into(),
        r.seeds
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    ];
    for a in &args.also {
        parts.extend(["--also".into(), a.to_string()]);
    }
    if let Some(b) = &args.baseline {
        parts.extend(["--baseline".into(), b.clone()]);
    }
    parts.extend(["--out".into(), args.out.display().to_string()]);
    for (m, lr) in &r.lr {
        parts.extend(["--lr".into(), format!("{m}={lr:e}")]);
    }
    parts.extend(args.recipe.to_args());
    for t in &args.teacher {
        parts.extend(["--teacher".into(), t.clone()]);
    }
    if !args.teacher.is_empty() {
        parts.extend(["--kd-weight".into(), args.kd_weight.to_string()]);
        parts.extend(["--kd-temperature".into(), args.kd_temperature.to_string()]);
    }
    parts.extend(["--bench-runs".into(), args.bench_runs.to_string()]);
    if let Some(c) = &args.cache_dir {
        parts.extend(["--cache-dir".into(), c.display().to_string()]);
    }
    parts.extend(["--cell".into(), id.to_owned()]);
    parts
        .iter()
        .map(|p| shell_quote(p))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    let start = Instant::now();
    init_threads(args.threads)?;
    let r = resolve(&args)?;
    let module_refs: Vec<&str> = r.modules.iter().map(String::as_str).collect();
    let grid = cells(&module_refs, &r.folds, &r.seeds);
    if let Some(id) = &args.cell
        && !grid.iter().any(|k| &k.id() == id)
    {
        return Err(CliError(format!(
            "--cell {id} is not a cell of this study; `hrf study … --plan` lists them (e.g. {})",
            grid[0].id()
        )));
    }
    if args.plan {
        for key in &grid {
            let mut line = serde_json::json!({ "id": key.id(), "command": cell_command(&args, &r, &key.id()) });
            if let Some(t) = teacher_of(&r, key) {
                line["after"] = serde_json::Value::String(t.id());
            }
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.collect {
        return collect(&args.out, &r, &grid);
    }

    ensure_writable_dir(&args.out).map_err(err)?;
    r.settings.save_or_check(&args.out).map_err(CliError)?;
    let first = r.specs[0].plan().map_err(CliError)?;
    let cache = cache_dir(args.cache_dir.as_deref());
    let corpus = Corpus::load(&args.data, first.classes, first.features, &cache).map_err(err)?;
    let all_folds = corpus.dataset.folds().map_err(err)?;
    let also: Vec<(String, Corpus)> = args
        .also
        .iter()
        .map(|a| {
            Corpus::load(a, first.classes, first.features, &cache)
                .map(|c| (a.to_string(), c))
                .map_err(err)
        })
        .collect::<Result<_, _>>()?;
    // Teachers' cells first: a distilled cell needs its teacher's.
    let mut todo: Vec<&CellKey> = grid
        .iter()
        .filter(|k| args.cell.as_ref().is_none_or(|id| &k.id() == id))
        .collect();
    todo.sort_by_key(|k| teacher_of(&r, k).is_some());
    let bars = MultiProgress::new();
    let grid_bar = bars.add(ProgressBar::new(todo.len() as u64));
    grid_bar.set_style(
        ProgressStyle::with_template(
            "study cells {pos}/{len} {bar:30.magenta/white} {msg} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    println!(
        "study: {} specs × {} folds × {} seeds = {} cells on {} ({} to run here) → {}",
        r.modules.len(),
        r.folds.len(),
        r.seeds.len(),
        grid.len(),
        args.data,
        todo.len(),
        args.out.display()
    );
    for key in todo {
        let spec = &r.specs[key.spec];
        let plan = spec.plan().map_err(CliError)?;
        let mut config = args.recipe.config(plan, key.seed, Some(r.lr[key.spec].1));
        let teacher_key = teacher_of(&r, key);
        if let Some(t) = &teacher_key {
            let tplan = r.specs[t.spec].plan().map_err(CliError)?;
            config.teacher = Some(crate::training::TeacherRef {
                // Relative to the study, so a moved study still matches its records.
                run: format!("cells/{}", t.id()),
                spec_name: tplan.name.to_owned(),
                spec_hash: tplan.spec_hash.to_owned(),
                weight: args.kd_weight,
                temperature: args.kd_temperature,
            });
        }
        let dir = key.dir(&args.out);
        let recipe = serde_json::to_value(&config).map_err(err)?;
        grid_bar.set_message(key.id());
        if cell::finished(&dir, &recipe).map_err(CliError)?.is_some() {
            grid_bar.inc(1);
            continue;
        }
        let teacher = match &teacher_key {
            None => None,
            Some(t) => {
                if !t.dir(&args.out).join(cell::CELL_FILE).is_file() {
                    return Err(CliError(format!(
                        "cell {} distills from cell {}, which has not finished; run it first (`--cell {}`)",
                        key.id(),
                        t.id(),
                        t.id()
                    )));
                }
                let (teacher, _) = super::train::load_teacher(
                    &t.dir(&args.out),
                    args.kd_weight,
                    args.kd_temperature,
                )?;
                Some(teacher)
            }
        };
        let fold = &all_folds[key.fold];
        let out = run_cell(&CellJob {
            id: key.id(),
            spec,
            data_text: args.data.to_string(),
            corpus: &corpus,
            fold,
            fold_index: key.fold,
            also: &also,
            teacher: teacher.as_ref(),
            config,
            dir,
            bench_runs: args.bench_runs,
            fold_check_utterances: 32,
            bars: Some(&bars),
            crash_after_steps: args.crash_after_steps,
        })
        .map_err(|e| CliError(format!("cell {}: {e}", key.id())))?;
        bars.suspend(|| {
            println!(
                "{}: test UA {:.1}% (best epoch {} of {}, {}); folded {:.2} ms",
                key.id(),
                100.0 * out.record.test.ua,
                out.record.best_epoch,
                out.record.epochs_run,
                out.record.stop_reason,
                out.record.timing.folded_ms
            )
        });
        grid_bar.inc(1);
    }
    grid_bar.finish_and_clear();
    if args.cell.is_some() {
        println!(
            "cell done in {:.0} s; `hrf study … --collect` builds the report",
            start.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let code = collect(&args.out, &r, &grid)?;
    println!("study finished in {:.0} s", start.elapsed().as_secs_f64());
    Ok(code)
}

/// The teacher cell of a distilled cell (same fold and seed), if it has one.
fn teacher_of(r: &Resolved, key: &CellKey) -> Option<CellKey> {
    let (_, teacher) = r.settings.teachers.iter().find(|(s, _)| *s == key.module)?;
    let spec = r.modules.iter().position(|m| m == teacher)?;
    Some(CellKey {
        spec,
        module: teacher.clone(),
        fold: key.fold,
        seed: key.seed,
    })
}

/// Reads every finished cell of the grid and writes the report.
fn collect(out: &std::path::Path, r: &Resolved, grid: &[CellKey]) -> Result<ExitCode, CliError> {
    if !out.is_dir() {
        return Err(CliError(format!(
            "{} does not exist: no cell has run yet; run the study (or the --plan commands) first",
            out.display()
        )));
    }
    let mut records = Vec::new();
    for key in grid {
        let path = key.dir(out).join(cell::CELL_FILE);
        if path.is_file() {
            let record = cell::load_record(&path).map_err(CliError)?;
            if record.module != key.module || record.fold != key.fold || record.seed != key.seed {
                return Err(CliError(format!(
                    "{} records cell {} but sits in {}; move it back or delete it",
                    path.display(),
                    record.id,
                    key.id()
                )));
            }
            records.push(record);
        }
    }
    let files =
        report::write(out, &r.settings, &r.modules, &r.names, grid, &records).map_err(CliError)?;
    println!(
        "{} of {} cells finished; report: {}",
        records.len(),
        grid.len(),
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_numbers_are_indices_even_where_sessions_are_named_by_numbers() {
        let names: Vec<String> = ["1", "2", "3", "4", "5"].map(String::from).to_vec();
        // What --plan writes for `--folds all` must come back as the same folds.
        assert_eq!(
            resolve_folds("0,1,2,3,4", &names, "synth").unwrap(),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!(
            resolve_folds("all", &names, "synth").unwrap(),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!(
            resolve_folds("1-3", &names, "synth").unwrap(),
            vec![1, 2, 3]
        );
        // Out of range as an index, but a session's name: that session.
        assert_eq!(resolve_folds("5", &names, "synth").unwrap(), vec![4]);
        let ses: Vec<String> = ["Ses01", "Ses02"].map(String::from).to_vec();
        assert_eq!(
            resolve_folds("Ses02,0", &ses, "iemocap").unwrap(),
            vec![1, 0]
        );
        let e = resolve_folds("2", &ses, "iemocap").unwrap_err().0;
        assert!(
            e.contains("has 2 folds (Ses01, Ses02); indices go from 0 to 1"),
            "{e}"
        );
        assert!(resolve_folds("Ses09", &ses, "iemocap").is_err());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("synth:a/b.csv"), "synth:a/b.csv");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
