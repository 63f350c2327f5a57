//! Training kernels perform zero heap allocations: a counting global allocator around every
//! public forward/backward kernel (and the engine's own GEMM) at SER sizes, in f32 and f64.
//!
//! Sizes are the light presets' (design.md §2): 150 frames after the front end, `d = 64`,
//! `f = 256`, 4 heads, depthwise kernel 15, front-end convs kernel 3 stride 2, windows 5 and 17.
//! Every buffer is allocated before its kernel runs and only the kernel call itself is counted,
//! on this thread only (the harness's other threads cannot perturb the count).

use hrf_runtime::kernels::activation::{
    Activation, activation_backward, activation_forward, gelu_backward, gelu_forward,
    relu_backward, relu_forward, swish_backward, swish_forward,
};
use hrf_runtime::kernels::attention::{AttentionDims, attention_backward, attention_forward};
use hrf_runtime::kernels::batch_norm::{
    BatchNormDims, batch_norm_backward_eval, batch_norm_backward_train, batch_norm_forward_eval,
    batch_norm_forward_train,
};
use hrf_runtime::kernels::conv1d::{
    Conv1dDims, conv1d_backward, conv1d_forward, depthwise_conv1d_backward,
    depthwise_conv1d_forward,
};
use hrf_runtime::kernels::cross_entropy::{
    CrossEntropyDims, cross_entropy_backward, cross_entropy_forward,
};
use hrf_runtime::kernels::dropout::{DropoutKey, dropout_backward, dropout_forward};
use hrf_runtime::kernels::gemm::{Op, dgemm_raw, gemm, sgemm_raw};
use hrf_runtime::kernels::glu::{GluDims, glu_backward, glu_forward};
use hrf_runtime::kernels::layer_norm::{LayerNormDims, layer_norm_backward, layer_norm_forward};
use hrf_runtime::kernels::linear::{LinearDims, linear_backward, linear_forward};
use hrf_runtime::kernels::merge::{MergeDims, merge_backward, merge_forward};
use hrf_runtime::kernels::pooling::{PoolDims, mean_pool_backward, mean_pool_forward};
use hrf_runtime::kernels::positions::{
    PositionDims, positions_backward, positions_forward, positions_forward_in_place,
    sinusoidal_table,
};
use hrf_runtime::kernels::residual::{residual_backward, residual_forward};
use hrf_runtime::real::Real;

mod alloc_counter;

use alloc_counter::{Counting, allocations_in};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Frames after the front end (600 input frames / 4).
const FRAMES: usize = 150;
/// Valid frames of a padded utterance (`< FRAMES`, so every padding path runs too).
const LEN: usize = 131;
/// Model width `d`.
const D: usize = 64;
/// FFN hidden width `f`.
const F: usize = 256;
/// Attention heads.
const HEADS: usize = 4;
/// Emotion classes.
const CLASSES: usize = 4;

/// Every public compute kernel the audit must reach, in each precision.
const EVERY_KERNEL: &[&str] = &[
    "activation_forward",
    "activation_backward",
    "relu_forward",
    "relu_backward",
    "swish_forward",
    "swish_backward",
    "gelu_forward",
    "gelu_backward",
    "attention_forward",
    "attention_backward",
    "batch_norm_forward_train",
    "batch_norm_backward_train",
    "batch_norm_forward_eval",
    "batch_norm_backward_eval",
    "conv1d_forward",
    "conv1d_backward",
    "depthwise_conv1d_forward",
    "depthwise_conv1d_backward",
    "cross_entropy_forward",
    "cross_entropy_backward",
    "dropout_forward",
    "dropout_backward",
    "gemm",
    "glu_forward",
    "glu_backward",
    "layer_norm_forward",
    "layer_norm_backward",
    "linear_forward",
    "linear_backward",
    "merge_forward",
    "merge_backward",
    "mean_pool_forward",
    "mean_pool_backward",
    "sinusoidal_table",
    "positions_forward",
    "positions_forward_in_place",
    "positions_backward",
    "residual_forward",
    "residual_backward",
];

