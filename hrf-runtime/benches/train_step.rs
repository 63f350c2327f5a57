//! One training step (forward, cross-entropy, backward, clip + AdamW) of the real light HRF
//! presets at batch 16 × 600 frames on 2 rayon threads, in utterances per second, with a
//! per-kernel breakdown of where the step's time goes.
//!
//! Run: `cargo bench -p hrf-runtime --features spec --bench train_step` (optionally `-- STEPS`).
//! Issue 4's reference: PyTorch 2.15 (MKL, 2 threads) takes 122 ms / 63 ms per step
//! (131 / 255 utt/s) for conformer_light_hrf / conv_transformer_light_hrf.

use std::time::Instant;

use hrf_runtime::batch::{Batch, UtteranceRef};
use hrf_runtime::train::{Mode, Optimizer, OptimizerConfig, TrainModel};

const BATCH: usize = 16;
const FRAMES: usize = 600;
const THREADS: usize = 2;
const DEFAULT_STEPS: usize = 10;

/// PyTorch's utterances per second on this machine (issue 4).
const PYTORCH_UTT_PER_S: [(&str, f64); 2] = [
    ("conformer_light_hrf", 131.0),
    ("conv_transformer_light_hrf", 255.0),
];

fn synthetic_batch(features: usize, classes: usize) -> Batch {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let utts: Vec<Vec<f32>> = (0..BATCH)
        .map(|_| {
            (0..FRAMES * features)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect()
        })
        .collect();
    let refs: Vec<UtteranceRef<'_>> = utts
        .iter()
        .enumerate()
        .map(|(i, frames)| UtteranceRef {
            frames,
            label: i % classes,
        })
        .collect();
    Batch::from_utterances(&refs, features, FRAMES).expect("bench batch")
}

/// Single-thread `sgemm` rate at an FFN-sized product (rows 2400 = 16 utterances × 150
/// frames), measured now, so the step numbers can be read against the machine's current state.
fn sgemm_gflops() -> f64 {
    let (m, k, n) = (2400, 256, 256);
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0.0f32; m * n];
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let t = Instant::now();
        // SAFETY: row-major contiguous buffers of exactly the given shapes.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}

fn main() {
    let steps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(DEFAULT_STEPS);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("rayon pool");
    println!(
        "machine now: raw sgemm 2400×256·256 on one thread {:.1} GFLOP/s (other load on the \
         machine lowers every number below alike)",
        sgemm_gflops()
    );
    println!(
        "train step: batch {BATCH} × {FRAMES} frames, {THREADS} threads, median of {steps} steps"
    );
    for (name, torch) in PYTORCH_UTT_PER_S {
        let yaml = hrf_compiler::presets::preset(name).expect("preset exists");
        let plan = hrf_runtime::spec::plan_from_yaml(name, yaml).expect("preset compiles");
        let batch = synthetic_batch(plan.features, plan.num_classes());
        pool.install(|| {
            let mut model = TrainModel::<f32>::new(plan, 0);
            let mut opt = Optimizer::new(&model, OptimizerConfig::new(1_000)).expect("optimizer");
            // One step; returns the optimizer's share of its time.
            let mut step = |seed: u64, model: &mut TrainModel<f32>| {
                model
                    .forward(&batch, Mode::Train { dropout_seed: seed })
                    .expect("forward");
                model.backward().expect("backward");
                let t = Instant::now();
                opt.step(model).expect("step");
                t.elapsed().as_secs_f64()
            };
            step(0, &mut model); // warm-up: buffers (and the AdamW moments) reach their size
            model.set_profiling(true);
            let mut optimizer_seconds = 0.0;
            let mut times: Vec<f64> = (0..steps)
                .map(|i| {
                    let t = Instant::now();
                    optimizer_seconds += step(i as u64 + 1, &mut model);
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let (median, best) = (times[steps / 2], times[0]);
            let ups = BATCH as f64 / median;
            println!(
                "{name:28} {:8.1} ms/step  {ups:7.1} utt/s  (PyTorch {torch:.0} utt/s: {:.2}×); \
                 fastest step {:.1} ms ({:.2}×)",
                median * 1e3,
                ups / torch,
                best * 1e3,
                BATCH as f64 / best / torch
            );
            println!(
                "    {:42} {:7.2} ms",
                "clip + AdamW",
                (optimizer_seconds * 1e3) / steps as f64
            );
            if let Some(profile) = model.profile() {
                let per_step = |s: f64| s * 1e3 / steps as f64;
                for (group, fwd, bwd) in profile.rows() {
                    println!(
                        "    {group:42} fwd {:7.2} ms  bwd {:7.2} ms",
                        per_step(fwd),
                        per_step(bwd)
                    );
                }
            }
        });
    }
}
