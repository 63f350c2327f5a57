//! Tests of the batch norm kernels: valid-frame statistics, running averages, padding
//! invariance and finite-difference gradients in both modes.

extern crate std;
use super::*;
use crate::testing::{Rng, check_gradient, dot};
use std::vec;
use std::vec::Vec;

/// Relative tolerance of the f64 finite-difference checks.
const BATCH_NORM_GRAD_TOL: f64 = 1e-6;

/// Three utterances of 4 buffer frames with 3, 1 and 4 valid frames; 3 channels.
const LENGTHS: [usize; 3] = [3, 1, 4];
const DIMS: BatchNormDims = BatchNormDims {
    frames: 4,
    channels: 3,
    eps: BATCH_NORM_EPS,
    momentum: BATCH_NORM_MOMENTUM,
};
const ROWS: usize = 12;

/// Everything a training forward produces.
struct TrainOut {
    out: Vec<f64>,
    mean: Vec<f64>,
    rstd: Vec<f64>,
    running_mean: Vec<f64>,
    running_var: Vec<f64>,
}

fn train(x: &[f64], g: &[f64], b: &[f64]) -> TrainOut {
    let c = DIMS.channels;
    let mut r = TrainOut {
        out: vec![f64::NAN; ROWS * c],
        mean: vec![0.0; c],
        rstd: vec![0.0; c],
        running_mean: vec![0.5; c],
        running_var: vec![2.0; c],
    };
    batch_norm_forward_train(
        &mut r.out,
        &mut r.mean,
        &mut r.rstd,
        &mut r.running_mean,
        &mut r.running_var,
        x,
        g,
        b,
        &LENGTHS,
        DIMS,
    );
    r
}

fn is_valid(row: usize) -> bool {
    row % DIMS.frames < LENGTHS[row / DIMS.frames]
}

/// Random input whose padded rows hold `padding`.
fn input(rng: &mut Rng, padding: f64) -> Vec<f64> {
    let mut x = rng.vec(ROWS * DIMS.channels, 2.0);
    for (r, row) in x.chunks_exact_mut(DIMS.channels).enumerate() {
        if !is_valid(r) {
            row.fill(padding);
        }
    }
    x
}

#[test]
fn batch_norm_train_statistics_use_valid_frames_only() {
    let mut rng = Rng::new(101);
    let c = DIMS.channels;
    let x = input(&mut rng, 1e3);
    let (g, b) = (rng.vec(c, 1.0), rng.vec(c, 1.0));
    let r = train(&x, &g, &b);
    // Reference: the 8 valid rows gathered into one plain matrix.
    let valid: Vec<&[f64]> = x
        .chunks_exact(c)
        .enumerate()
        .filter(|(i, _)| is_valid(*i))
        .map(|(_, r)| r)
        .collect();
    let n = valid.len() as f64;
    assert_eq!(n, 8.0);
    for ch in 0..c {
        let mu = valid.iter().map(|r| r[ch]).sum::<f64>() / n;
        let var = valid.iter().map(|r| (r[ch] - mu).powi(2)).sum::<f64>() / n;
        assert!((r.mean[ch] - mu).abs() < 1e-12);
        assert!((r.rstd[ch] - 1.0 / (var + BATCH_NORM_EPS).sqrt()).abs() < 1e-9);
        // Running averages from (0.5, 2.0), with the unbiased variance var·n/(n − 1).
        assert!((r.running_mean[ch] - (0.9 * 0.5 + 0.1 * mu)).abs() < 1e-12);
        assert!((r.running_var[ch] - (0.9 * 2.0 + 0.1 * var * n / (n - 1.0))).abs() < 1e-12);
    }
    for (i, row) in r.out.chunks_exact(c).enumerate() {
        if is_valid(i) {
            for ch in 0..c {
                let want = g[ch] * (x[i * c + ch] - r.mean[ch]) * r.rstd[ch] + b[ch];
                assert!((row[ch] - want).abs() < 1e-12);
            }
        } else {
            assert!(row.iter().all(|&v| v == 0.0), "padded row {i} must be zero");
        }
    }
}

#[test]
fn batch_norm_running_stats_hand_computed() {
    // One channel, valid values [1, 2, 3, 6] (one padded frame of 1e3): μ = 3,
    // biased σ² = (4 + 1 + 0 + 9)/4 = 3.5, unbiased = 14/3.
    // From running (0, 1) with momentum 0.1: mean 0.3, var 0.9 + 0.1·14/3 = 1.3666….
    let dims = BatchNormDims::new(5, 1);
    let x = [1.0, 2.0, 3.0, 6.0, 1e3];
    let (mut out, mut mean, mut rstd, mut rm, mut rv) = ([0.0f64; 5], [0.0], [0.0], [0.0], [1.0]);
    batch_norm_forward_train(
        &mut out,
        &mut mean,
        &mut rstd,
        &mut rm,
        &mut rv,
        &x,
        &[1.0],
        &[0.0],
        &[4],
        dims,
    );
    assert_eq!(mean, [3.0]);
    assert!((rstd[0] - 1.0 / (3.5f64 + 1e-5).sqrt()).abs() < 1e-14);
    assert!((rm[0] - 0.3).abs() < 1e-15);
    assert!((rv[0] - (0.9 + 1.4 / 3.0)).abs() < 1e-15, "{}", rv[0]);
    // A single valid frame: the running variance stays (the unbiased variance is undefined).
    let mut rv1 = [1.0];
    batch_norm_forward_train(
        &mut out,
        &mut mean,
        &mut rstd,
        &mut rm,
        &mut rv1,
        &x,
        &[1.0],
        &[0.0],
        &[1],
        dims,
    );
    assert_eq!(rv1, [1.0]);
}

