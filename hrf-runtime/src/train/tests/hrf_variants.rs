//! The HRF variants (`hrf: { init, decay, lr_scale }`): the identity and balanced starts give
//! their intended merged W1, the merged penalty's gradient matches finite differences, and the
//! optimizer's parameter groups (decay flags, learning-rate scales) do what the keys say.

use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::super::hrf_variant::{IDENTITY_NOISE, hrf_chains, orthonormal_columns, svd, target_w1};
use super::super::slots::{LinearSlots, SplitMix64, init_params};
use super::super::{Mode, Optimizer, OptimizerConfig, TrainModel};
use super::{TINY_CONFORMER, TINY_CONV_TRANSFORMER, batch_of, plan, random_utterances};
use crate::plan::ModelPlan;
use crate::testing::{Rng, check_gradient};

/// `spec` with its (every) `hrf: { expand: 2 … }` map extended by `keys`.
fn variant(spec: &str, keys: &str) -> String {
    let out = spec
        .replace(
            "hrf: { expand: 2 }",
            &format!("hrf: {{ expand: 2, {keys} }}"),
        )
        .replace(
            "hrf: { expand: 2, depth: 2 }",
            &format!("hrf: {{ expand: 2, depth: 2, {keys} }}"),
        );
    assert_ne!(out, spec, "the spec has an HRF map to extend");
    out
}

/// Row-major `a (n × k) · b (k × m)`.
fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * m];
    for i in 0..n {
        for p in 0..k {
            let x = a[i * k + p];
            for j in 0..m {
                c[i * m + j] += x * b[p * m + j];
            }
        }
    }
    c
}

fn transpose(a: &[f64], n: usize, m: usize) -> Vec<f64> {
    let mut t = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            t[j * n + i] = a[i * m + j];
        }
    }
    t
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// `W1'·H_k·…·H_1` (weights only): (f × d).
fn merged(params: &[f64], layers: &[LinearSlots]) -> Vec<f64> {
    let mut e = params[layers[0].weight.clone()].to_vec();
    for l in &layers[1..] {
        e = matmul(
            &params[l.weight.clone()],
            &e,
            l.out_dim,
            l.in_dim,
            layers[0].in_dim,
        );
    }
    e
}

/// The seed every model of these tests is built with.
const SEED: u64 = 17;

/// The chains of a freshly initialised f64 model, with its params.
/// Each chain's layers (`H_1 … H_k, W1'`) and W1''s slot index.
type Chains = Vec<(Vec<LinearSlots>, usize)>;

fn fresh(yaml: &str) -> (&'static ModelPlan, Vec<f64>, Chains) {
    let plan = plan(yaml);
    let model = TrainModel::<f64>::new(plan, SEED);
    let chains = hrf_chains::<f64>(plan).expect("chains resolve");
    let info = chains
        .iter()
        .map(|c| (c.layers.clone(), c.weight_slot[c.layers.len() - 1]))
        .collect();
    (plan, model.params().to_vec(), info)
}

/// `init: default` (written out or not) leaves every weight exactly as `init_params` draws it.
#[test]
fn the_default_init_is_the_plain_draw() {
    for (yaml, keys) in [
        (TINY_CONV_TRANSFORMER, "init: default"),
        (TINY_CONFORMER, "init: default, decay: merged, lr_scale: 3"),
    ] {
        for spec in [String::from(yaml), variant(yaml, keys)] {
            let plan = plan(&spec);
            let model = TrainModel::<f64>::new(plan, SEED);
            let mut want = vec![0.0; plan.train.params_len()];
            init_params(plan, &mut want, SEED);
            assert!(model.params() == &want[..], "{keys}");
        }
    }
}

