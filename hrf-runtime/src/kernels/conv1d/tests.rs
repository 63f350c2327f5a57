//! Conv1d tests: output lengths, a hand-computed case, a naive reference, finite differences
//! for every variant (with lengths), padding invariance and accumulation.

use super::*;
extern crate std;
use crate::testing::{Rng, check_gradient, dot};
use std::vec;
use std::vec::Vec;

/// Relative tolerance of the f64 finite-difference checks (the conv is linear in each argument,
/// so only rounding separates analytic and numeric gradients).
const FD_TOL: f64 = 1e-7;
/// Agreement between the kernels and the naive loops (f64).
const REF_TOL: f64 = 1e-12;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Standard,
    Depthwise,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    name: &'static str,
    kind: Kind,
    dims: Conv1dDims,
    len: usize,
    bias: bool,
}

const fn dims(
    frames: usize,
    c_in: usize,
    c_out: usize,
    k: usize,
    s: usize,
    p: usize,
) -> Conv1dDims {
    Conv1dDims {
        frames,
        channels_in: c_in,
        channels_out: c_out,
        kernel: k,
        stride: s,
        padding: p,
    }
}

fn cases() -> [Case; 10] {
    use Kind::*;
    let case = |name, kind, dims, len, bias| Case {
        name,
        kind,
        dims,
        len,
        bias,
    };
    [
        case(
            "standard k3 s1 p1",
            Standard,
            dims(7, 3, 4, 3, 1, 1),
            5,
            true,
        ),
        case(
            "standard k3 s1 p0 no bias, full",
            Standard,
            dims(6, 2, 3, 3, 1, 0),
            6,
            false,
        ),
        case(
            "strided k3 s2 p0 (frontend)",
            Standard,
            dims(9, 3, 2, 3, 2, 0),
            8,
            true,
        ),
        case(
            "strided k3 s2 p1",
            Standard,
            dims(8, 2, 3, 3, 2, 1),
            5,
            true,
        ),
        case("pointwise", Standard, dims(5, 3, 4, 1, 1, 0), 3, true),
        case(
            "pointwise no bias, full",
            Standard,
            dims(4, 3, 2, 1, 1, 0),
            4,
            false,
        ),
        case(
            "depthwise k5 same",
            Depthwise,
            dims(8, 3, 3, 5, 1, 2),
            6,
            true,
        ),
        case(
            "depthwise k3 s2 p1 no bias",
            Depthwise,
            dims(7, 4, 4, 3, 2, 1),
            7,
            false,
        ),
        case(
            "depthwise k15 same, short",
            Depthwise,
            dims(9, 2, 2, 15, 1, 7),
            4,
            true,
        ),
        // More channels and taps than one stack weight block holds (64 × 32).
        case(
            "depthwise k35 c70 blocks",
            Depthwise,
            dims(6, 70, 70, 35, 1, 17),
            5,
            true,
        ),
    ]
}

impl Case {
    fn weight_len(&self) -> usize {
        match self.kind {
            Kind::Standard => self.dims.channels_out * self.dims.channels_in * self.dims.kernel,
            Kind::Depthwise => self.dims.channels_in * self.dims.kernel,
        }
    }

    fn forward(&self, inp: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let d = self.dims;
        let mut out = vec![f64::NAN; d.out_frames() * d.channels_out];
        let bias = self.bias.then_some(b);
        match self.kind {
            Kind::Standard => {
                let mut cols = vec![f64::NAN; d.scratch_len()];
                conv1d_forward(&mut out, &mut cols, inp, self.len, w, bias, d);
            }
            Kind::Depthwise => depthwise_conv1d_forward(&mut out, inp, self.len, w, bias, d),
        }
        out
    }

