//! Kernel throughput at SER sizes: GFLOP/s of the linear, attention and conv kernels, printed
//! beside a raw `matrixmultiply::sgemm` doing the same matrix products (the ceiling).
//!
//! Run: `cargo bench -p hrf-runtime --features std --bench kernels` (optionally `-- RUNS`).
//! Sizes: a batch of 16 utterances of 150 frames (2400 rows for the per-frame linears); light
//! d 64 / f 256 and large d 192 / f 768, 4 heads. Each row times the kernel and its sgemm
//! counterpart alternately (so machine noise hits both alike) and reports medians.

use std::hint::black_box;
use std::time::Instant;

use hrf_runtime::kernels::attention::{AttentionDims, attention_backward, attention_forward};
use hrf_runtime::kernels::conv1d::{
    Conv1dDims, conv1d_backward, conv1d_forward, depthwise_conv1d_backward,
    depthwise_conv1d_forward,
};
use hrf_runtime::kernels::linear::{LinearDims, linear_backward, linear_forward};

const FRAMES: usize = 150;
const UTTERANCES: usize = 16;
const ROWS: usize = FRAMES * UTTERANCES;
const HEADS: usize = 4;
const WARMUP: usize = 3;
const DEFAULT_RUNS: usize = 21;

/// Deterministic fill in [-0.5, 0.5) (the values do not matter for speed, only that they are
/// ordinary finite numbers).
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