/// Identity: `H_1 = [I; 0]`, inner `H_j = I`, `W1'[:, :d]` = the standard W1 draw, all within
/// the documented noise; so the merged W1 equals that draw to within the noise, and the draw has
/// the plain model's W1 distribution (uniform ±1/√d).
#[test]
fn identity_init_merges_to_the_plain_w1_draw() {
    for yaml in [TINY_CONV_TRANSFORMER, TINY_CONFORMER] {
        let (plan, params, chains) = fresh(&variant(yaml, "init: identity"));
        assert!(!chains.is_empty());
        for (layers, w1_slot) in &chains {
            let last = layers.len() - 1;
            let (d, f) = (layers[0].in_dim, layers[last].out_dim);
            let target = target_w1(SEED, *w1_slot, f, d);
            let bound = 1.0 / (d as f64).sqrt();
            for l in &layers[..last] {
                let w = &params[l.weight.clone()];
                let noise = IDENTITY_NOISE / (l.in_dim as f64).sqrt();
                for r in 0..l.out_dim {
                    for c in 0..l.in_dim {
                        let eye = if r == c { 1.0 } else { 0.0 };
                        assert!((w[r * l.in_dim + c] - eye).abs() <= noise, "{}", plan.name);
                    }
                }
            }
            let w1 = &layers[last];
            let w = &params[w1.weight.clone()];
            let noise = IDENTITY_NOISE / (w1.in_dim as f64).sqrt();
            for r in 0..f {
                assert_eq!(
                    &w[r * w1.in_dim..r * w1.in_dim + d],
                    &target[r * d..(r + 1) * d]
                );
                assert!(
                    w[r * w1.in_dim + d..(r + 1) * w1.in_dim]
                        .iter()
                        .all(|v| v.abs() <= noise)
                );
            }
            let e = merged(&params, layers);
            let err = max_abs_diff(&e, &target);
            // First-order noise terms: W1·N (d terms of ≤ bound·1e-3/√d) and the same for the
            // padding columns, per factor.
            assert!(
                err <= 4.0 * layers.len() as f64 * IDENTITY_NOISE * bound,
                "{err}"
            );
            assert!(err > 0.0, "the noise is there");
            // The target is the plain model's draw: |w| < 1/√d, std ≈ 1/√(3d).
            assert!(target.iter().all(|v| v.abs() < bound));
            let std = (target.iter().map(|v| v * v).sum::<f64>() / target.len() as f64).sqrt();
            let want = bound / 3f64.sqrt();
            assert!((std / want - 1.0).abs() < 0.15, "std {std} vs {want}");
        }
    }
}

/// Balanced: the product is exactly the standard W1 draw, every adjacent pair satisfies
/// `L_{j+1}ᵀL_{j+1} = L_j·L_jᵀ`, and all factors have the same Frobenius norm (equal spectra).
#[test]
fn balanced_init_is_balanced_and_merges_to_the_plain_w1_draw() {
    for yaml in [TINY_CONV_TRANSFORMER, TINY_CONFORMER] {
        let (_, params, chains) = fresh(&variant(yaml, "init: balanced"));
        for (layers, w1_slot) in &chains {
            let last = layers.len() - 1;
            let (d, f) = (layers[0].in_dim, layers[last].out_dim);
            let target = target_w1(SEED, *w1_slot, f, d);
            let e = merged(&params, layers);
            assert!(max_abs_diff(&e, &target) < 1e-12, "merged product");
            for j in 0..last {
                let (lo, hi) = (&layers[j], &layers[j + 1]);
                let a = &params[lo.weight.clone()];
                let b = &params[hi.weight.clone()];
                let aat = matmul(
                    a,
                    &transpose(a, lo.out_dim, lo.in_dim),
                    lo.out_dim,
                    lo.in_dim,
                    lo.out_dim,
                );
                let btb = matmul(
                    &transpose(b, hi.out_dim, hi.in_dim),
                    b,
                    hi.in_dim,
                    hi.out_dim,
                    hi.in_dim,
                );
                let err = max_abs_diff(&aat, &btb);
                assert!(err < 1e-12, "balancedness of factors {j}, {}: {err}", j + 1);
            }
            let norms: Vec<f64> = layers
                .iter()
                .map(|l| {
                    params[l.weight.clone()]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f64>()
                        .sqrt()
                })
                .collect();
            for n in &norms {
                assert!((n / norms[0] - 1.0).abs() < 1e-10, "{norms:?}");
            }
        }
    }
}

