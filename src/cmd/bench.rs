//! `hrf bench`: batch-1, single-thread latency of the folded model (`predict_folded`) against
//! the training-form forward (`TrainModel::predict`), with GFLOP/s from the compiler's FLOP
//! count, parameter counts, weight and scratch bytes, and the process's peak RSS.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hrf_compiler::CheckedModel;
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::train::TrainModel;
use serde::Serialize;

use super::CliError;
use super::fold::random_inputs;
use crate::report::utc_now;
use crate::run::{LoadedModel, SpecSource, ensure_writable_dir};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// A preset name or YAML spec (optional with --model, which carries its spec).
    #[arg(long)]
    pub spec: Option<String>,
    /// Benchmark trained weights (run directory or checkpoint); default: seeded initial weights.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Utterance length in frames (10 ms each); capped at the spec's max_frames.
    #[arg(long, default_value_t = 300)]
    pub frames: usize,
    /// Timed runs per model (after 3 warm-up runs).
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
    /// Directory for report.json / report.md (default: `hrf-out/bench/<spec>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

/// What one benchmark measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub spec: String,
    pub frames: usize,
    pub runs: usize,
    pub folded_median_ms: f64,
    pub folded_p90_ms: f64,
    pub trained_median_ms: f64,
    pub trained_p90_ms: f64,
    /// Folded FLOPs per utterance / median latency.
    pub folded_gflops: f64,
    pub trained_gflops: f64,
    pub folded_mflop: f64,
    pub trained_mflop: f64,
    /// Trainable weights at training time (HRF included).
    pub train_params: usize,
    /// Stored weights of the deployed model (after every fold).
    pub deployed_params: usize,
    /// Bytes of the folded arena (params + buffers, f32).
    pub weight_bytes: usize,
    /// Bytes of the folded executor's working memory at max_frames.
    pub scratch_bytes: usize,
    /// Peak resident set size of this process so far (VmHWM), if readable.
    pub peak_rss_bytes: Option<u64>,
}

