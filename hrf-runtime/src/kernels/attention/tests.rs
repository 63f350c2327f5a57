//! Attention tests: a naive reference, finite differences, padding invariance, accumulation.

use super::*;
extern crate std;
use crate::testing::{Rng, check_gradient, dot};
use std::vec;
use std::vec::Vec;

/// Relative tolerance of the f64 finite-difference checks.
const FD_TOL: f64 = 1e-6;
/// Agreement between the GEMM kernel and the naive loops (f64, tiny sums).
const REF_TOL: f64 = 1e-12;

fn dims(frames: usize, d: usize, heads: usize, window: Option<usize>) -> AttentionDims {
    AttentionDims {
        frames,
        d,
        heads,
        window,
        q_prescaled: false,
    }
}

/// The masking cases every test runs: (name, dims, len).
fn cases() -> [(&'static str, AttentionDims, usize); 6] {
    [
        ("plain", dims(5, 4, 2, None), 5),
        ("masked", dims(6, 4, 2, None), 4),
        ("window", dims(7, 6, 3, Some(3)), 7),
        ("window+mask", dims(8, 4, 2, Some(4)), 6),
        // Longer than one query block (32): blocks see only their windows' keys.
        ("window, query blocks", dims(70, 4, 2, Some(7)), 66),
        ("wide window, query blocks", dims(75, 4, 1, Some(41)), 75),
    ]
}

/// Straight from the definition, with explicit index arithmetic instead of strided views.
fn naive_forward(qkv: &[f64], len: usize, dims: AttentionDims) -> Vec<f64> {
    let (t, d, dh) = (dims.frames, dims.d, dims.head_dim());
    let mut out = vec![0.0; t * d];
    for h in 0..dims.heads {
        let at = |i: usize, part: usize, c: usize| qkv[i * 3 * d + part * d + h * dh + c];
        for i in 0..len {
            let allowed = |j: usize| {
                j < len
                    && dims
                        .window
                        .is_none_or(|w| (i as isize - j as isize).abs() <= (w / 2) as isize)
            };
            let scores: Vec<f64> = (0..t)
                .map(|j| {
                    let s: f64 = (0..dh).map(|c| at(i, 0, c) * at(j, 1, c)).sum();
                    if allowed(j) {
                        (s / (dh as f64).sqrt()).exp()
                    } else {
                        0.0
                    }
                })
                .collect();
            let z: f64 = scores.iter().sum();
            for c in 0..dh {
                out[i * d + h * dh + c] = (0..t).map(|j| scores[j] / z * at(j, 2, c)).sum();
            }
        }
    }
    out
}

fn forward(qkv: &[f64], len: usize, dims: AttentionDims) -> (Vec<f64>, Vec<f64>) {
    let mut out = vec![f64::NAN; dims.frames * dims.d];
    let mut probs = vec![f64::NAN; dims.probs_len()];
    attention_forward(&mut out, &mut probs, qkv, len, dims);
    (out, probs)
}

fn backward(dout: &[f64], probs: &[f64], qkv: &[f64], len: usize, dims: AttentionDims) -> Vec<f64> {
    let mut dqkv = vec![0.0; qkv.len()];
    let mut scratch = vec![f64::NAN; dims.scratch_len()];
    attention_backward(&mut dqkv, &mut scratch, dout, probs, qkv, len, dims);
    dqkv
}

#[test]
fn key_range_follows_the_documented_window_rule() {
    let w5 = dims(10, 4, 1, Some(5));
    assert_eq!(w5.key_range(0, 10), 0..3);
    assert_eq!(w5.key_range(5, 10), 3..8);
    assert_eq!(w5.key_range(9, 10), 7..10);
    assert_eq!(
        w5.key_range(5, 6),
        3..6,
        "keys at or past len are never attended"
    );
    assert_eq!(
        dims(10, 4, 1, Some(4)).key_range(5, 10),
        3..8,
        "even w behaves like w + 1"
    );
    assert_eq!(
        dims(10, 4, 1, Some(1)).key_range(4, 10),
        4..5,
        "w = 1 attends only itself"
    );
    assert_eq!(dims(10, 4, 1, None).key_range(4, 7), 0..7);
}

#[test]
fn split_qkv_unpacks_one_frame() {
    let row: Vec<u32> = (0..9).collect();
    let (q, k, v) = split_qkv(&row, 3);
    assert_eq!((q, k, v), (&[0, 1, 2][..], &[3, 4, 5][..], &[6, 7, 8][..]));
    let mut row = row;
    let (_, dk, _) = split_qkv_mut(&mut row, 3);
    dk[1] = 40;
    assert_eq!(row[4], 40);
}

#[test]
fn forward_matches_naive_reference() {
    let mut rng = Rng::new(11);
    for (name, dims, len) in cases() {
        let qkv = rng.vec(dims.frames * 3 * dims.d, 1.5);
        let (out, probs) = forward(&qkv, len, dims);
        let want = naive_forward(&qkv, len, dims);
        for (i, (a, b)) in out.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < REF_TOL, "{name}: out[{i}] {a} vs naive {b}");
        }
        // Saved probabilities: rows of valid queries sum to one, everything else is exactly 0.
        let t = dims.frames;
        for h in 0..dims.heads {
            for i in 0..t {
                let row = &probs[(h * t + i) * t..(h * t + i + 1) * t];
                let keys = if i < len {
                    dims.key_range(i, len)
                } else {
                    0..0
                };
                for (j, p) in row.iter().enumerate() {
                    if !keys.contains(&j) {
                        assert_eq!(*p, 0.0, "{name}: probs[{h}][{i}][{j}] is masked");
                    }
                }
                let sum: f64 = row.iter().sum();
                let want = if i < len { 1.0 } else { 0.0 };
                assert!(
                    (sum - want).abs() < REF_TOL,
                    "{name}: row {h},{i} sums to {sum}"
                );
            }
        }
    }
}