/// The Jacobi SVD reconstructs tall and wide matrices with orthonormal U and V.
#[test]
fn jacobi_svd_reconstructs_with_orthonormal_factors() {
    for (rows, cols) in [(7, 4), (4, 7), (16, 8), (5, 5)] {
        let mut rng = Rng::new(rows as u64 * 31 + cols as u64);
        let a = rng.vec(rows * cols, 1.0);
        let (u, s, v) = svd(&a, rows, cols);
        let r = rows.min(cols);
        assert_eq!((u.len(), s.len(), v.len()), (rows * r, r, cols * r));
        let mut us = u.clone();
        for i in 0..rows {
            for j in 0..r {
                us[i * r + j] *= s[j];
            }
        }
        let back = matmul(&us, &transpose(&v, cols, r), rows, r, cols);
        assert!(max_abs_diff(&back, &a) < 1e-12, "{rows}×{cols}");
        let eye: Vec<f64> = (0..r * r)
            .map(|k| if k / r == k % r { 1.0 } else { 0.0 })
            .collect();
        assert!(max_abs_diff(&matmul(&transpose(&u, rows, r), &u, r, rows, r), &eye) < 1e-12);
        assert!(max_abs_diff(&matmul(&transpose(&v, cols, r), &v, r, cols, r), &eye) < 1e-12);
    }
    let mut rng = SplitMix64::new(3);
    let q = orthonormal_columns(&mut rng, 9, 4);
    let eye: Vec<f64> = (0..16)
        .map(|k| if k / 4 == k % 4 { 1.0 } else { 0.0 })
        .collect();
    assert!(max_abs_diff(&matmul(&transpose(&q, 9, 4), &q, 4, 9, 4), &eye) < 1e-13);
}

/// `decay: merged`: the gradient `add_merged_decay` accumulates is that of its penalty
/// `λ/2·Σ‖W1'·H_k·…·H_1‖²`, for every param (zero off the chains' weights), at depth 1 and 2.
#[test]
fn merged_decay_gradient_matches_finite_differences() {
    const LAMBDA: f64 = 0.7;
    for yaml in [TINY_CONV_TRANSFORMER, TINY_CONFORMER] {
        let plan = plan(&variant(yaml, "decay: merged"));
        let mut model = TrainModel::<f64>::new(plan, SEED);
        let mut rng = Rng::new(5);
        for p in model.params_mut() {
            *p += 0.3 * rng.uniform();
        }
        model.zero_grads();
        let penalty = model.add_merged_decay(LAMBDA);
        assert!(penalty > 0.0);
        let analytic = model.grads().to_vec();
        assert!(analytic.iter().any(|g| g.abs() > 1e-3));
        let mut params = model.params().to_vec();
        check_gradient(plan.name, &mut params, &analytic, 1e-7, |x| {
            model.params_mut().copy_from_slice(x);
            model.zero_grads();
            model.add_merged_decay(LAMBDA)
        });
        // Depth 1 by hand: dW1' = λ(W1'H)Hᵀ, dH = λW1'ᵀ(W1'H).
        if yaml == TINY_CONV_TRANSFORMER {
            let chains = hrf_chains::<f64>(plan).expect("chains");
            let [h, w1] = &chains[0].layers[..] else {
                panic!("depth 1")
            };
            let p = &params;
            let e = merged(p, &chains[0].layers);
            let (hw, ww) = (&p[h.weight.clone()], &p[w1.weight.clone()]);
            let dw1 = matmul(
                &e,
                &transpose(hw, h.out_dim, h.in_dim),
                w1.out_dim,
                h.in_dim,
                h.out_dim,
            );
            let dh = matmul(
                &transpose(ww, w1.out_dim, w1.in_dim),
                &e,
                w1.in_dim,
                w1.out_dim,
                h.in_dim,
            );
            let scaled = |v: Vec<f64>| v.into_iter().map(|x| LAMBDA * x).collect::<Vec<_>>();
            assert!(max_abs_diff(&analytic[w1.weight.clone()], &scaled(dw1)) < 1e-12);
            assert!(max_abs_diff(&analytic[h.weight.clone()], &scaled(dh)) < 1e-12);
        }
    }
}

fn config() -> OptimizerConfig {
    OptimizerConfig {
        peak_lr: 3e-3,
        warmup_steps: 0,
        ..OptimizerConfig::new(10)
    }
}

/// One forward/backward/step on a fixed batch; returns the params after it.
fn one_step(yaml: &str) -> (&'static ModelPlan, Vec<f32>, Vec<f32>) {
    let plan = plan(yaml);
    let mut model = TrainModel::<f32>::new(plan, SEED);
    let before = model.params().to_vec();
    let mut opt = Optimizer::new(&model, config()).expect("optimizer");
    let utts = random_utterances(plan, &[20, 33], 9);
    let batch = batch_of(plan, &utts, &[0, 2]);
    model.forward(&batch, Mode::Eval).expect("forward");
    model.backward().expect("backward");
    opt.step(&mut model).expect("step");
    (plan, before, model.params().to_vec())
}