/// Runs kernel calls one at a time under the counter and records which allocated.
struct Audit {
    /// `"f32"` or `"f64"`, for the failure message.
    precision: &'static str,
    /// `(kernel, case)` of every call made.
    calls: Vec<(&'static str, &'static str)>,
    /// `(kernel, case, allocations)` of every call that allocated.
    allocating: Vec<(&'static str, &'static str, usize)>,
}

impl Audit {
    fn new<T: Real>() -> Self {
        Audit {
            precision: std::any::type_name::<T>(),
            calls: Vec::new(),
            allocating: Vec::new(),
        }
    }

    /// Counts the allocations of one kernel call `f` (the bookkeeping happens outside the count).
    fn call(&mut self, kernel: &'static str, case: &'static str, f: impl FnOnce()) {
        let n = allocations_in(f);
        self.calls.push((kernel, case));
        if n > 0 {
            self.allocating.push((kernel, case, n));
        }
    }

    /// Fails naming every kernel call that allocated, and every kernel of `expected` never called.
    fn assert_clean(&self, expected: &[&str]) {
        assert!(
            self.allocating.is_empty(),
            "{}: kernel calls that allocated, as (kernel, case, allocations): {:?}",
            self.precision,
            self.allocating
        );
        let missing: Vec<_> = expected
            .iter()
            .filter(|k| !self.calls.iter().any(|(c, _)| c == *k))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: kernels never called: {missing:?}",
            self.precision
        );
    }
}

/// `n` values in `[−1, 1)` from a seeded 64-bit LCG (deterministic, no dependency).
fn values<T: Real>(n: usize, seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            T::from_f64((state >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
        })
        .collect()
}

/// A kernel's output is finite everywhere and not all zero (the call did real work).
fn assert_live<T: Real>(what: &str, buf: &[T]) {
    assert!(
        buf.iter().all(|v| v.is_finite()),
        "{what}: non-finite output"
    );
    assert!(buf.iter().any(|&v| v != T::ZERO), "{what}: all-zero output");
}