#[test]
fn attention_backward_matches_finite_differences() {
    let mut rng = Rng::new(12);
    for (name, dims, len) in cases() {
        let mut qkv = rng.vec(dims.frames * 3 * dims.d, 1.5);
        let dout = rng.vec(dims.frames * dims.d, 1.0);
        let (_, probs) = forward(&qkv, len, dims);
        let dqkv = backward(&dout, &probs, &qkv, len, dims);
        check_gradient(name, &mut qkv, &dqkv, FD_TOL, |x| {
            dot(&dout, &forward(x, len, dims).0)
        });
    }
}

#[test]
fn padded_frames_change_nothing() {
    let mut rng = Rng::new(13);
    for (name, dims, len) in cases() {
        let (t, d) = (dims.frames, dims.d);
        let qkv = rng.vec(t * 3 * d, 1.0);
        let dout = rng.vec(t * d, 1.0);
        let (out, probs) = forward(&qkv, len, dims);
        let dqkv = backward(&dout, &probs, &qkv, len, dims);

        let mut garbage_qkv = qkv.clone();
        garbage_qkv[len * 3 * d..].fill(1e3);
        let mut garbage_dout = dout.clone();
        garbage_dout[len * d..].fill(-1e3);
        let (out2, probs2) = forward(&garbage_qkv, len, dims);
        let dqkv2 = backward(&garbage_dout, &probs2, &garbage_qkv, len, dims);

        assert_eq!(out, out2, "{name}: outputs depend on padding");
        assert!(
            out[len * d..].iter().all(|&x| x == 0.0),
            "{name}: padded outputs are zero"
        );
        assert_eq!(dqkv, dqkv2, "{name}: gradients depend on padding");
        assert!(
            dqkv[len * 3 * d..].iter().all(|&x| x == 0.0),
            "{name}: padded rows get no grad"
        );
    }
}

