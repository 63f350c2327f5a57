//! Shared by the folded-inference tests: tiny specs of the three families (HRF on), a seeded
//! random "trained" model far from identity (non-trivial CMVN and BatchNorm statistics), and an
//! UNFOLDED eval-mode reference forward in f64 built from the runtime's kernels.
#![allow(dead_code)]

use hrf_runtime::kernels::activation::{activation_forward, swish_forward};
use hrf_runtime::kernels::attention::{AttentionDims, attention_forward};
use hrf_runtime::kernels::batch_norm::{BatchNormDims, batch_norm_forward_eval};
use hrf_runtime::kernels::conv1d::{Conv1dDims, conv1d_forward, depthwise_conv1d_forward};
use hrf_runtime::kernels::glu::{GluDims, glu_forward};
use hrf_runtime::kernels::layer_norm::{LayerNormDims, layer_norm_forward};
use hrf_runtime::kernels::linear::{LinearDims, linear_forward};
use hrf_runtime::kernels::merge::{MergeDims, merge_forward, merged_len};
use hrf_runtime::kernels::pooling::{PoolDims, mean_pool_forward};
use hrf_runtime::kernels::positions::sinusoidal_table;
use hrf_runtime::plan::{ModelPlan, PlanOp, SublayerKindPlan};
use hrf_runtime::spec::plan_from_yaml;

/// ConvTransformer: 2 blocks, ReLU FFN with a one-layer HRF, CMVN, two strided convs, final LN.
pub const TINY_CONV_TRANSFORMER: &str = "
name: FoldTinyConvTransformer
input: { features: 6, max_frames: 32 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 2
    block: conv_transformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: relu, hrf: { expand: 2 } }
pool: mean
classes: [a, b, c]
";

/// Conformer: 2 blocks (the first block's closing LN keeps γ/β, the last one's folds into the
/// classifier), Swish FFNs with a depth-2 HRF chain, conv module with depthwise k = 5.
pub const TINY_CONFORMER: &str = "
name: FoldTinyConformer
input: { features: 6, max_frames: 32 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 2
    block: conformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: swish, hrf: { expand: 2, depth: 2 } }
    conv: { kernel: 5 }
pool: mean
classes: [a, b, c]
";

/// SpeechFormer: a windowed stage (w 3), a merge by 2, a global stage; GELU FFNs with HRF.
pub const TINY_SPEECHFORMER: &str = "
name: FoldTinySpeechformer
input: { features: 6, max_frames: 32 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 1
    block: speechformer
    attention: { heads: heads, window: 3 }
    ffn: { hidden: ffn, act: gelu, hrf: { expand: 2 } }
  - merge: { factor: 2, width: d }
  - repeat: 1
    block: speechformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: gelu, hrf: { expand: 2 } }
pool: mean
classes: [a, b, c]
";

pub const ALL_SPECS: [&str; 3] = [TINY_CONV_TRANSFORMER, TINY_CONFORMER, TINY_SPEECHFORMER];

pub fn plan(yaml: &str) -> &'static ModelPlan {
    plan_from_yaml("tiny.yaml", yaml).unwrap_or_else(|e| panic!("tiny spec compiles:\n{e}"))
}

/// SplitMix64: deterministic, dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [−1, 1).
    pub fn sym(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * 0.5 * (self.sym() + 1.0)
    }
}

/// A random trained model: `(params, buffers)` for `plan.train`. Weights ~ U(±√3·1.2/√fan_in)
/// (no identity structure), LN γ ∈ [0.5, 1.5], biases/β ∈ ±0.3, CMVN mean ∈ −5 ± 3 and std ∈
/// [0.3, 3], BatchNorm running mean ∈ ±0.5 and var ∈ [0.3, 2].
pub fn random_train_arenas(plan: &ModelPlan, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let mut params = vec![0.0f32; plan.train.params_len()];
    for slot in plan.train.params {
        let fan_in: usize = slot.shape[1..].iter().product::<usize>().max(1);
        let scale = 1.2 * 3f32.sqrt() / (fan_in as f32).sqrt();
        for v in &mut params[slot.range()] {
            *v = if slot.name.ends_with(".gamma") {
                rng.range(0.5, 1.5)
            } else if slot.name.ends_with(".weight") {
                scale * rng.sym()
            } else {
                0.3 * rng.sym()
            };
        }
    }
    let mut buffers = vec![0.0f32; plan.train.buffers_len()];
    for slot in plan.train.buffers {
        for v in &mut buffers[slot.range()] {
            *v = if slot.name.ends_with(".running_var") {
                rng.range(0.3, 2.0)
            } else if slot.name.ends_with(".running_mean") {
                0.5 * rng.sym()
            } else if slot.name.ends_with(".std") {
                rng.range(0.3, 3.0)
            } else {
                -5.0 + 3.0 * rng.sym()
            };
        }
    }
    (params, buffers)
}