/// Element-wise kernels over an FFN hidden `(FRAMES, F)` or a stream `(FRAMES, D)`.
fn elementwise_kernels<T: Real>(audit: &mut Audit) {
    let inp = values::<T>(FRAMES * F, 1);
    let dout = values::<T>(FRAMES * F, 2);
    let mut out = vec![T::ZERO; FRAMES * F];
    let mut dinp = vec![T::ZERO; FRAMES * F];
    audit.call("relu_forward", "(150, 256)", || {
        relu_forward(&mut out, &inp)
    });
    audit.call("relu_backward", "(150, 256)", || {
        relu_backward(&mut dinp, &dout, &inp)
    });
    audit.call("swish_forward", "(150, 256)", || {
        swish_forward(&mut out, &inp)
    });
    audit.call("swish_backward", "(150, 256)", || {
        swish_backward(&mut dinp, &dout, &inp)
    });
    audit.call("gelu_forward", "(150, 256)", || {
        gelu_forward(&mut out, &inp)
    });
    audit.call("gelu_backward", "(150, 256)", || {
        gelu_backward(&mut dinp, &dout, &inp)
    });
    for act in [Activation::Relu, Activation::Swish, Activation::Gelu] {
        audit.call("activation_forward", "each activation", || {
            activation_forward(act, &mut out, &inp)
        });
        audit.call("activation_backward", "each activation", || {
            activation_backward(act, &mut dinp, &dout, &inp)
        });
    }
    assert_live("activations", &out);
    assert_live("activation gradients", &dinp);

    // GLU: (FRAMES, 2d) → (FRAMES, d), the conv module's gate.
    let glu = GluDims {
        rows: FRAMES,
        channels: D,
    };
    let (mut gated, mut dglu) = (vec![T::ZERO; FRAMES * D], vec![T::ZERO; FRAMES * 2 * D]);
    let (glu_in, glu_dout) = (&inp[..FRAMES * 2 * D], &dout[..FRAMES * D]);
    audit.call("glu_forward", "(150, 128) → (150, 64)", || {
        glu_forward(&mut gated, glu_in, glu)
    });
    audit.call("glu_backward", "(150, 128) → (150, 64)", || {
        glu_backward(&mut dglu, glu_dout, glu_in, glu)
    });
    assert_live("glu", &gated);
    assert_live("glu gradient", &dglu);

    // Residual add with the macaron ½ and dropout on a (FRAMES, d) stream.
    let (y, dx) = (&inp[..FRAMES * D], &dout[..FRAMES * D]);
    let mut stream = values::<T>(FRAMES * D, 3);
    let mut dy = vec![T::ZERO; FRAMES * D];
    let half = T::from_f64(0.5);
    audit.call("residual_forward", "scale ½", || {
        residual_forward(&mut stream, y, half)
    });
    audit.call("residual_backward", "scale ½", || {
        residual_backward(&mut dy, dx, half)
    });
    assert_live("residual", &stream);
    assert_live("residual gradient", &dy);
    for (case, p, offset) in [("p = 0.1, odd offset", 0.1, 12_345), ("p = 0", 0.0, 0)] {
        let key = DropoutKey {
            p,
            seed: 7,
            step: 3,
            site: 11,
            offset,
        };
        let (mut dropped, mut ddrop) = (vec![T::ZERO; FRAMES * D], vec![T::ZERO; FRAMES * D]);
        audit.call("dropout_forward", case, || {
            dropout_forward(&mut dropped, y, key)
        });
        audit.call("dropout_backward", case, || {
            dropout_backward(&mut ddrop, dx, key)
        });
        assert_live("dropout", &dropped);
        assert_live("dropout gradient", &ddrop);
    }

    // Sinusoidal positions: the table is written into a caller buffer, then added.
    let pos = PositionDims {
        frames: FRAMES,
        d: D,
    };
    let mut table = vec![T::ZERO; FRAMES * D];
    let (mut with_pe, mut dpos) = (vec![T::ZERO; FRAMES * D], vec![T::ZERO; FRAMES * D]);
    let mut in_place = values::<T>(FRAMES * D, 4);
    audit.call("sinusoidal_table", "(150, 64)", || {
        sinusoidal_table(&mut table, D)
    });
    audit.call("positions_forward", "(150, 64)", || {
        positions_forward(&mut with_pe, y, &table, pos)
    });
    audit.call("positions_forward_in_place", "(150, 64)", || {
        positions_forward_in_place(&mut in_place, &table, pos)
    });
    audit.call("positions_backward", "(150, 64)", || {
        positions_backward(&mut dpos, dx, pos)
    });
    assert_live("positions", &with_pe);
    assert_live("positions gradient", &dpos);
}