/// Whether param slot `name` belongs to an HRF chain (`*.hrf.*` or `*.w1.*` of an HRF FFN).
fn in_chain(name: &str) -> bool {
    name.contains(".hrf.") || name.contains(".w1.")
}

/// `lr_scale: 0` freezes every param of the chains (weights, biases, decay included) while the
/// rest trains; `lr_scale: 2` makes the chains' first AdamW step exactly twice scale 1's and
/// leaves every other param's step bit-identical.
#[test]
fn lr_scale_scales_the_chains_steps_only() {
    for yaml in [TINY_CONV_TRANSFORMER, TINY_CONFORMER] {
        let (plan, before, frozen) = one_step(&variant(yaml, "lr_scale: 0"));
        let (_, _, one) = one_step(yaml);
        let (_, _, two) = one_step(&variant(yaml, "lr_scale: 2"));
        let mut chain_slots = 0;
        for slot in plan.train.params {
            let r = slot.range();
            if in_chain(slot.name) {
                chain_slots += 1;
                assert_eq!(
                    &frozen[r.clone()],
                    &before[r.clone()],
                    "{} frozen",
                    slot.name
                );
                for i in r {
                    let (d1, d2) = (
                        one[i] as f64 - before[i] as f64,
                        two[i] as f64 - before[i] as f64,
                    );
                    assert!(
                        (d2 - 2.0 * d1).abs() <= 1e-6 * before[i].abs().max(1.0) as f64,
                        "{}[{i}]: step {d2} vs 2·{d1}",
                        slot.name
                    );
                }
            } else {
                assert_eq!(
                    &two[r.clone()],
                    &one[r.clone()],
                    "{} unchanged by the scale",
                    slot.name
                );
                assert_eq!(&frozen[r.clone()], &one[r.clone()], "{}", slot.name);
            }
        }
        assert!(chain_slots > 0);
        // The rest trains: the classifier and every FFN's W2 moved.
        for slot in plan.train.params {
            if slot.name == "classifier.weight" || slot.name.ends_with(".w2.weight") {
                assert_ne!(
                    &frozen[slot.range()],
                    &before[slot.range()],
                    "{} moved",
                    slot.name
                );
            }
        }
    }
}

/// `decay: merged` takes the chains' factors out of AdamW's decoupled decay (the other weights
/// keep it), and its penalty enters the step: with zero data gradients, one step moves a factor
/// by Adam's normalised step of the penalty gradient (≈ lr), not by `lr·wd·p`.
#[test]
fn merged_decay_replaces_the_factors_decoupled_decay() {
    let spec = variant(TINY_CONV_TRANSFORMER, "decay: merged");
    for yaml in [TINY_CONV_TRANSFORMER, spec.as_str()] {
        let plan = plan(yaml);
        let merged = yaml != TINY_CONV_TRANSFORMER;
        let mut model = TrainModel::<f32>::new(plan, SEED);
        let before = model.params().to_vec();
        let mut opt = Optimizer::new(&model, config()).expect("optimizer");
        let wd = config().adamw.weight_decay;
        // No forward/backward: the only gradient is the merged penalty's (if any).
        model.zero_grads();
        let lr = opt.step(&mut model).expect("step").lr;
        let after = model.params();
        for slot in plan.train.params {
            if !(slot.name.ends_with(".weight") && slot.shape.len() >= 2) {
                continue;
            }
            let r = slot.range();
            let decayed: Vec<f32> = before[r.clone()]
                .iter()
                .map(|p| p * (1.0 - lr * wd))
                .collect();
            if merged && in_chain(slot.name) {
                // Adam's first step is ±lr per element (where the penalty gradient is not 0).
                for i in r {
                    let step = (after[i] - before[i]).abs();
                    assert!(step <= lr * 1.0001, "{}[{i}] moved {step}", slot.name);
                }
                let moved = after[slot.range()]
                    .iter()
                    .zip(&before[slot.range()])
                    .filter(|(a, b)| ((**a - **b).abs() - lr).abs() < 1e-3 * lr)
                    .count();
                assert!(
                    moved > slot.len() / 2,
                    "{}: {moved} of {}",
                    slot.name,
                    slot.len()
                );
            } else {
                assert_eq!(&after[r], &decayed[..], "{} decays as before", slot.name);
            }
        }
    }
}
