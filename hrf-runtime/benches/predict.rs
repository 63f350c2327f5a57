//! Batch-1 latency of the folded executor (`predict_folded`) at 300 input frames (3 s), single
//! thread, for the light presets (and their `_hrf` twins: the same folded model), plus the
//! share of a forward spent in each kind of step.
//!
//! Run: `cargo bench -p hrf-runtime --features spec --bench predict` (optionally `-- RUNS`,
//! default 200, and preset names to run only those, e.g. `-- 500 conformer_light`). Weights: `fold_model` of a seeded random training init. Reports median and p90
//! over RUNS calls after a warm-up; targets (issue 4): conformer_light ≤ 1.0 ms,
//! conv_transformer_light ≤ 0.55 ms.

use std::hint::black_box;
use std::time::Instant;

use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::spec::plan_from_yaml;

const FRAMES: usize = 300;
const WARMUP: usize = 20;
const DEFAULT_RUNS: usize = 200;
const PRESETS: [&str; 6] = [
    "conformer_light",
    "conformer_light_hrf",
    "conv_transformer_light",
    "conv_transformer_light_hrf",
    "speechformer_light",
    "speechformer_light_hrf",
];

/// Deterministic values in [-0.5, 0.5).
fn filled(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// A plausible random training state: small weights, LN γ = 1, CMVN / BatchNorm statistics of
/// ordinary size.
fn random_train_arenas(plan: &ModelPlan) -> (Vec<f32>, Vec<f32>) {
    let mut params = filled(plan.train.params_len(), 7);
    for slot in plan.train.params {
        let fan_in: usize = slot.shape[1..].iter().product::<usize>().max(1);
        let r = slot.range();
        if slot.name.ends_with(".gamma") {
            params[r].fill(1.0);
        } else {
            let s = 2.0 / (fan_in as f32).sqrt();
            params[r].iter_mut().for_each(|v| *v *= s);
        }
    }
    let mut buffers = filled(plan.train.buffers_len(), 9);
    for slot in plan.train.buffers {
        if slot.name.ends_with("std") || slot.name.ends_with("running_var") {
            buffers[slot.range()].iter_mut().for_each(|v| *v += 1.0);
        }
    }
    (params, buffers)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(DEFAULT_RUNS)
        .max(50);
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.parse::<usize>().is_err() && !a.starts_with('-'))
        .collect();
    println!("predict_folded, batch 1, {FRAMES} frames, 1 thread, {runs} runs (ms)");
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>10}",
        "preset", "median", "p90", "min", "GFLOP/s"
    );
    for name in PRESETS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let Some(text) = hrf_compiler::presets::preset(name) else {
            eprintln!("unknown preset {name}");
            continue;
        };
        let plan = match plan_from_yaml(name, text) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        let (params, buffers) = random_train_arenas(plan);
        let weights = match fold_model(plan, &params, &buffers) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let frames: Vec<f32> = filled(FRAMES * plan.features, 3)
            .iter()
            .map(|v| 8.0 * v - 4.0)
            .collect();
        let mut scratch = vec![0.0f32; scratch_len(plan)];
        let mut logits = vec![0.0f32; plan.classes.len()];
        let mut call = || {
            predict_folded(
                plan,
                black_box(&weights),
                black_box(&frames),
                &mut scratch,
                &mut logits,
            )
            .expect("valid input");
            black_box(&logits);
        };
        for _ in 0..WARMUP {
            call();
        }
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                call();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = percentile(&times, 0.5);
        let mflop = folded_mflop(plan, FRAMES);
        println!(
            "{name:<28} {median:>8.3} {:>8.3} {:>8.3} {:>10.1}",
            percentile(&times, 0.9),
            times[0],
            mflop / median,
        );
    }
}

/// Forward MFLOP of the folded model (2 per multiply-add: linears, convs, attention products),
/// counted from the plan at `n` input frames.
fn folded_mflop(plan: &ModelPlan, n: usize) -> f64 {
    use hrf_runtime::plan::{PlanOp, SublayerKindPlan};
    let mut t = n;
    let mut macs = 0usize;
    for op in plan.ops {
        match op {
            PlanOp::ConvSubsample(c) => {
                t = c.out_len(t);
                macs += t * c.out_channels * c.in_channels * c.kernel;
            }
            PlanOp::Block(b) => {
                let d = b.width;
                for s in b.sublayers {
                    macs += match &s.kind {
                        SublayerKindPlan::Ffn(f) => 2 * t * d * f.hidden,
                        SublayerKindPlan::Attention(a) => {
                            let keys = a.window.map_or(t, |w| (2 * (w / 2) + 1).min(t));
                            4 * t * d * d + 2 * t * keys * d
                        }
                        SublayerKindPlan::ConvModule { width, kernel } => {
                            t * d * 2 * width + t * width * kernel + t * width * d
                        }
                    };
                }
            }
            PlanOp::Merge(m) => {
                t = t.div_ceil(m.factor);
                macs += t * m.in_width * m.out_width;
            }
            PlanOp::Classifier { width, classes, .. } => macs += width * classes,
            _ => {}
        }
    }
    2.0 * macs as f64 / 1e6
}