/// Layer norm over `(FRAMES, d)`; batch norm over two utterances, train and eval.
fn norm_kernels<T: Real>(audit: &mut Audit) {
    let ln = LayerNormDims::new(FRAMES, D);
    let (inp, dout) = (values::<T>(FRAMES * D, 5), values::<T>(FRAMES * D, 6));
    let (gamma, beta) = (values::<T>(D, 7), values::<T>(D, 8));
    let (mut out, mut dinp) = (vec![T::ZERO; FRAMES * D], vec![T::ZERO; FRAMES * D]);
    let (mut mean, mut rstd) = (vec![T::ZERO; FRAMES], vec![T::ZERO; FRAMES]);
    let (mut dgamma, mut dbeta) = (vec![T::ZERO; D], vec![T::ZERO; D]);
    audit.call("layer_norm_forward", "(150, 64)", || {
        layer_norm_forward(&mut out, &mut mean, &mut rstd, &inp, &gamma, &beta, ln)
    });
    audit.call("layer_norm_backward", "(150, 64)", || {
        layer_norm_backward(
            &mut dinp,
            &mut dgamma,
            &mut dbeta,
            &dout,
            &inp,
            &gamma,
            &mean,
            &rstd,
            ln,
        )
    });
    assert_live("layer norm", &out);
    assert_live("layer norm gradient", &dinp);

    // Batch: (2·FRAMES, d), one full utterance and one padded.
    let bn = BatchNormDims::new(FRAMES, D);
    let lengths = [FRAMES, LEN];
    let (inp, dout) = (
        values::<T>(2 * FRAMES * D, 9),
        values::<T>(2 * FRAMES * D, 10),
    );
    let (mut out, mut dinp) = (vec![T::ZERO; 2 * FRAMES * D], vec![T::ZERO; 2 * FRAMES * D]);
    let (mut mean, mut rstd) = (vec![T::ZERO; D], vec![T::ZERO; D]);
    let (mut running_mean, mut running_var) = (vec![T::ZERO; D], vec![T::ONE; D]);
    let mut scratch = vec![T::ZERO; bn.scratch_len()];
    audit.call("batch_norm_forward_train", "lengths [150, 131]", || {
        batch_norm_forward_train(
            &mut out,
            &mut mean,
            &mut rstd,
            &mut running_mean,
            &mut running_var,
            &inp,
            &gamma,
            &beta,
            &lengths,
            bn,
        )
    });
    audit.call("batch_norm_backward_train", "lengths [150, 131]", || {
        batch_norm_backward_train(
            &mut dinp,
            &mut dgamma,
            &mut dbeta,
            &mut scratch,
            &dout,
            &inp,
            &gamma,
            &mean,
            &rstd,
            &lengths,
            bn,
        )
    });
    assert_live("batch norm (train)", &out);
    assert_live("batch norm gradient (train)", &dinp);
    audit.call("batch_norm_forward_eval", "lengths [150, 131]", || {
        batch_norm_forward_eval(
            &mut out,
            &inp,
            &gamma,
            &beta,
            &running_mean,
            &running_var,
            &lengths,
            bn,
        )
    });
    audit.call("batch_norm_backward_eval", "lengths [150, 131]", || {
        batch_norm_backward_eval(
            &mut dinp,
            &mut dgamma,
            &mut dbeta,
            &dout,
            &inp,
            &gamma,
            &running_mean,
            &running_var,
            &lengths,
            bn,
        )
    });
    assert_live("batch norm (eval)", &out);
    assert_live("batch norm gradient (eval)", &dinp);
}

/// Linears `d → f` (FFN in) and `f → d` (FFN out, no bias, first-layer `dinp = None`).
fn linear_kernels<T: Real>(audit: &mut Audit) {
    for (case, in_dim, out_dim, with_bias, with_dinp) in [
        ("(150, 64) → (150, 256), bias", D, F, true, true),
        (
            "(150, 256) → (150, 64), no bias, no dinp",
            F,
            D,
            false,
            false,
        ),
    ] {
        let dims = LinearDims {
            rows: FRAMES,
            in_dim,
            out_dim,
        };
        let inp = values::<T>(FRAMES * in_dim, 12);
        let weight = values::<T>(out_dim * in_dim, 13);
        let bias = values::<T>(out_dim, 14);
        let dout = values::<T>(FRAMES * out_dim, 15);
        let mut out = vec![T::ZERO; FRAMES * out_dim];
        let mut dinp = vec![T::ZERO; FRAMES * in_dim];
        let (mut dweight, mut dbias) = (vec![T::ZERO; out_dim * in_dim], vec![T::ZERO; out_dim]);
        let bias = with_bias.then_some(&bias[..]);
        audit.call("linear_forward", case, || {
            linear_forward(&mut out, &inp, &weight, bias, dims)
        });
        audit.call("linear_backward", case, || {
            linear_backward(
                with_dinp.then_some(&mut dinp[..]),
                &mut dweight,
                with_bias.then_some(&mut dbias[..]),
                &dout,
                &inp,
                &weight,
                dims,
            )
        });
        // out[r][o] = b[o] + Σ_i x[r][i]·W[o][i], at a corner element.
        let (r, o) = (FRAMES - 1, out_dim - 1);
        let expect = bias.map_or(0.0, |b| b[o].to_f64())
            + (0..in_dim)
                .map(|i| inp[r * in_dim + i].to_f64() * weight[o * in_dim + i].to_f64())
                .sum::<f64>();
        let got = out[r * out_dim + o].to_f64();
        assert!((got - expect).abs() < 1e-3, "{case}: {got} vs {expect}");
        assert_live("linear weight gradient", &dweight);
    }
}