    /// `(dinp, dweight, dbias)` from zero.
    fn backward(&self, dout: &[f64], inp: &[f64], w: &[f64]) -> [Vec<f64>; 3] {
        let d = self.dims;
        let mut dinp = vec![0.0; inp.len()];
        let mut dw = vec![0.0; w.len()];
        let mut db = vec![0.0; d.channels_out];
        let dbias = self.bias.then_some(&mut db[..]);
        match self.kind {
            Kind::Standard => {
                let mut cols = vec![f64::NAN; d.scratch_len()];
                conv1d_backward(
                    Some(&mut dinp),
                    &mut dw,
                    dbias,
                    &mut cols,
                    dout,
                    inp,
                    self.len,
                    w,
                    d,
                );
            }
            Kind::Depthwise => depthwise_conv1d_backward(
                Some(&mut dinp),
                &mut dw,
                dbias,
                dout,
                inp,
                self.len,
                w,
                d,
            ),
        }
        [dinp, dw, db]
    }

    /// Straight from the definition: grouped conv with explicit zero padding.
    fn naive(&self, inp: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let d = self.dims;
        let (c_in, c_out, k) = (d.channels_in, d.channels_out, d.kernel);
        let x = |r: isize, ci: usize| {
            if r >= 0 && (r as usize) < self.len {
                inp[r as usize * c_in + ci]
            } else {
                0.0
            }
        };
        let mut out = vec![0.0; d.out_frames() * c_out];
        for o in 0..d.out_len(self.len) {
            for co in 0..c_out {
                let mut acc = if self.bias { b[co] } else { 0.0 };
                for kk in 0..k {
                    let r = (o * d.stride + kk) as isize - d.padding as isize;
                    acc += match self.kind {
                        Kind::Standard => (0..c_in)
                            .map(|ci| w[(co * c_in + ci) * k + kk] * x(r, ci))
                            .sum(),
                        Kind::Depthwise => w[co * k + kk] * x(r, co),
                    };
                }
                out[o * c_out + co] = acc;
            }
        }
        out
    }
}

#[test]
fn out_len_follows_the_documented_formula() {
    assert_eq!(dims(10, 1, 1, 3, 2, 0).out_len(10), 4, "⌊(10 − 3)/2⌋ + 1");
    assert_eq!(
        dims(10, 1, 1, 3, 2, 1).out_len(10),
        5,
        "⌊(10 + 2 − 3)/2⌋ + 1"
    );
    assert_eq!(dims(10, 1, 1, 3, 2, 1).out_len(4), 2);
    assert_eq!(
        dims(9, 1, 1, 15, 1, 7).out_len(9),
        9,
        "same padding keeps the length"
    );
    assert_eq!(
        dims(9, 1, 1, 3, 1, 0).out_len(2),
        0,
        "shorter than the kernel"
    );
    assert_eq!(
        dims(9, 1, 1, 3, 1, 2).out_len(0),
        0,
        "an empty utterance stays empty"
    );
    assert_eq!(dims(600, 64, 64, 3, 2, 0).out_frames(), 299);
    assert_eq!(
        dims(5, 4, 2, 1, 1, 0).scratch_len(),
        0,
        "pointwise needs no im2col"
    );
    assert_eq!(dims(5, 4, 2, 3, 1, 1).scratch_len(), 5 * 4 * 3);
}

#[test]
fn strided_conv_matches_hand_computed_case() {
    // One channel, W = [1, 10, 100], b = 0.5, k3 s2 p1, x = [1, 2, 3, 4, 5]:
    // o0 reads frames (−1, 0, 1) → 0·1 + 1·10 + 2·100 = 210 → 210.5
    // o1 reads (1, 2, 3) → 2 + 30 + 400 → 432.5;  o2 reads (3, 4, 5) → 4 + 50 + 0 → 54.5.
    let d = dims(5, 1, 1, 3, 2, 1);
    let (x, w, b) = ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 10.0, 100.0], [0.5]);
    let mut out = [f64::NAN; 3];
    let mut cols = [f64::NAN; 9];
    conv1d_forward(&mut out, &mut cols, &x, 5, &w, Some(&b), d);
    assert_eq!(out, [210.5, 432.5, 54.5]);
    // With len = 4 the fifth frame is padding: two outputs, the third row zero.
    conv1d_forward(&mut out, &mut cols, &x, 4, &w, Some(&b), d);
    assert_eq!(out, [210.5, 432.5, 0.0]);
    // The depthwise kernel agrees on one channel.
    depthwise_conv1d_forward(&mut out, &x, 5, &w, Some(&b), d);
    assert_eq!(out, [210.5, 432.5, 54.5]);
}