/// Benchmarks `trained` and its folded `weights` on one seeded utterance of `frames` frames,
/// on the calling thread's rayon pool (use a 1-thread pool for single-thread figures).
pub fn bench(
    trained: &mut TrainModel,
    weights: &[f32],
    checked: &CheckedModel,
    frames: usize,
    runs: usize,
) -> Result<BenchResult, String> {
    let plan = trained.plan();
    let frames = frames.clamp(16.min(plan.max_frames), plan.max_frames);
    let runs = runs.max(1);
    let input = random_inputs(trained, 1, frames).remove(0);
    let mut scratch = vec![0.0f32; scratch_len(plan)];
    let mut logits = vec![0.0f32; plan.num_classes()];
    let mut folded_times = Vec::with_capacity(runs);
    for i in 0..runs + 3 {
        let t = Instant::now();
        predict_folded(plan, weights, black_box(&input), &mut scratch, &mut logits)
            .map_err(|e| e.to_string())?;
        black_box(&logits);
        if i >= 3 {
            folded_times.push(t.elapsed().as_secs_f64());
        }
    }
    let mut trained_times = Vec::with_capacity(runs);
    for i in 0..runs + 3 {
        let t = Instant::now();
        let out = trained
            .predict(black_box(&input))
            .map_err(|e| e.to_string())?;
        black_box(out);
        if i >= 3 {
            trained_times.push(t.elapsed().as_secs_f64());
        }
    }
    let (fm, fp) = median_p90(&mut folded_times);
    let (tm, tp) = median_p90(&mut trained_times);
    let folded_flops = checked.folded.forward_flops(frames) as f64;
    let train_flops = checked.train.forward_flops(frames) as f64;
    let counts = checked.param_counts();
    Ok(BenchResult {
        spec: plan.name.to_owned(),
        frames,
        runs,
        folded_median_ms: 1e3 * fm,
        folded_p90_ms: 1e3 * fp,
        trained_median_ms: 1e3 * tm,
        trained_p90_ms: 1e3 * tp,
        folded_gflops: folded_flops / fm / 1e9,
        trained_gflops: train_flops / tm / 1e9,
        folded_mflop: folded_flops / 1e6,
        trained_mflop: train_flops / 1e6,
        train_params: counts.train,
        deployed_params: counts.deployed,
        weight_bytes: 4 * weights.len(),
        scratch_bytes: 4 * scratch_len(plan),
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// Median and 90th percentile (nearest rank) of `times`.
fn median_p90(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        0.5 * (times[n / 2 - 1] + times[n / 2])
    };
    let p90 = times[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
    (median, p90)
}

/// VmHWM of /proc/self/status in bytes (Linux); `None` elsewhere.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `f` on a fresh single-thread rayon pool.
pub fn single_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| format!("cannot start a thread pool: {e}"))?;
    Ok(pool.install(f))
}

pub fn markdown(r: &BenchResult) -> String {
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    format!(
        "| | folded (deployed) | training form |\n|---|---|---|\n\
         | latency median / p90 | {:.3} / {:.3} ms | {:.3} / {:.3} ms |\n\
         | forward MFLOP ({} frames) | {:.1} | {:.1} |\n\
         | GFLOP/s | {:.2} | {:.2} |\n\
         | parameters | {} deployed | {} trainable |\n\
         | weight bytes | {} ({:.2} MiB) | |\n\
         | scratch bytes | {} ({:.2} MiB) | |\n\n\
         Batch 1, one thread, {} timed runs after 3 warm-up runs. Peak RSS of the process: {}.\n",
        r.folded_median_ms,
        r.folded_p90_ms,
        r.trained_median_ms,
        r.trained_p90_ms,
        r.frames,
        r.folded_mflop,
        r.trained_mflop,
        r.folded_gflops,
        r.trained_gflops,
        r.deployed_params,
        r.train_params,
        r.weight_bytes,
        mib(r.weight_bytes),
        r.scratch_bytes,
        mib(r.scratch_bytes),
        r.runs,
        r.peak_rss_bytes.map_or("unknown".to_owned(), |b| format!(
            "{:.1} MiB",
            b as f64 / (1024.0 * 1024.0)
        ))
    )
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    let given = match &args.spec {
        Some(s) => Some(SpecSource::resolve(s).map_err(|e| CliError(e.to_string()))?),
        None => None,
    };
    let given_plan = match &given {
        Some(s) => Some(s.plan().map_err(CliError)?),
        None => None,
    };
    // With --model, its checkpoint carries the spec (and a different --spec is refused).
    let loaded = match &args.model {
        Some(m) => Some(LoadedModel::load(m, given_plan).map_err(|e| CliError(e.to_string()))?),
        None => None,
    };
    let spec = match (&loaded, given) {
        (Some(l), _) => l.checkpoint.spec.clone(),
        (None, Some(s)) => s,
        (None, None) => {
            return Err(CliError(
                "pass --spec <preset or YAML> and/or --model <run>".to_owned(),
            ));
        }
    };
    let checked = spec.checked().map_err(CliError)?;
    let plan = match &loaded {
        Some(l) => l.checkpoint.plan,
        None => hrf_runtime::spec::plan_from_checked(&checked),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("hrf-out/bench/{}", plan.module)));
    ensure_writable_dir(&out).map_err(|e| CliError(e.to_string()))?;
    let mut trained = match &loaded {
        Some(l) => l.train_model().map_err(CliError)?,
        None => {
            let mut m = TrainModel::try_new(plan, 0).map_err(|e| CliError(e.to_string()))?;
            let (zeros, ones) = (vec![0.0; plan.features], vec![1.0; plan.features]);
            // A spec without a feature norm has nothing to set; that is fine for a benchmark.
            let _ = m.set_feature_stats(&zeros, &ones);
            m
        }
    };
    let weights = hrf_runtime::fold::fold_model(plan, trained.params(), trained.buffers())
        .map_err(|e| CliError(format!("cannot fold {}: {e}", plan.name)))?;
    println!(
        "benchmarking {} ({}): {} frames, {} runs, batch 1, 1 thread…",
        plan.name,
        if loaded.is_some() {
            "trained weights"
        } else {
            "initial weights"
        },
        args.frames.min(plan.max_frames),
        args.runs
    );
    let result = single_thread(|| bench(&mut trained, &weights, &checked, args.frames, args.runs))
        .map_err(CliError)?
        .map_err(CliError)?;
    let md = markdown(&result);
    print!("{md}");
    let report = serde_json::json!({
        "command": "bench",
        "created": utc_now(),
        "spec": { "name": plan.name, "hash": plan.spec_hash, "path": spec.label },
        "model": args.model.as_ref().map(|m| m.display().to_string()),
        "bench": result,
    });
    crate::report::write_md_json(
        &out,
        "report",
        &format!("# hrf bench — {}\n\n{md}", plan.name),
        &report,
    )
    .map_err(|e| CliError(e.to_string()))?;
    println!("wrote {}", out.join("report.json").display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_by_nearest_rank() {
        let mut t: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(median_p90(&mut t), (5.5, 9.0));
        let mut t = vec![3.0, 1.0, 2.0];
        assert_eq!(median_p90(&mut t), (2.0, 3.0));
        assert!(peak_rss_bytes().is_some_and(|b| b > 0));
    }
}