/// Front-end convs (kernel 3, stride 2), the conv module's pointwise `d → 2d` and depthwise
/// kernel-15 convs.
fn conv_kernels<T: Real>(audit: &mut Audit) {
    // (case, dims, valid input frames, input gradient wanted)
    let standard = [
        (
            "front end 1: (600, 64) → (300, 64), k 3 s 2, no dinp",
            Conv1dDims {
                frames: 4 * FRAMES,
                channels_in: D,
                channels_out: D,
                kernel: 3,
                stride: 2,
                padding: 1,
            },
            4 * LEN,
            false,
        ),
        (
            "front end 2: (300, 64) → (150, 64), k 3 s 2",
            Conv1dDims {
                frames: 2 * FRAMES,
                channels_in: D,
                channels_out: D,
                kernel: 3,
                stride: 2,
                padding: 1,
            },
            2 * LEN,
            true,
        ),
        (
            "pointwise (150, 64) → (150, 128)",
            Conv1dDims {
                frames: FRAMES,
                channels_in: D,
                channels_out: 2 * D,
                kernel: 1,
                stride: 1,
                padding: 0,
            },
            LEN,
            true,
        ),
    ];
    for (case, dims, len, with_dinp) in standard {
        let (c_in, c_out, k) = (dims.channels_in, dims.channels_out, dims.kernel);
        let t_out = dims.out_frames();
        let inp = values::<T>(dims.frames * c_in, 16);
        let weight = values::<T>(c_out * c_in * k, 17);
        let bias = values::<T>(c_out, 18);
        let dout = values::<T>(t_out * c_out, 19);
        let mut out = vec![T::ZERO; t_out * c_out];
        let mut cols = vec![T::ZERO; dims.scratch_len()];
        let mut dinp = vec![T::ZERO; dims.frames * c_in];
        let (mut dweight, mut dbias) = (vec![T::ZERO; c_out * c_in * k], vec![T::ZERO; c_out]);
        audit.call("conv1d_forward", case, || {
            conv1d_forward(&mut out, &mut cols, &inp, len, &weight, Some(&bias), dims)
        });
        audit.call("conv1d_backward", case, || {
            conv1d_backward(
                with_dinp.then_some(&mut dinp[..]),
                &mut dweight,
                Some(&mut dbias),
                &mut cols,
                &dout,
                &inp,
                len,
                &weight,
                dims,
            )
        });
        assert_live(case, &out);
        assert_live(case, &dweight);
    }

    // Depthwise kernel 15 ("same" padding) at d = 64 and the large preset's 192 (three
    // channel blocks).
    for (case, c) in [
        ("depthwise (150, 64), k 15", D),
        ("depthwise (150, 192), k 15", 192),
    ] {
        let dims = Conv1dDims {
            frames: FRAMES,
            channels_in: c,
            channels_out: c,
            kernel: 15,
            stride: 1,
            padding: 7,
        };
        let inp = values::<T>(FRAMES * c, 20);
        let (weight, bias) = (values::<T>(c * 15, 21), values::<T>(c, 22));
        let dout = values::<T>(FRAMES * c, 23);
        let (mut out, mut dinp) = (vec![T::ZERO; FRAMES * c], vec![T::ZERO; FRAMES * c]);
        let (mut dweight, mut dbias) = (vec![T::ZERO; c * 15], vec![T::ZERO; c]);
        audit.call("depthwise_conv1d_forward", case, || {
            depthwise_conv1d_forward(&mut out, &inp, LEN, &weight, Some(&bias), dims)
        });
        audit.call("depthwise_conv1d_backward", case, || {
            depthwise_conv1d_backward(
                Some(&mut dinp),
                &mut dweight,
                Some(&mut dbias),
                &dout,
                &inp,
                LEN,
                &weight,
                dims,
            )
        });
        assert_live(case, &out);
        assert_live(case, &dinp);
    }
}

