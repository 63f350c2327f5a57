//! Deploy-time folds, tests only: each fold checked through the runtime's own kernels (linear,
//! layer norm, conv1d, depthwise conv, batch norm), so the folded weights are shown to have the
//! layouts those kernels read — not only the layouts of the plain-loop references.

use std::vec;
use std::vec::Vec;

use super::reference::{assert_outputs_match, rand_scales, rand_vec};
use super::*;
use crate::kernels::batch_norm::{BatchNormDims, batch_norm_forward_eval};
use crate::kernels::conv1d::{Conv1dDims, conv1d_forward, depthwise_conv1d_forward};
use crate::kernels::layer_norm::{LayerNormDims, layer_norm_forward};
use crate::kernels::linear::{LinearDims, linear_forward};
use crate::testing::Rng;

fn run_linear(x: &[f32], w: &[f32], b: Option<&[f32]>, out: usize, inp: usize) -> Vec<f32> {
    let rows = x.len() / inp;
    let mut y = vec![0.0f32; rows * out];
    linear_forward(
        &mut y,
        x,
        w,
        b,
        LinearDims {
            rows,
            in_dim: inp,
            out_dim: out,
        },
    );
    y
}

fn run_layer_norm(x: &[f32], gamma: &[f32], beta: &[f32]) -> Vec<f32> {
    let dims = LayerNormDims::new(x.len() / gamma.len(), gamma.len());
    let (mut y, mut mean, mut rstd) = (
        vec![0.0; x.len()],
        vec![0.0; dims.rows],
        vec![0.0; dims.rows],
    );
    layer_norm_forward(&mut y, &mut mean, &mut rstd, x, gamma, beta, dims);
    y
}

#[test]
fn hrf_and_layer_norm_folds_through_runtime_kernels() {
    // Pre-LN FFN branch with a 2-layer HRF chain: LN(γ, β) → H₁ → H₂ → W1'. Folding LN into H₁
    // and then the chain into W1' leaves LN(1, 0) → W1.
    let (d, m, f, rows) = (6, 16, 10, 7);
    let mut rng = Rng::new(61);
    let gamma = rand_scales(&mut rng, d, 0.3, 3.0);
    let beta = rand_vec(&mut rng, d, 1.0);
    let h1 = rand_vec(&mut rng, m * d, 2.0 / (d as f64).sqrt());
    let bh1 = rand_vec(&mut rng, m, 0.5);
    let h2 = rand_vec(&mut rng, m * m, 2.0 / (m as f64).sqrt());
    let w1 = rand_vec(&mut rng, f * m, 2.0 / (m as f64).sqrt());
    let b1 = rand_vec(&mut rng, f, 0.5);
    let x: Vec<f32> = rand_vec(&mut rng, rows * d, 2.0)
        .iter()
        .map(|v| v - 1.0)
        .collect();

    let mut before = run_layer_norm(&x, &gamma, &beta);
    before = run_linear(&before, &h1, Some(&bh1), m, d);
    before = run_linear(&before, &h2, None, m, m);
    before = run_linear(&before, &w1, Some(&b1), f, m);

    let norm = LayerNormRef {
        name: "ln_ffn",
        gamma: &gamma,
        beta: &beta,
    };
    let h1_ln =
        fold_layer_norm_into_linear(norm, &[LinearRef::new("hrf.0", &h1, Some(&bh1), m, d)])
            .unwrap()
            .remove(0);
    let chain = [
        LinearRef::new("hrf.0", &h1_ln.weight, Some(&h1_ln.bias), m, d),
        LinearRef::new("hrf.1", &h2, None, m, m),
    ];
    let folded = fold_hrf_into_ffn(&chain, LinearRef::new("ffn.w1", &w1, Some(&b1), f, m)).unwrap();
    let plain = run_layer_norm(&x, &vec![1.0; d], &vec![0.0; d]);
    let after = run_linear(&plain, &folded.weight, Some(&folded.bias), f, d);
    assert_outputs_match("LN → HRF×2 → W1 via kernels", &before, &after);
}