#[test]
fn forward_matches_naive_reference() {
    let mut rng = Rng::new(21);
    for case in cases() {
        let d = case.dims;
        let inp = rng.vec(d.frames * d.channels_in, 1.0);
        let w = rng.vec(case.weight_len(), 1.0);
        let b = rng.vec(d.channels_out, 1.0);
        let got = case.forward(&inp, &w, &b);
        let want = case.naive(&inp, &w, &b);
        for (i, (a, e)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - e).abs() < REF_TOL,
                "{}: out[{i}] {a} vs naive {e}",
                case.name
            );
        }
    }
}

#[test]
fn conv1d_backward_matches_finite_differences() {
    let mut rng = Rng::new(22);
    for case in cases() {
        let d = case.dims;
        let mut inp = rng.vec(d.frames * d.channels_in, 1.0);
        let mut w = rng.vec(case.weight_len(), 1.0);
        let mut b = rng.vec(d.channels_out, 1.0);
        let dout = rng.vec(d.out_frames() * d.channels_out, 1.0);
        let [dinp, dw, db] = case.backward(&dout, &inp, &w);
        let name = case.name;
        let (w0, b0) = (w.clone(), b.clone());
        check_gradient(
            &std::format!("{name}: dinp"),
            &mut inp,
            &dinp,
            FD_TOL,
            |x| dot(&dout, &case.forward(x, &w0, &b0)),
        );
        let inp0 = inp.clone();
        check_gradient(&std::format!("{name}: dweight"), &mut w, &dw, FD_TOL, |x| {
            dot(&dout, &case.forward(&inp0, x, &b0))
        });
        if case.bias {
            check_gradient(&std::format!("{name}: dbias"), &mut b, &db, FD_TOL, |x| {
                dot(&dout, &case.forward(&inp0, &w0, x))
            });
        } else {
            assert!(
                db.iter().all(|&g| g == 0.0),
                "{name}: no bias, no bias gradient"
            );
        }
    }
}

#[test]
fn padded_frames_change_nothing() {
    let mut rng = Rng::new(23);
    for case in cases() {
        let d = case.dims;
        let (len, n_out) = (case.len, d.out_len(case.len));
        let inp = rng.vec(d.frames * d.channels_in, 1.0);
        let w = rng.vec(case.weight_len(), 1.0);
        let b = rng.vec(d.channels_out, 1.0);
        let dout = rng.vec(d.out_frames() * d.channels_out, 1.0);
        let out = case.forward(&inp, &w, &b);
        let grads = case.backward(&dout, &inp, &w);

        let mut garbage_inp = inp.clone();
        garbage_inp[len * d.channels_in..].fill(1e3);
        let mut garbage_dout = dout.clone();
        garbage_dout[n_out * d.channels_out..].fill(-1e3);
        let name = case.name;
        assert_eq!(
            out,
            case.forward(&garbage_inp, &w, &b),
            "{name}: outputs depend on padding"
        );
        assert!(
            out[n_out * d.channels_out..].iter().all(|&y| y == 0.0),
            "{name}: padded out"
        );
        let grads2 = case.backward(&garbage_dout, &garbage_inp, &w);
        assert_eq!(grads, grads2, "{name}: gradients depend on padding");
        assert!(
            grads[0][len * d.channels_in..].iter().all(|&g| g == 0.0),
            "{name}: padded dinp"
        );
    }
}