/// Self-attention over packed `qkv: (FRAMES, 3d)`: global, and windows 5 and 17.
fn attention_kernels<T: Real>(audit: &mut Audit) {
    let cases = [
        ("global, len 150", None, FRAMES, false),
        ("global, len 131, Q pre-scaled", None, LEN, true),
        ("window 5, len 131", Some(5), LEN, false),
        ("window 17, len 150", Some(17), FRAMES, false),
    ];
    for (case, window, len, q_prescaled) in cases {
        let dims = AttentionDims {
            frames: FRAMES,
            d: D,
            heads: HEADS,
            window,
            q_prescaled,
        };
        let qkv = values::<T>(FRAMES * 3 * D, 24);
        let dout = values::<T>(FRAMES * D, 25);
        let mut out = vec![T::ZERO; FRAMES * D];
        let mut probs = vec![T::ZERO; dims.probs_len()];
        let mut dprobs_scratch = vec![T::ZERO; dims.scratch_len()];
        let mut dqkv = vec![T::ZERO; FRAMES * 3 * D];
        audit.call("attention_forward", case, || {
            attention_forward(&mut out, &mut probs, &qkv, len, dims)
        });
        audit.call("attention_backward", case, || {
            attention_backward(
                &mut dqkv,
                &mut dprobs_scratch,
                &dout,
                &probs,
                &qkv,
                len,
                dims,
            )
        });
        // Every valid query's probabilities sum to 1, in every head.
        for row in probs.chunks_exact(FRAMES) {
            let s: f64 = row.iter().map(|p| p.to_f64()).sum();
            assert!(
                s == 0.0 || (s - 1.0).abs() < 1e-4,
                "{case}: row sums to {s}"
            );
        }
        let valid_rows = probs
            .chunks_exact(FRAMES)
            .filter(|row| row.iter().any(|&p| p != T::ZERO))
            .count();
        assert_eq!(valid_rows, HEADS * len, "{case}: rows with probabilities");
        assert_live(case, &out);
        assert_live(case, &dqkv);
    }
}

/// Merge between SpeechFormer stages, mean pooling, and the weighted cross-entropy loss.
fn sequence_and_loss_kernels<T: Real>(audit: &mut Audit) {
    let inp = values::<T>(FRAMES * D, 26);
    for (case, factor, len) in [("factor 2, len 149", 2, 149), ("factor 3, len 131", 3, LEN)] {
        let dims = MergeDims {
            frames: FRAMES,
            d: D,
            factor,
        };
        let dout = values::<T>(dims.out_frames() * D, 27);
        let mut out = vec![T::ZERO; dims.out_frames() * D];
        let mut dinp = vec![T::ZERO; FRAMES * D];
        audit.call("merge_forward", case, || {
            merge_forward(&mut out, &inp, len, dims)
        });
        audit.call("merge_backward", case, || {
            merge_backward(&mut dinp, &dout, len, dims)
        });
        assert_live(case, &out);
        assert_live(case, &dinp);
    }

    let pool = PoolDims {
        frames: FRAMES,
        d: D,
    };
    let dout = values::<T>(D, 28);
    let (mut pooled, mut dpool) = (vec![T::ZERO; D], vec![T::ZERO; FRAMES * D]);
    audit.call("mean_pool_forward", "(150, 64), len 131", || {
        mean_pool_forward(&mut pooled, &inp, LEN, pool)
    });
    audit.call("mean_pool_backward", "(150, 64), len 131", || {
        mean_pool_backward(&mut dpool, &dout, LEN, pool)
    });
    assert_live("mean pool", &pooled);
    assert_live("mean pool gradient", &dpool);

    // A batch of 32 utterances' logits over the 4 emotions.
    let rows = 32;
    let dims = CrossEntropyDims {
        rows,
        classes: CLASSES,
    };
    let logits = values::<T>(rows * CLASSES, 29);
    let targets: Vec<usize> = (0..rows).map(|r| (r * 7) % CLASSES).collect();
    let class_weights: Vec<T> = [1.0, 2.3, 0.7, 1.5].map(T::from_f64).to_vec();
    let smoothing = T::from_f64(0.1);
    for (case, weights, eps) in [
        ("weighted", Some(&class_weights[..]), T::ZERO),
        ("unweighted", None, T::ZERO),
        ("weighted, smoothed", Some(&class_weights[..]), smoothing),
    ] {
        let (mut probs, mut dlogits) =
            (vec![T::ZERO; rows * CLASSES], vec![T::ZERO; rows * CLASSES]);
        let mut loss = T::ZERO;
        audit.call("cross_entropy_forward", case, || {
            loss = cross_entropy_forward(&mut probs, &logits, &targets, weights, eps, dims)
        });
        audit.call("cross_entropy_backward", case, || {
            cross_entropy_backward(&mut dlogits, &probs, &targets, weights, eps, T::ONE, dims)
        });
        assert!(loss.is_finite() && loss > T::ZERO, "{case}: loss {loss:?}");
        assert_live(case, &dlogits);
    }
}

