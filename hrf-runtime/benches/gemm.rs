//! The engine's blocked GEMM (`kernels::gemm::sgemm_raw`) beside `matrixmultiply::sgemm` on the
//! training step's products (rows = 16 utterances × 150 frames), single thread, in GFLOP/s.
//! Each shape times both alternately and reports the best of the runs (least disturbed).
//!
//! Run: `cargo bench -p hrf-runtime --features std --bench gemm` (optionally `-- RUNS`).

use std::hint::black_box;
use std::time::Instant;

use hrf_runtime::kernels::gemm::sgemm_raw;

const ROWS: usize = 2400;

/// `(label, m, k, n, A transposed, B transposed)`: row-major operands, `C` contiguous.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 12] = [
    ("fwd  x·Wᵀ   64→256", ROWS, 64, 256, false, true),
    ("fwd  x·Wᵀ  256→256", ROWS, 256, 256, false, true),
    ("fwd  x·Wᵀ  256→64", ROWS, 256, 64, false, true),
    ("fwd  x·Wᵀ  192→768", ROWS, 192, 768, false, true),
    ("dx   dy·W  256→64", ROWS, 256, 64, false, false),
    ("dx   dy·W   64→256", ROWS, 64, 256, false, false),
    ("dW   dyᵀ·x 256×256", 256, ROWS, 256, true, false),
    ("dW   dyᵀ·x 64×256", 64, ROWS, 256, true, false),
    ("att  Q·Kᵀ  150×16×150", 150, 16, 150, false, true),
    ("att  P·V   150×150×16", 150, 150, 16, false, false),
    ("att  Pᵀ·dO 150×150×16", 150, 150, 16, true, false),
    ("conv im2col 600×192→64", 600, 192, 64, false, true),
];

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

type Sgemm = unsafe fn(
    usize,
    usize,
    usize,
    f32,
    *const f32,
    isize,
    isize,
    *const f32,
    isize,
    isize,
    f32,
    *mut f32,
    isize,
    isize,
);

fn time(
    f: Sgemm,
    shape: (usize, usize, usize, bool, bool),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> f64 {
    let (m, k, n, ta, tb) = shape;
    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    let t = Instant::now();
    // SAFETY: contiguous row-major buffers of exactly these shapes.
    unsafe {
        f(
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
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    };
    black_box(&c);
    t.elapsed().as_secs_f64()
}

fn main() {
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(30)
        .max(1);
    println!("single-thread GFLOP/s, best of {runs} alternating runs");
    println!(
        "| {:<24} | {:>8} | {:>14} | {:>6} |",
        "product", "hrf", "matrixmultiply", "ratio"
    );
    println!("|{:-<26}|{:->10}|{:->16}|{:->8}|", "", "", "", "");
    for (label, m, k, n, ta, tb) in SHAPES {
        let (a, b) = (filled(m * k, 1), filled(k * n, 2));
        let mut c = vec![0.0f32; m * n];
        let (mut ours, mut theirs) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..runs {
            ours = ours.min(time(sgemm_raw, (m, k, n, ta, tb), &a, &b, &mut c));
            theirs = theirs.min(time(
                matrixmultiply::sgemm,
                (m, k, n, ta, tb),
                &a,
                &b,
                &mut c,
            ));
        }
        let gf = |s: f64| 2.0 * (m * k * n) as f64 / s / 1e9;
        println!(
            "| {:<24} | {:>8.1} | {:>14.1} | {:>5.0}% |",
            label,
            gf(ours),
            gf(theirs),
            100.0 * theirs / ours
        );
    }
}