#[test]
fn batch_norm_train_is_invariant_to_padding_contents() {
    let c = DIMS.channels;
    let (mut rng_a, mut rng_b) = (Rng::new(102), Rng::new(102));
    let (clean, garbage) = (input(&mut rng_a, 0.0), input(&mut rng_b, 1e3));
    let mut rng = Rng::new(103);
    let (g, b, up) = (rng.vec(c, 1.0), rng.vec(c, 1.0), rng.vec(ROWS * c, 1.0));
    let (ra, rb) = (train(&clean, &g, &b), train(&garbage, &g, &b));
    assert_eq!(ra.out, rb.out);
    assert_eq!((ra.mean, ra.rstd), (rb.mean.clone(), rb.rstd.clone()));
    assert_eq!(
        (ra.running_mean, ra.running_var),
        (rb.running_mean, rb.running_var)
    );
    let grads = |x: &[f64]| {
        let (mut dx, mut dg, mut db, mut scratch) = (
            vec![0.0; ROWS * c],
            vec![0.0; c],
            vec![0.0; c],
            vec![0.0; 2 * c],
        );
        batch_norm_backward_train(
            &mut dx,
            &mut dg,
            &mut db,
            &mut scratch,
            &up,
            x,
            &g,
            &rb.mean,
            &rb.rstd,
            &LENGTHS,
            DIMS,
        );
        (dx, dg, db)
    };
    let (ga, gb) = (grads(&clean), grads(&garbage));
    assert_eq!(ga, gb);
    for (i, row) in ga.0.chunks_exact(c).enumerate() {
        assert!(
            is_valid(i) || row.iter().all(|&v| v == 0.0),
            "padded row {i} got gradient"
        );
    }
}

#[test]
fn batch_norm_train_backward_matches_finite_differences() {
    let mut rng = Rng::new(104);
    let c = DIMS.channels;
    let mut x = input(&mut rng, 0.3);
    let (mut g, mut b, up) = (rng.vec(c, 1.0), rng.vec(c, 1.0), rng.vec(ROWS * c, 1.0));
    let saved = train(&x, &g, &b);
    let (seed_dx, seed_dg, seed_db) = (rng.vec(ROWS * c, 1.0), rng.vec(c, 1.0), rng.vec(c, 1.0));
    let (mut dx, mut dg, mut db) = (seed_dx.clone(), seed_dg.clone(), seed_db.clone());
    let mut scratch = vec![f64::NAN; DIMS.scratch_len()];
    batch_norm_backward_train(
        &mut dx,
        &mut dg,
        &mut db,
        &mut scratch,
        &up,
        &x,
        &g,
        &saved.mean,
        &saved.rstd,
        &LENGTHS,
        DIMS,
    );
    let sub = |a: &[f64], s: &[f64]| a.iter().zip(s).map(|(a, s)| a - s).collect::<Vec<_>>();
    let (dx, dg, db) = (sub(&dx, &seed_dx), sub(&dg, &seed_dg), sub(&db, &seed_db));
    let (x0, g0, b0) = (x.clone(), g.clone(), b.clone());
    check_gradient("bn train dinp", &mut x, &dx, BATCH_NORM_GRAD_TOL, |x| {
        dot(&up, &train(x, &g0, &b0).out)
    });
    check_gradient("bn train dgamma", &mut g, &dg, BATCH_NORM_GRAD_TOL, |g| {
        dot(&up, &train(&x0, g, &b0).out)
    });
    check_gradient("bn train dbeta", &mut b, &db, BATCH_NORM_GRAD_TOL, |b| {
        dot(&up, &train(&x0, &g0, b).out)
    });
}

#[test]
fn batch_norm_eval_forward_and_backward() {
    let mut rng = Rng::new(105);
    let c = DIMS.channels;
    let mut x = input(&mut rng, 1e3);
    let (mut g, mut b, up) = (rng.vec(c, 1.0), rng.vec(c, 1.0), rng.vec(ROWS * c, 1.0));
    let rm = rng.vec(c, 1.0);
    let rv: Vec<f64> = rng.vec(c, 1.0).iter().map(|v| v.abs() + 0.5).collect();
    let eval = |x: &[f64], g: &[f64], b: &[f64]| {
        let mut out = vec![f64::NAN; ROWS * c];
        batch_norm_forward_eval(&mut out, x, g, b, &rm, &rv, &LENGTHS, DIMS);
        out
    };
    let out = eval(&x, &g, &b);
    for (i, row) in out.chunks_exact(c).enumerate() {
        for ch in 0..c {
            let want = if is_valid(i) {
                g[ch] * (x[i * c + ch] - rm[ch]) / (rv[ch] + BATCH_NORM_EPS).sqrt() + b[ch]
            } else {
                0.0
            };
            assert!((row[ch] - want).abs() < 1e-12);
        }
    }
    let (mut dx, mut dg, mut db) = (vec![0.0; ROWS * c], vec![0.0; c], vec![0.0; c]);
    batch_norm_backward_eval(
        &mut dx, &mut dg, &mut db, &up, &x, &g, &rm, &rv, &LENGTHS, DIMS,
    );
    let (x0, g0, b0) = (x.clone(), g.clone(), b.clone());
    check_gradient("bn eval dinp", &mut x, &dx, BATCH_NORM_GRAD_TOL, |x| {
        dot(&up, &eval(x, &g0, &b0))
    });
    check_gradient("bn eval dgamma", &mut g, &dg, BATCH_NORM_GRAD_TOL, |g| {
        dot(&up, &eval(&x0, g, &b0))
    });
    check_gradient("bn eval dbeta", &mut b, &db, BATCH_NORM_GRAD_TOL, |b| {
        dot(&up, &eval(&x0, &g0, b))
    });
}