/// `alpha·op(A)·op(B) + beta·C0` in f64, the naive triple loop, for checking the GEMM.
#[allow(clippy::too_many_arguments)]
fn reference_gemm<T: Real>(
    c0: &[T],
    a: &[T],
    op_a: Op,
    b: &[T],
    op_b: Op,
    (m, k, n): (usize, usize, usize),
    alpha: f64,
    beta: f64,
) -> Vec<f64> {
    let a_at = |i: usize, p: usize| match op_a {
        Op::N => a[i * k + p],
        Op::T => a[p * m + i],
    };
    let b_at = |p: usize, j: usize| match op_b {
        Op::N => b[p * n + j],
        Op::T => b[j * k + p],
    };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k)
                .map(|p| a_at(i, p).to_f64() * b_at(p, j).to_f64())
                .sum();
            let old = if beta == 0.0 {
                0.0
            } else {
                beta * c0[i * n + j].to_f64()
            };
            c[i * n + j] = alpha * dot + old;
        }
    }
    c
}

/// The engine's GEMM on multi-block shapes (`k > KC = 192`, `m > MC_ROWS = 384`, ragged `n`),
/// transposed operands, accumulation and `k = 0`; each result checked against the naive loop.
fn gemm_kernel<T: Real>(audit: &mut Audit) {
    // (case, m, k, n, op_a, op_b, alpha, beta)
    let shapes = [
        ("450×400·400×70", 450, 400, 70, Op::N, Op::N, 1.0, 0.0),
        (
            "420×256·(64×256)ᵀ, beta 1",
            420,
            256,
            64,
            Op::N,
            Op::T,
            0.5,
            1.0,
        ),
        ("(300×150)ᵀ·300×256", 150, 300, 256, Op::T, Op::N, 1.0, 0.0),
        (
            "(193×3)ᵀ·(5×193)ᵀ, beta 0.5",
            3,
            193,
            5,
            Op::T,
            Op::T,
            -1.0,
            0.5,
        ),
        ("k = 0, beta 0.5", 4, 0, 6, Op::N, Op::N, 1.0, 0.5),
    ];
    for (case, m, k, n, op_a, op_b, alpha, beta) in shapes {
        let a = values::<T>(m * k, 30);
        let b = values::<T>(k * n, 31);
        let mut c = values::<T>(m * n, 32);
        let expect = reference_gemm(&c, &a, op_a, &b, op_b, (m, k, n), alpha, beta);
        let (alpha_t, beta_t) = (T::from_f64(alpha), T::from_f64(beta));
        audit.call("gemm", case, || {
            gemm(&mut c, &a, op_a, &b, op_b, m, k, n, alpha_t, beta_t)
        });
        // Each product term is at most 1 in size: k rounding errors of ~ε each at worst.
        let tol = 4.0 * (k.max(1) as f64) * f64::from(f32::EPSILON);
        for (got, want) in c.iter().zip(&expect) {
            assert!(
                (got.to_f64() - want).abs() <= tol,
                "{case}: {got:?} vs {want}"
            );
        }
    }
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
    // A "kernel" that allocates is caught and named.
    let mut audit = Audit::new::<f32>();
    audit.call("scratch_on_the_heap", "sabotage", || {
        drop(std::hint::black_box(Vec::<f32>::with_capacity(16)))
    });
    audit.call("relu_forward", "clean", || {
        relu_forward(&mut [0.0f32; 4], &[1.0; 4])
    });
    assert_eq!(audit.allocating, [("scratch_on_the_heap", "sabotage", 1)]);
    let caught = std::panic::catch_unwind(|| audit.assert_clean(&[]));
    assert!(caught.is_err(), "an allocating call must fail the audit");
}