#[test]
fn utterance_alone_equals_utterance_in_a_longer_buffer() {
    // The same 4 valid frames, once in a buffer of exactly 4 and once padded to 9.
    let mut rng = Rng::new(14);
    let (d, len) = (4, 4);
    let short = dims(len, d, 2, Some(3));
    let long = AttentionDims { frames: 9, ..short };
    let mut qkv = rng.vec(long.frames * 3 * d, 1.0);
    qkv[len * 3 * d..].fill(7.0);
    let dout = rng.vec(long.frames * d, 1.0);
    let (out_long, probs_long) = forward(&qkv, len, long);
    let dqkv_long = backward(&dout, &probs_long, &qkv, len, long);
    let (out_short, probs_short) = forward(&qkv[..len * 3 * d], len, short);
    let dqkv_short = backward(
        &dout[..len * d],
        &probs_short,
        &qkv[..len * 3 * d],
        len,
        short,
    );
    assert_eq!(&out_long[..len * d], &out_short[..]);
    assert_eq!(&dqkv_long[..len * 3 * d], &dqkv_short[..]);
}

#[test]
fn backward_accumulates_into_dqkv() {
    let mut rng = Rng::new(15);
    let (_, dims, len) = cases()[4];
    let qkv = rng.vec(dims.frames * 3 * dims.d, 1.0);
    let dout = rng.vec(dims.frames * dims.d, 1.0);
    let (_, probs) = forward(&qkv, len, dims);
    let once = backward(&dout, &probs, &qkv, len, dims);
    let prior = rng.vec(qkv.len(), 1.0);
    let mut acc = prior.clone();
    let mut scratch = vec![0.0; dims.scratch_len()];
    attention_backward(&mut acc, &mut scratch, &dout, &probs, &qkv, len, dims);
    for i in 0..acc.len() {
        assert!(
            (acc[i] - (prior[i] + once[i])).abs() < REF_TOL,
            "dqkv[{i}] not accumulated"
        );
    }
}

#[test]
fn empty_utterance_writes_zeros() {
    let dims = dims(3, 4, 2, None);
    let qkv = vec![1.0; 3 * 12];
    let (out, probs) = forward(&qkv, 0, dims);
    assert!(out.iter().chain(&probs).all(|&x| x == 0.0));
    assert!(
        backward(&[1.0; 12], &probs, &qkv, 0, dims)
            .iter()
            .all(|&x| x == 0.0)
    );
}

#[test]
fn f32_forward_agrees_with_f64() {
    let mut rng = Rng::new(16);
    let (_, dims, len) = cases()[4];
    let qkv = rng.vec(dims.frames * 3 * dims.d, 1.0);
    let want = forward(&qkv, len, dims).0;
    let qkv32: Vec<f32> = qkv.iter().map(|&x| x as f32).collect();
    let mut out = vec![f32::NAN; dims.frames * dims.d];
    let mut probs = vec![f32::NAN; dims.probs_len()];
    attention_forward(&mut out, &mut probs, &qkv32, len, dims);
    for (a, b) in out.iter().zip(&want) {
        assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn prescaled_q_matches_the_kernel_applying_the_scale() {
    // The folded model's fused Q/K/V carries 1/√dₕ in Q: with `q_prescaled` the kernel must not
    // apply it a second time.
    let mut rng = Rng::new(16);
    let (_, plain, len) = cases()[4];
    let qkv = rng.vec(plain.frames * 3 * plain.d, 1.0);
    let scale = 1.0 / (plain.head_dim() as f64).sqrt();
    let mut scaled = qkv.clone();
    for row in scaled.chunks_mut(3 * plain.d) {
        row[..plain.d].iter_mut().for_each(|q| *q *= scale);
    }
    let prescaled = AttentionDims {
        q_prescaled: true,
        ..plain
    };
    let (out_plain, _) = forward(&qkv, len, plain);
    let (out_prescaled, _) = forward(&scaled, len, prescaled);
    for (a, b) in out_plain.iter().zip(&out_prescaled) {
        assert!((a - b).abs() <= REF_TOL, "{a} vs {b}");
    }
}