#[test]
fn backward_accumulates_and_skips_dinp_on_request() {
    let mut rng = Rng::new(24);
    for case in [cases()[3], cases()[4], cases()[6]] {
        let d = case.dims;
        let inp = rng.vec(d.frames * d.channels_in, 1.0);
        let w = rng.vec(case.weight_len(), 1.0);
        let dout = rng.vec(d.out_frames() * d.channels_out, 1.0);
        let [dinp, dw, db] = case.backward(&dout, &inp, &w);

        let (prior_x, prior_w, prior_b) = (
            rng.vec(inp.len(), 1.0),
            rng.vec(w.len(), 1.0),
            rng.vec(d.channels_out, 1.0),
        );
        let (mut acc_x, mut acc_w, mut acc_b) = (prior_x.clone(), prior_w.clone(), prior_b.clone());
        let mut cols = vec![0.0; d.scratch_len()];
        let (len, bias) = (case.len, Some(&mut acc_b[..]));
        match case.kind {
            Kind::Standard => conv1d_backward(
                Some(&mut acc_x),
                &mut acc_w,
                bias,
                &mut cols,
                &dout,
                &inp,
                len,
                &w,
                d,
            ),
            Kind::Depthwise => depthwise_conv1d_backward(
                Some(&mut acc_x),
                &mut acc_w,
                bias,
                &dout,
                &inp,
                len,
                &w,
                d,
            ),
        }
        for (what, acc, prior, once) in [
            ("dinp", &acc_x, &prior_x, &dinp),
            ("dweight", &acc_w, &prior_w, &dw),
            ("dbias", &acc_b, &prior_b, &db),
        ] {
            for i in 0..acc.len() {
                assert!(
                    (acc[i] - prior[i] - once[i]).abs() < REF_TOL,
                    "{}: {what}[{i}]",
                    case.name
                );
            }
        }

        // Without dinp, the parameter gradients are the same.
        let mut dw2 = vec![0.0; w.len()];
        match case.kind {
            Kind::Standard => {
                conv1d_backward(None, &mut dw2, None, &mut cols, &dout, &inp, len, &w, d)
            }
            Kind::Depthwise => {
                depthwise_conv1d_backward(None, &mut dw2, None, &dout, &inp, len, &w, d)
            }
        }
        assert_eq!(dw2, dw, "{}: dweight without dinp", case.name);
    }
}

#[test]
fn utterance_alone_equals_utterance_in_a_longer_buffer() {
    // Each case's valid frames, once in a buffer of exactly `len` frames and once in the case's
    // longer buffer: same valid outputs, same gradients.
    let mut rng = Rng::new(25);
    for long in cases() {
        let short = Case {
            dims: Conv1dDims {
                frames: long.len,
                ..long.dims
            },
            ..long
        };
        let (d, len) = (long.dims, long.len);
        let n_out = d.out_len(len);
        let inp = rng.vec(d.frames * d.channels_in, 1.0);
        let w = rng.vec(long.weight_len(), 1.0);
        let b = rng.vec(d.channels_out, 1.0);
        let dout = rng.vec(d.out_frames() * d.channels_out, 1.0);
        let valid_out = n_out * d.channels_out;
        let valid_in = len * d.channels_in;

        let out_long = long.forward(&inp, &w, &b);
        let out_short = short.forward(&inp[..valid_in], &w, &b);
        assert_eq!(
            &out_long[..valid_out],
            &out_short[..],
            "{}: outputs",
            long.name
        );

        let [dx_long, dw_long, db_long] = long.backward(&dout, &inp, &w);
        let [dx_short, dw_short, db_short] =
            short.backward(&dout[..valid_out], &inp[..valid_in], &w);
        assert_eq!(&dx_long[..valid_in], &dx_short[..], "{}: dinp", long.name);
        assert_eq!(
            (dw_long, db_long),
            (dw_short, db_short),
            "{}: params",
            long.name
        );
    }
}