#[test]
fn other_threads_allocations_are_not_counted() {
    use std::sync::{Arc, Barrier};
    // Two rendezvous: the other thread allocates only between them, while this one is armed.
    let (start, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let (start2, done2) = (Arc::clone(&start), Arc::clone(&done));
    let other = std::thread::spawn(move || {
        start2.wait();
        for n in 1..100 {
            drop(std::hint::black_box(vec![0u8; n]));
        }
        done2.wait();
    });
    let n = allocations_in(|| {
        start.wait();
        done.wait();
    });
    other.join().expect("the allocating thread finishes");
    assert_eq!(n, 0, "allocations of another thread were counted");
}

/// Every kernel of [`EVERY_KERNEL`] in precision `T`, each call counted on its own.
fn audit_every_kernel<T: Real>() {
    let mut audit = Audit::new::<T>();
    elementwise_kernels::<T>(&mut audit);
    norm_kernels::<T>(&mut audit);
    linear_kernels::<T>(&mut audit);
    conv_kernels::<T>(&mut audit);
    attention_kernels::<T>(&mut audit);
    sequence_and_loss_kernels::<T>(&mut audit);
    gemm_kernel::<T>(&mut audit);
    audit.assert_clean(EVERY_KERNEL);
}

#[test]
fn no_kernel_allocates_in_f32() {
    audit_every_kernel::<f32>();
}

#[test]
fn no_kernel_allocates_in_f64() {
    audit_every_kernel::<f64>();
}

/// The raw strided entry points, writing `C` column-major (`rsc = 1, csc = m`: the stack-tile
/// path for non-unit column strides) with `k` over two blocks.
#[test]
fn raw_gemm_entry_points_do_not_allocate() {
    let (m, k, n) = (37, 200, 45);
    let mut audit = Audit::new::<f32>();
    let (a32, b32) = (values::<f32>(m * k, 33), values::<f32>(n * k, 34));
    let (a64, b64) = (values::<f64>(m * k, 33), values::<f64>(n * k, 34));
    // C = A·Bᵀ with B stored (n, k); the references are row-major, C is stored transposed.
    let expect32 = reference_gemm::<f32>(&[], &a32, Op::N, &b32, Op::T, (m, k, n), 1.0, 0.0);
    let expect64 = reference_gemm::<f64>(&[], &a64, Op::N, &b64, Op::T, (m, k, n), 1.0, 0.0);
    let (mut c32, mut c64) = (vec![f32::NAN; m * n], vec![f64::NAN; m * n]);
    audit.call("sgemm_raw", "C column-major, B transposed", || {
        // SAFETY: A (m, k) row-major, B read as (k, n) from its (n, k) storage, C (n, m) storage
        // read as (m, n): every index < m·k, n·k, m·n respectively; C is a separate buffer.
        unsafe {
            sgemm_raw(
                m,
                k,
                n,
                1.0,
                a32.as_ptr(),
                k as isize,
                1,
                b32.as_ptr(),
                1,
                k as isize,
                0.0,
                c32.as_mut_ptr(),
                1,
                m as isize,
            )
        }
    });
    audit.call("dgemm_raw", "C column-major, B transposed", || {
        // SAFETY: as for `sgemm_raw` just above.
        unsafe {
            dgemm_raw(
                m,
                k,
                n,
                1.0,
                a64.as_ptr(),
                k as isize,
                1,
                b64.as_ptr(),
                1,
                k as isize,
                0.0,
                c64.as_mut_ptr(),
                1,
                m as isize,
            )
        }
    });
    audit.assert_clean(&["sgemm_raw", "dgemm_raw"]);
    for i in 0..m {
        for j in 0..n {
            let (want32, want64) = (expect32[i * n + j], expect64[i * n + j]);
            assert!(
                (f64::from(c32[j * m + i]) - want32).abs() < 1e-4,
                "f32 ({i}, {j})"
            );
            assert!((c64[j * m + i] - want64).abs() < 1e-10, "f64 ({i}, {j})");
        }
    }
}