#[test]
fn batch_norm_fold_through_runtime_kernels() {
    // Conformer conv module: depthwise conv (k = 7, 'same') → eval BatchNorm, padded utterance.
    let (c, k, frames, len) = (5, 7, 12, 9);
    let mut rng = Rng::new(62);
    let w = rand_vec(&mut rng, c * k, 1.0);
    let b = rand_vec(&mut rng, c, 0.5);
    let gamma = rand_scales(&mut rng, c, 0.3, 3.0);
    let beta = rand_vec(&mut rng, c, 1.0);
    let mean = rand_vec(&mut rng, c, 2.0);
    let var: Vec<f32> = rand_vec(&mut rng, c, 1.0)
        .iter()
        .map(|v| 0.05 + 4.0 * v * v)
        .collect();
    let dims = Conv1dDims {
        frames,
        channels_in: c,
        channels_out: c,
        kernel: k,
        stride: 1,
        padding: k / 2,
    };
    let mut x = rand_vec(&mut rng, frames * c, 1.0);
    x[len * c..].fill(1e3);

    let mut conv_out = vec![0.0f32; dims.out_frames() * c];
    depthwise_conv1d_forward(&mut conv_out, &x, len, &w, Some(&b), dims);
    let bn_dims = BatchNormDims::new(dims.out_frames(), c);
    let mut before = vec![0.0f32; conv_out.len()];
    let out_len = [dims.out_len(len)];
    batch_norm_forward_eval(
        &mut before,
        &conv_out,
        &gamma,
        &beta,
        &mean,
        &var,
        &out_len,
        bn_dims,
    );

    let conv = ConvRef {
        name: "conv.dw",
        weight: &w,
        bias: Some(&b),
        channels_out: c,
        in_per_group: 1,
        kernel: k,
    };
    let bn = BatchNormRef {
        name: "conv.bn",
        gamma: &gamma,
        beta: &beta,
        running_mean: &mean,
        running_var: &var,
        eps: bn_dims.eps,
    };
    let folded = fold_batch_norm_into_conv(conv, bn).unwrap();
    let mut after = vec![0.0f32; conv_out.len()];
    depthwise_conv1d_forward(
        &mut after,
        &x,
        len,
        &folded.weight,
        Some(&folded.bias),
        dims,
    );
    assert_outputs_match("depthwise → BN via kernels", &before, &after);
}

#[test]
fn feature_stats_fold_through_runtime_conv() {
    // Frontend conv k = 3, stride 2, padding 1 on a padded utterance: fold + edge correction.
    let (feat, c_out, frames, len) = (8, 6, 15, 11);
    let mut rng = Rng::new(63);
    let mean: Vec<f32> = rand_vec(&mut rng, feat, 3.0)
        .iter()
        .map(|m| m - 6.0)
        .collect();
    let std: Vec<f32> = rand_scales(&mut rng, feat, 0.3, 3.0)
        .iter()
        .map(|s| s.abs())
        .collect();
    let w = rand_vec(&mut rng, c_out * feat * 3, 0.3);
    let b = rand_vec(&mut rng, c_out, 0.5);
    let dims = Conv1dDims {
        frames,
        channels_in: feat,
        channels_out: c_out,
        kernel: 3,
        stride: 2,
        padding: 1,
    };
    let x: Vec<f32> = rand_vec(&mut rng, frames * feat, 2.0)
        .iter()
        .enumerate()
        .map(|(i, z)| mean[i % feat] + std[i % feat] * z)
        .collect();
    let xn: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| (v - mean[i % feat]) / std[i % feat])
        .collect();

    let mut cols = vec![0.0f32; dims.scratch_len()];
    let mut before = vec![0.0f32; dims.out_frames() * c_out];
    conv1d_forward(&mut before, &mut cols, &xn, len, &w, Some(&b), dims);

    let stats = FeatureStatsRef {
        name: "feature_stats",
        mean: &mean,
        std: &std,
    };
    let conv = ConvRef {
        name: "frontend.0",
        weight: &w,
        bias: Some(&b),
        channels_out: c_out,
        in_per_group: feat,
        kernel: 3,
    };
    let folded = fold_feature_stats_into_input(stats, conv).unwrap();
    let mut after = vec![0.0f32; before.len()];
    conv1d_forward(
        &mut after,
        &mut cols,
        &x,
        len,
        &folded.conv.weight,
        Some(&folded.conv.bias),
        dims,
    );
    correct_input_conv_edges(&mut after, &folded.edge_bias, len, dims);
    assert_outputs_match("CMVN → conv via kernels", &before, &after);
}

#[test]
fn fused_qkv_through_runtime_linear() {
    // The fused projection's output is the packed (t, 3·d) buffer of kernels/attention.rs with
    // q pre-scaled by 1/√dₕ.
    let (d_in, d, heads, t) = (5, 8, 4, 6);
    let mut rng = Rng::new(64);
    let w: Vec<Vec<f32>> = (0..3).map(|_| rand_vec(&mut rng, d * d_in, 1.0)).collect();
    let b: Vec<Vec<f32>> = (0..3).map(|_| rand_vec(&mut rng, d, 0.5)).collect();
    let x = rand_vec(&mut rng, t * d_in, 1.0);
    let scale = 1.0 / ((d / heads) as f32).sqrt();
    let parts: Vec<Vec<f32>> = (0..3)
        .map(|i| run_linear(&x, &w[i], Some(&b[i]), d, d_in))
        .collect();
    let mut before = Vec::with_capacity(t * 3 * d);
    for row in 0..t {
        before.extend(parts[0][row * d..(row + 1) * d].iter().map(|q| q * scale));
        before.extend_from_slice(&parts[1][row * d..(row + 1) * d]);
        before.extend_from_slice(&parts[2][row * d..(row + 1) * d]);
    }
    let l = |i: usize| LinearRef::new("attn", &w[i], Some(&b[i]), d, d_in);
    let fused = fuse_qkv(l(0), l(1), l(2), heads).unwrap();
    let after = run_linear(&x, &fused.weight, Some(&fused.bias), 3 * d, d_in);
    assert_outputs_match("packed qkv via kernels", &before, &after);
}
