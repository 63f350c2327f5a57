//! Cost of the per-step training machinery outside the kernels: AdamW, gradient clipping and the
//! deterministic chunked gradient reduction, at the parameter counts of the light (~0.3 M) and
//! large (~2.7 M) presets.
//!
//! Run: `cargo bench -p hrf-runtime --features std --bench optim` (optionally `-- RUNS`).
//! Reports medians over RUNS repetitions.

use std::hint::black_box;
use std::time::Instant;

use hrf_runtime::batch::ChunkedGradients;
use hrf_runtime::optim::{AdamW, AdamWConfig, ParamSegment, clip_grad_norm};

const DEFAULT_RUNS: usize = 21;

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

/// Median wall time of `runs` calls of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    println!(
        "{:<40} {:>10} {:>10} {:>12}",
        "step", "params", "ms", "ns/param"
    );
    for (name, n) in [("light", 300_000usize), ("large", 2_700_000)] {
        let mut params = filled(n, 1);
        let mut grads = filled(n, 2);
        // Alternate decay / no-decay segments of 4096, as a layout of weights and biases would.
        let segments: Vec<ParamSegment> = (0..n.div_ceil(4096))
            .map(|i| ParamSegment {
                offset: i * 4096,
                len: 4096.min(n - i * 4096),
                decay: i % 2 == 0,
            })
            .collect();
        let mut opt = AdamW::new(AdamWConfig::default(), n, &segments).unwrap();
        let report = |what: &str, ms: f64| {
            println!(
                "{:<40} {:>10} {:>10.3} {:>12.2}",
                format!("{what} ({name})"),
                n,
                ms,
                ms * 1e6 / n as f64
            )
        };
        report(
            "adamw step",
            median_ms(runs, || opt.step(&mut params, &grads, 1e-3).unwrap()),
        );
        report(
            "clip_grad_norm",
            median_ms(runs, || {
                black_box(clip_grad_norm(&mut grads, 1e9).unwrap());
            }),
        );
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let chunks = 4;
            let mut driver = ChunkedGradients::new(n, chunks).unwrap();
            let mut scratch = vec![(); chunks];
            // A trivial per-utterance "backward" touching a few gradients: this times the
            // driver's own work (zeroing the chunk buffers and the ordered reduction).
            let ms = median_ms(runs, || {
                pool.install(|| {
                    driver
                        .run(&mut scratch, 16, &mut grads, |_, u, g| {
                            g[u] += 1.0;
                            1.0
                        })
                        .unwrap()
                });
            });
            report(&format!("chunked reduce, 4 chunks, {threads}T"), ms);
        }
    }
}