/// Row-major `C ← alpha·op(A)·op(B) + beta·C` straight through `matrixmultiply::sgemm`.
#[allow(clippy::too_many_arguments)]
fn sgemm(
    c: &mut [f32],
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    m: usize,
    k: usize,
    n: usize,
    beta: f32,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the assert bounds every index for these contiguous row-major shapes, and `c` is a
    // distinct `&mut` buffer.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// Medians of one kernel-vs-raw comparison.
#[derive(Clone, Copy)]
struct Timing {
    /// Median seconds per kernel call.
    kernel: f64,
    /// Median seconds per raw call.
    raw: f64,
    /// Median over runs of `raw / kernel` times, each pair timed back to back, so load that
    /// comes and goes (other processes on the machine) cancels out of the ratio.
    ratio: f64,
    /// Fastest raw call / fastest kernel call: the ratio least disturbed by other processes.
    best_ratio: f64,
}

/// Times `kernel` and `raw` alternately after a warmup.
fn time_pair(runs: usize, mut kernel: impl FnMut(), mut raw: impl FnMut()) -> Timing {
    for _ in 0..WARMUP {
        kernel();
        raw();
    }
    let (mut tk, mut tr, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        kernel();
        tk.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        raw();
        tr.push(t0.elapsed().as_secs_f64());
        ratio.push(tr[tr.len() - 1] / tk[tk.len() - 1]);
    }
    let fastest = |xs: &[f64]| xs.iter().copied().fold(f64::INFINITY, f64::min);
    Timing {
        best_ratio: fastest(&tr) / fastest(&tk),
        kernel: median(&mut tk),
        raw: median(&mut tr),
        ratio: median(&mut ratio),
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// One table row; `has_raw = false` when there is no GEMM counterpart.
fn report(op: &str, shape: &str, flops: f64, tm: Timing, has_raw: bool) {
    let gf = |s: f64| flops / s / 1e9;
    let pct = |r: f64| format!("{:.0}%", 100.0 * r);
    let (raw, of_raw, best) = if has_raw {
        (
            format!("{:.2}", gf(tm.raw)),
            pct(tm.ratio),
            pct(tm.best_ratio),
        )
    } else {
        ("-".to_string(), "-".to_string(), "-".to_string())
    };
    println!(
        "| {op:<22} | {shape:<38} | {:>8.3} | {:>8.2} | {raw:>8} | {of_raw:>7} | {best:>7} |",
        tm.kernel * 1e3,
        gf(tm.kernel),
    );
}

fn bench_linear(runs: usize, in_dim: usize, out_dim: usize, what: &str) {
    let dims = LinearDims {
        rows: ROWS,
        in_dim,
        out_dim,
    };
    let inp = filled(ROWS * in_dim, 1);
    let w = filled(out_dim * in_dim, 2);
    let b = filled(out_dim, 3);
    let dout = filled(ROWS * out_dim, 4);
    let mut out = vec![0.0; ROWS * out_dim];
    let mut dinp = vec![0.0; ROWS * in_dim];
    let mut dw = vec![0.0; out_dim * in_dim];
    let mut db = vec![0.0; out_dim];
    // The raw side writes its own buffers, so the two closures can be timed alternately.
    let (mut out_raw, mut dinp_raw, mut dw_raw) = (out.clone(), dinp.clone(), dw.clone());
    let shape = format!("{what} {ROWS}×{in_dim}→{out_dim}");
    let mac = (ROWS * in_dim * out_dim) as f64;

    let tm = time_pair(
        runs,
        || linear_forward(black_box(&mut out), &inp, &w, Some(&b), dims),
        || {
            sgemm(
                black_box(&mut out_raw),
                &inp,
                false,
                &w,
                true,
                ROWS,
                in_dim,
                out_dim,
                0.0,
            )
        },
    );
    report("linear_forward", &shape, 2.0 * mac, tm, true);

    // The same without a bias: the gap to the row above is the bias pass over `out`.
    let tm = time_pair(
        runs,
        || linear_forward(black_box(&mut out), &inp, &w, None, dims),
        || {
            sgemm(
                black_box(&mut out_raw),
                &inp,
                false,
                &w,
                true,
                ROWS,
                in_dim,
                out_dim,
                0.0,
            )
        },
    );
    report("linear_forward no bias", &shape, 2.0 * mac, tm, true);

    // Backward: dinp = dout·W and dW = doutᵀ·inp (two GEMMs, 4·rows·in·out flops), plus db.
    let tm = time_pair(
        runs,
        || {
            let (dinp, dw, db) = (black_box(&mut dinp), black_box(&mut dw), black_box(&mut db));
            linear_backward(Some(dinp), dw, Some(db), &dout, &inp, &w, dims)
        },
        || {
            sgemm(
                black_box(&mut dinp_raw),
                &dout,
                false,
                &w,
                false,
                ROWS,
                out_dim,
                in_dim,
                1.0,
            );
            sgemm(
                black_box(&mut dw_raw),
                &dout,
                true,
                &inp,
                false,
                out_dim,
                ROWS,
                in_dim,
                1.0,
            );
        },
    );
    report("linear_backward", &shape, 4.0 * mac, tm, true);
}

fn bench_attention(runs: usize, d: usize, window: Option<usize>) {
    let dims = AttentionDims {
        frames: FRAMES,
        d,
        heads: HEADS,
        window,
        q_prescaled: false,
    };
    let (t, dh) = (FRAMES, d / HEADS);
    let qkv = filled(UTTERANCES * t * 3 * d, 5);
    let dout = filled(UTTERANCES * t * d, 6);
    let mut out = vec![0.0; UTTERANCES * t * d];
    let mut probs = vec![0.0; UTTERANCES * dims.probs_len()];
    let mut dqkv = vec![0.0; UTTERANCES * t * 3 * d];
    let mut scratch = vec![0.0; dims.scratch_len()];
    let w = window.map_or("global".to_string(), |w| format!("window {w}*"));
    let shape = format!("{UTTERANCES}×(t {t}, d {d}, h {HEADS}) {w}");
    // Per utterance and head: QKᵀ and P·V forward (2·t²·dₕ each), four such products backward.
    let mac = (UTTERANCES * HEADS * t * t * dh) as f64;

    // The raw counterpart runs the same per-head products on contiguous (t, dₕ) operands.
    let a = filled(t * dh, 7);
    let bm = filled(t * dh, 8);
    let mut s = vec![0.0; t * t];
    let mut o = vec![0.0; t * dh];
    let tm = time_pair(
        runs,
        || {
            for u in 0..UTTERANCES {
                attention_forward(
                    black_box(&mut out[u * t * d..(u + 1) * t * d]),
                    &mut probs[u * dims.probs_len()..(u + 1) * dims.probs_len()],
                    &qkv[u * t * 3 * d..(u + 1) * t * 3 * d],
                    t,
                    dims,
                );
            }
        },
        || {
            for _ in 0..UTTERANCES * HEADS {
                sgemm(black_box(&mut s), &a, false, &bm, true, t, dh, t, 0.0);
                sgemm(black_box(&mut o), &s, false, &bm, false, t, t, dh, 0.0);
            }
        },
    );
    report("attention_forward", &shape, 4.0 * mac, tm, true);

    let tm = time_pair(
        runs,
        || {
            for u in 0..UTTERANCES {
                attention_backward(
                    black_box(&mut dqkv[u * t * 3 * d..(u + 1) * t * 3 * d]),
                    &mut scratch,
                    &dout[u * t * d..(u + 1) * t * d],
                    &probs[u * dims.probs_len()..(u + 1) * dims.probs_len()],
                    &qkv[u * t * 3 * d..(u + 1) * t * 3 * d],
                    t,
                    dims,
                );
            }
        },
        || {
            for _ in 0..UTTERANCES * HEADS {
                sgemm(black_box(&mut o), &s, true, &a, false, t, t, dh, 1.0);
                sgemm(black_box(&mut s), &a, false, &bm, true, t, dh, t, 0.0);
                sgemm(black_box(&mut o), &s, false, &bm, false, t, t, dh, 1.0);
                sgemm(black_box(&mut o), &s, true, &a, false, t, t, dh, 1.0);
            }
        },
    );
    report("attention_backward", &shape, 8.0 * mac, tm, true);
}

/// The frontend's first conv (k 3, s 2) over 16 utterances of `frames` mel frames, and the
/// Conformer depthwise conv (k 15, same padding) at `FRAMES`.
fn bench_conv(runs: usize, mel: usize, d: usize, frames: usize) {
    let dims = Conv1dDims {
        frames,
        channels_in: mel,
        channels_out: d,
        kernel: 3,
        stride: 2,
        padding: 0,
    };
    let t_out = dims.out_frames();
    let inp = filled(frames * mel, 9);
    let w = filled(d * mel * 3, 10);
    let b = filled(d, 11);
    let dout = filled(t_out * d, 12);
    let mut out = vec![0.0; t_out * d];
    let mut cols = vec![0.0; dims.scratch_len()];
    let mut cols_raw = filled(dims.scratch_len(), 13);
    let mut dinp = vec![0.0; frames * mel];
    let mut dw = vec![0.0; w.len()];
    let mut db = vec![0.0; d];
    let (mut out_raw, mut dw_raw) = (out.clone(), dw.clone());
    let shape = format!("{UTTERANCES}×({frames}×{mel}→{t_out}×{d}) k3 s2");
    let mac = (UTTERANCES * t_out * mel * 3 * d) as f64;
    let width = mel * 3;
    let tm = time_pair(
        runs,
        || {
            for _ in 0..UTTERANCES {
                conv1d_forward(
                    black_box(&mut out),
                    &mut cols,
                    &inp,
                    frames,
                    &w,
                    Some(&b),
                    dims,
                );
            }
        },
        || {
            for _ in 0..UTTERANCES {
                sgemm(
                    black_box(&mut out_raw),
                    &cols_raw,
                    false,
                    &w,
                    true,
                    t_out,
                    width,
                    d,
                    0.0,
                );
            }
        },
    );
    report("conv1d_forward", &shape, 2.0 * mac, tm, true);
    let tm = time_pair(
        runs,
        || {
            for _ in 0..UTTERANCES {
                let (dinp, dw, db) = (black_box(&mut dinp), black_box(&mut dw), black_box(&mut db));
                conv1d_backward(
                    Some(dinp),
                    dw,
                    Some(db),
                    &mut cols,
                    &dout,
                    &inp,
                    frames,
                    &w,
                    dims,
                );
            }
        },
        || {
            for _ in 0..UTTERANCES {
                sgemm(
                    black_box(&mut dw_raw),
                    &dout,
                    true,
                    &cols_raw,
                    false,
                    d,
                    t_out,
                    width,
                    1.0,
                );
                sgemm(
                    black_box(&mut cols_raw),
                    &dout,
                    false,
                    &w,
                    false,
                    t_out,
                    d,
                    width,
                    0.0,
                );
            }
        },
    );
    report("conv1d_backward", &shape, 4.0 * mac, tm, true);

    let k = 15;
    let dw_dims = Conv1dDims {
        frames: FRAMES,
        channels_in: d,
        channels_out: d,
        kernel: k,
        stride: 1,
        padding: k / 2,
    };
    let inp = filled(FRAMES * d, 14);
    let w = filled(d * k, 15);
    let dout = filled(FRAMES * d, 16);
    let mut out = vec![0.0; FRAMES * d];
    let mut dinp = vec![0.0; FRAMES * d];
    let mut dw = vec![0.0; d * k];
    let mut db = vec![0.0; d];
    let shape = format!("{UTTERANCES}×({FRAMES}×{d}) k{k} same");
    let mac = (UTTERANCES * FRAMES * d * k) as f64;
    let tm = time_pair(
        runs,
        || {
            for _ in 0..UTTERANCES {
                depthwise_conv1d_forward(black_box(&mut out), &inp, FRAMES, &w, Some(&b), dw_dims);
            }
        },
        || {},
    );
    report("depthwise_forward", &shape, 2.0 * mac, tm, false);
    let tm = time_pair(
        runs,
        || {
            for _ in 0..UTTERANCES {
                let (dinp, dw, db) = (black_box(&mut dinp), black_box(&mut dw), black_box(&mut db));
                depthwise_conv1d_backward(
                    Some(dinp),
                    dw,
                    Some(db),
                    &dout,
                    &inp,
                    FRAMES,
                    &w,
                    dw_dims,
                );
            }
        },
        || {},
    );
    report("depthwise_backward", &shape, 4.0 * mac, tm, false);
}

fn main() {
    // `cargo bench` passes `--bench`; a bare number sets the run count, any other word keeps only
    // the groups (`linear`, `attention`, `conv`) whose name contains it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(DEFAULT_RUNS)
        .max(1);
    let filters: Vec<&String> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .collect();
    let wanted =
        |group: &str| filters.is_empty() || filters.iter().any(|f| group.contains(f.as_str()));
    println!(
        "hrf-runtime kernels, f32, single thread, median of {runs} runs after {WARMUP} warmups"
    );
    println!(
        "raw = matrixmultiply::sgemm on the same shapes (linear: without the bias; attention:"
    );
    println!("the same per-head products on contiguous operands, without softmax/masking)");
    println!("* windowed attention computes only its band: its GFLOP/s count the dense products");
    println!("of raw = median over runs of raw time / kernel time, each pair timed back to back;");
    println!("best = fastest raw / fastest kernel (least disturbed by other processes)\n");
    println!(
        "| {:<22} | {:<38} | {:>8} | {:>8} | {:>8} | {:>7} | {:>7} |",
        "op", "shape", "ms", "GFLOP/s", "raw", "of raw", "best"
    );
    println!(
        "|{:-<24}|{:-<40}|{:->10}|{:->10}|{:->10}|{:->9}|{:->9}|",
        "", "", "", "", "", "", ""
    );
    if wanted("linear") {
        for (d, f) in [(64, 256), (192, 768)] {
            bench_linear(runs, d, f, "ffn1");
            bench_linear(runs, f, d, "ffn2");
            bench_linear(runs, d, 3 * d, "qkv");
        }
    }
    if wanted("attention") {
        for d in [64, 192] {
            bench_attention(runs, d, None);
            bench_attention(runs, d, Some(16));
        }
    }
    if wanted("conv") {
        bench_conv(runs, 64, 64, 600);
        bench_conv(runs, 64, 192, 600);
    }
}