/// Raw log-Mel-like frames `(n, features)` around the CMVN statistics' range.
pub fn random_frames(n: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n * features).map(|_| -5.0 + 4.0 * rng.sym()).collect()
}

/// `‖got − want‖∞ ≤ tol·‖want‖∞`.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    let err = got
        .iter()
        .zip(want)
        .fold(0.0f64, |m, (g, w)| m.max((*g as f64 - w).abs()));
    assert!(
        err <= tol * scale,
        "{what}: max |Δ| = {err:e} > {tol:e}·{scale:e}\n got  {got:?}\n want {want:?}"
    );
}

/// The unfolded model in eval mode, in f64: CMVN, convs, HRF chains, separate Q/K/V with the
/// kernel's 1/√dₕ, LayerNorms with γ/β, eval BatchNorm — exactly the training graph.
pub fn reference_logits(
    plan: &ModelPlan,
    params: &[f32],
    buffers: &[f32],
    frames: &[f32],
) -> Vec<f64> {
    let p = |name: String| -> Vec<f64> {
        let s = plan
            .train
            .param(&name)
            .unwrap_or_else(|| panic!("no param {name}"));
        params[s.range()].iter().map(|&v| v as f64).collect()
    };
    let buf = |name: String| -> Vec<f64> {
        let s = plan
            .train
            .buffer(&name)
            .unwrap_or_else(|| panic!("no buffer {name}"));
        buffers[s.range()].iter().map(|&v| v as f64).collect()
    };
    let linear = |x: &[f64], rows: usize, name: &str, inp: usize, out: usize, bias: bool| {
        let mut y = vec![0.0; rows * out];
        let b = bias.then(|| p(format!("{name}.bias")));
        let dims = LinearDims {
            rows,
            in_dim: inp,
            out_dim: out,
        };
        linear_forward(&mut y, x, &p(format!("{name}.weight")), b.as_deref(), dims);
        y
    };
    let layer_norm = |x: &[f64], rows: usize, d: usize, name: &str| {
        let mut y = vec![0.0; rows * d];
        let (mut mu, mut rs) = (vec![0.0; rows], vec![0.0; rows]);
        let (g, b) = (p(format!("{name}.gamma")), p(format!("{name}.beta")));
        layer_norm_forward(
            &mut y,
            &mut mu,
            &mut rs,
            x,
            &g,
            &b,
            LayerNormDims::new(rows, d),
        );
        y
    };
    let mut width = plan.features;
    let mut len = frames.len() / width;
    let mut x: Vec<f64> = frames.iter().map(|&v| v as f64).collect();
    let mut pooled = Vec::new();
    let mut logits = Vec::new();
    for op in plan.ops {
        match op {
            PlanOp::FeatureNorm { name, features } => {
                let (m, s) = (buf(format!("{name}.mean")), buf(format!("{name}.std")));
                for (i, v) in x.iter_mut().enumerate() {
                    *v = (*v - m[i % features]) / s[i % features];
                }
            }
            PlanOp::ConvSubsample(c) => {
                let dims = Conv1dDims {
                    frames: len,
                    channels_in: c.in_channels,
                    channels_out: c.out_channels,
                    kernel: c.kernel,
                    stride: c.stride,
                    padding: c.padding,
                };
                let n_out = dims.out_len(len);
                let mut y = vec![0.0; n_out * c.out_channels];
                let mut cols = vec![0.0; dims.scratch_len()];
                let (w, b) = (
                    p(format!("{}.weight", c.name)),
                    p(format!("{}.bias", c.name)),
                );
                conv1d_forward(&mut y, &mut cols, &x, len, &w, Some(&b), dims);
                x = y.iter().map(|v| v.max(0.0)).collect();
                (len, width) = (n_out, c.out_channels);
            }
            PlanOp::Positions { width: d } => {
                let mut table = vec![0.0; len * d];
                sinusoidal_table(&mut table, *d);
                x.iter_mut().zip(&table).for_each(|(v, pe)| *v += pe);
            }
            PlanOp::Block(b) => {
                let d = b.width;
                for sub in b.sublayers {
                    let name = sub.name;
                    let h = layer_norm(&x, len, d, &format!("{name}.norm"));
                    let y = match &sub.kind {
                        SublayerKindPlan::Ffn(f) => {
                            let mut u = h;
                            let mut inp = d;
                            if let Some(hrf) = &f.hrf {
                                for j in 0..hrf.depth {
                                    u = linear(
                                        &u,
                                        len,
                                        &format!("{name}.hrf.{j}"),
                                        inp,
                                        hrf.inner,
                                        hrf.bias,
                                    );
                                    inp = hrf.inner;
                                }
                            }
                            let z = linear(&u, len, &format!("{name}.w1"), inp, f.hidden, true);
                            let mut a = vec![0.0; z.len()];
                            activation_forward(f.act, &mut a, &z);
                            linear(&a, len, &format!("{name}.w2"), f.hidden, d, true)
                        }
                        SublayerKindPlan::Attention(a) => {
                            let q = linear(&h, len, &format!("{name}.q"), d, d, true);
                            let k = linear(&h, len, &format!("{name}.k"), d, d, true);
                            let v = linear(&h, len, &format!("{name}.v"), d, d, true);
                            let mut qkv = Vec::with_capacity(len * 3 * d);
                            for t in 0..len {
                                for part in [&q, &k, &v] {
                                    qkv.extend_from_slice(&part[t * d..(t + 1) * d]);
                                }
                            }
                            let dims = AttentionDims {
                                frames: len,
                                d,
                                heads: a.heads,
                                window: a.window,
                                q_prescaled: false,
                            };
                            let mut ctx = vec![0.0; len * d];
                            let mut probs = vec![0.0; dims.probs_len()];
                            attention_forward(&mut ctx, &mut probs, &qkv, len, dims);
                            linear(&ctx, len, &format!("{name}.proj"), d, d, true)
                        }
                        SublayerKindPlan::ConvModule { width: w, kernel } => {
                            let w = *w;
                            let z = linear(&h, len, &format!("{name}.pw1"), d, 2 * w, true);
                            let mut g = vec![0.0; len * w];
                            glu_forward(
                                &mut g,
                                &z,
                                GluDims {
                                    rows: len,
                                    channels: w,
                                },
                            );
                            let dims = Conv1dDims {
                                frames: len,
                                channels_in: w,
                                channels_out: w,
                                kernel: *kernel,
                                stride: 1,
                                padding: kernel / 2,
                            };
                            let mut c = vec![0.0; len * w];
                            let dw = p(format!("{name}.dw.weight"));
                            depthwise_conv1d_forward(&mut c, &g, len, &dw, None, dims);
                            let mut bn = vec![0.0; len * w];
                            let bnn = format!("{name}.bn");
                            batch_norm_forward_eval(
                                &mut bn,
                                &c,
                                &p(format!("{bnn}.gamma")),
                                &p(format!("{bnn}.beta")),
                                &buf(format!("{bnn}.running_mean")),
                                &buf(format!("{bnn}.running_var")),
                                &[len],
                                BatchNormDims::new(len, w),
                            );
                            let mut s = vec![0.0; len * w];
                            swish_forward(&mut s, &bn);
                            linear(&s, len, &format!("{name}.pw2"), w, d, true)
                        }
                    };
                    let scale = sub.residual_scale as f64;
                    x.iter_mut().zip(&y).for_each(|(v, y)| *v += scale * y);
                }
                if b.final_norm {
                    x = layer_norm(&x, len, d, &format!("{}.norm", b.name));
                }
                width = d;
            }
            PlanOp::Merge(m) => {
                let out_len = merged_len(len, m.factor);
                let mut y = vec![0.0; out_len * m.in_width];
                let dims = MergeDims {
                    frames: len,
                    d: m.in_width,
                    factor: m.factor,
                };
                merge_forward(&mut y, &x, len, dims);
                let n = layer_norm(&y, out_len, m.in_width, &format!("{}.norm", m.name));
                x = linear(
                    &n,
                    out_len,
                    &format!("{}.proj", m.name),
                    m.in_width,
                    m.out_width,
                    true,
                );
                (len, width) = (out_len, m.out_width);
            }
            PlanOp::FinalNorm { name, width: d } => x = layer_norm(&x, len, *d, name),
            PlanOp::Pool { width: d } => {
                pooled = vec![0.0; *d];
                mean_pool_forward(&mut pooled, &x, len, PoolDims { frames: len, d: *d });
            }
            PlanOp::Classifier {
                name,
                width: d,
                classes,
            } => {
                logits = linear(&pooled, 1, name, *d, *classes, true);
            }
        }
    }
    let _ = width;
    logits
}
