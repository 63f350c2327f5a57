//! The HRF variants of a spec's `hrf: { init, decay, lr_scale }` (README, "HRF variants"): how
//! each chain `H_1 … H_k, W1'` starts, where weight decay acts on it, and its learning rate.
//!
//! - `init: default`: nothing here; `slots::init_params` draws every factor like any linear.
//! - `init: identity` (ExpandNets' and DBB's identity start): `H_1 = [I; 0]` (m × d), every inner
//!   `H_j = I` (m × m), `W1' = [W1, 0]` (f × m), each plus [`IDENTITY_NOISE`] × that slot's own
//!   default draw (uniform `±10⁻³/√fan_in`). `W1` is a standard draw for the plain model's W1,
//!   uniform `±1/√d` ([`target_w1`]), so `W1'·H_k·…·H_1 = W1` up to the noise.
//! - `init: balanced` (Arora, Cohen & Hazan 2018): with `N = k + 1` factors `L_0 = H_1, …,
//!   L_{N−1} = W1'` and the standard draw `W = U·S·Vᵀ` (one-sided Jacobi SVD, [`svd`]),
//!   `L_0 = O_1·S^{1/N}·Vᵀ`, `L_j = O_{j+1}·S^{1/N}·O_jᵀ`, `L_{N−1} = U·S^{1/N}·O_kᵀ`, where each
//!   `O_j` (m × r, r = min(f, d)) has random orthonormal columns (Gram–Schmidt of a uniform
//!   draw): the product is exactly `W` and `L_{j+1}ᵀL_{j+1} = L_j·L_jᵀ = O·S^{2/N}·Oᵀ`.
//!   Biases stay zero for both.
//! - `decay: merged` (RepVGG's custom L2): the chain's factors get no decoupled decay; instead
//!   `λ/2·‖W1'·H_k·…·H_1‖²` (weights only, λ = AdamW's `weight_decay`) is added to the
//!   objective, its gradient `λ·P_iᵀ·E·Q_iᵀ` to each factor (`E` the merged matrix, `P_i`, `Q_i`
//!   the products above and below factor `i`: `λ(W1'H)Hᵀ` and `λW1'ᵀ(W1'H)` for depth 1). It is
//!   added to the gradients before clipping, like any loss term, and not to the reported loss.
//! - `lr_scale: x`: every parameter of the chain (H weights and biases, W1' weight and bias)
//!   trains at `x ×` the scheduled learning rate (its own AdamW parameter group).

use std::format;
use std::vec;
use std::vec::Vec;

use crate::plan::{HrfDecay, HrfInit, HrfPlan, ModelPlan, PlanOp, SublayerKindPlan};
use crate::real::Real;

use super::TrainError;
use super::layers::affine_chain::AffineChain;
use super::slots::{LinearSlots, SlotResolver, SplitMix64};

/// Scale of the noise added to the identity start, relative to a slot's default draw.
pub const IDENTITY_NOISE: f64 = 1e-3;

/// Stream salts: the target W1 and the orthonormal frames draw from streams of their own, so
/// they never reuse a slot's default stream.
const TARGET_SALT: u64 = 0x5EED_0000_7A26_E701;
const FRAME_SALT: u64 = 0x5EED_0000_F2A3_E501;

/// The per-slot stream multiplier of `slots::init_params`.
const SLOT_STREAM: u64 = 0xD1B5_4A32_D192_ED03;

/// One FFN's HRF chain and its W1', resolved against the train table.
pub(crate) struct HrfChain<T> {
    pub hrf: HrfPlan,
    /// `H_1 … H_k`, then `W1'`.
    pub layers: Vec<LinearSlots>,
    /// Index in `plan.train.params` of each layer's weight slot (its init stream).
    pub weight_slot: Vec<usize>,
    /// The chain as one affine map, for the merged penalty.
    chain: AffineChain<T>,
    g: Vec<T>,
    zeros: Vec<T>,
}

/// Every FFN's HRF chain in plan order.
pub(crate) fn hrf_chains<T: Real>(
    plan: &'static ModelPlan,
) -> Result<Vec<HrfChain<T>>, TrainError> {
    let slots = SlotResolver { plan };
    let index = |name: &str| {
        plan.train
            .params
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| TrainError::MissingSlot {
                spec: plan.name,
                table: "param",
                slot: name.into(),
            })
    };
    let mut out = Vec::new();
    for op in plan.ops {
        let PlanOp::Block(b) = op else { continue };
        for s in b.sublayers {
            let SublayerKindPlan::Ffn(f) = &s.kind else {
                continue;
            };
            let Some(h) = f.hrf else { continue };
            let mut layers = Vec::new();
            let mut weight_slot = Vec::new();
            let mut width = f.width;
            for k in 0..h.depth {
                let name = format!("{}.hrf.{k}", s.name);
                layers.push(slots.linear(&name, width, h.inner, h.bias)?);
                weight_slot.push(index(&format!("{name}.weight"))?);
                width = h.inner;
            }
            let w1 = format!("{}.w1", s.name);
            layers.push(slots.linear(&w1, width, f.hidden, true)?);
            weight_slot.push(index(&format!("{w1}.weight"))?);
            out.push(HrfChain {
                hrf: h,
                chain: AffineChain::new(layers.clone()),
                layers,
                weight_slot,
                g: Vec::new(),
                zeros: vec![T::ZERO; f.hidden],
            });
        }
    }
    Ok(out)
}

/// The standard draw of a plain model's W1 (f × d, uniform `±1/√d`, row-major) that the
/// identity and balanced starts reproduce as their merged product; `w1_slot` is W1''s index.
pub(crate) fn target_w1(seed: u64, w1_slot: usize, f: usize, d: usize) -> Vec<f64> {
    let bound = 1.0 / (d.max(1) as f64).sqrt();
    let mut rng = SplitMix64::new(seed ^ (w1_slot as u64).wrapping_mul(SLOT_STREAM) ^ TARGET_SALT);
    (0..f * d).map(|_| bound * rng.uniform()).collect()
}

/// Applies `init: identity` / `init: balanced` over the default draw already in `params`.
pub(crate) fn init_variants<T: Real>(chains: &[HrfChain<T>], params: &mut [T], seed: u64) {
    for c in chains {
        match c.hrf.init {
            HrfInit::Default => {}
            HrfInit::Identity => init_identity(c, params, seed),
            HrfInit::Balanced => init_balanced(c, params, seed),
        }
    }
}

fn init_identity<T: Real>(c: &HrfChain<T>, params: &mut [T], seed: u64) {
    let last = c.layers.len() - 1;
    for l in &c.layers {
        for v in &mut params[l.weight.clone()] {
            *v = T::from_f64(IDENTITY_NOISE * v.to_f64());
        }
    }
    // H_j: ones on the leading diagonal ([I; 0] for H_1, I for the square inner factors).
    for l in &c.layers[..last] {
        let w = &mut params[l.weight.clone()];
        for r in 0..l.in_dim.min(l.out_dim) {
            w[r * l.in_dim + r] += T::ONE;
        }
    }
    // W1' = [W1, noise]: its first d columns are the standard W1 draw.
    let (w1, d) = (&c.layers[last], c.layers[0].in_dim);
    let target = target_w1(seed, c.weight_slot[last], w1.out_dim, d);
    let w = &mut params[w1.weight.clone()];
    for r in 0..w1.out_dim {
        for j in 0..d {
            w[r * w1.in_dim + j] = T::from_f64(target[r * d + j]);
        }
    }
}

fn init_balanced<T: Real>(c: &HrfChain<T>, params: &mut [T], seed: u64) {
    let last = c.layers.len() - 1;
    let (d, f, m) = (c.layers[0].in_dim, c.layers[last].out_dim, c.hrf.inner);
    let target = target_w1(seed, c.weight_slot[last], f, d);
    let (u, sigma, v) = svd(&target, f, d);
    let r = sigma.len();
    let root: Vec<f64> = sigma
        .iter()
        .map(|s| s.powf(1.0 / c.layers.len() as f64))
        .collect();
    // O_1 … O_k: m × r, orthonormal columns, one per HRF factor, from streams of their own.
    let frames: Vec<Vec<f64>> = c.weight_slot[..last]
        .iter()
        .map(|&slot| {
            let mut rng =
                SplitMix64::new(seed ^ (slot as u64).wrapping_mul(SLOT_STREAM) ^ FRAME_SALT);
            orthonormal_columns(&mut rng, m, r)
        })
        .collect();
    // L = left·diag(root)·rightᵀ with left: (out × r), right: (in × r), both row-major.
    let set = |params: &mut [T], l: &LinearSlots, left: &[f64], right: &[f64]| {
        let w = &mut params[l.weight.clone()];
        for a in 0..l.out_dim {
            for b in 0..l.in_dim {
                let mut acc = 0.0;
                for i in 0..r {
                    acc += left[a * r + i] * root[i] * right[b * r + i];
                }
                w[a * l.in_dim + b] = T::from_f64(acc);
            }
        }
    };
    for (j, l) in c.layers.iter().enumerate() {
        let left: &[f64] = if j == last { &u } else { &frames[j] };
        let right: &[f64] = if j == 0 { &v } else { &frames[j - 1] };
        set(params, l, left, right);
    }
}

/// `rows × cols` (cols ≤ rows) with orthonormal columns, row-major: modified Gram–Schmidt, run
/// twice, of a uniform draw.
pub(crate) fn orthonormal_columns(rng: &mut SplitMix64, rows: usize, cols: usize) -> Vec<f64> {
    let mut q: Vec<Vec<f64>> = (0..cols)
        .map(|_| (0..rows).map(|_| rng.uniform()).collect())
        .collect();
    for i in 0..cols {
        for _ in 0..2 {
            for j in 0..i {
                let (done, rest) = q.split_at_mut(i);
                let dot: f64 = done[j].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
                for (x, y) in rest[0].iter_mut().zip(&done[j]) {
                    *x -= dot * y;
                }
            }
        }
        let norm = q[i].iter().map(|x| x * x).sum::<f64>().sqrt();
        for x in &mut q[i] {
            *x /= norm;
        }
    }
    let mut out = vec![0.0; rows * cols];
    for (j, col) in q.iter().enumerate() {
        for (i, &x) in col.iter().enumerate() {
            out[i * cols + j] = x;
        }
    }
    out
}

/// Thin SVD of `a` (rows × cols, row-major) by one-sided Jacobi (Hestenes): `a = U·diag(s)·Vᵀ`
/// with `U: rows × r`, `V: cols × r` (row-major, orthonormal columns), `r = min(rows, cols)`.
/// Singular values are not sorted. Meant for the small matrices of an FFN.
pub(crate) fn svd(a: &[f64], rows: usize, cols: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    if rows < cols {
        let mut t = vec![0.0; a.len()];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        let (u, s, v) = svd(&t, cols, rows);
        return (v, s, u);
    }
    // Columns of A (rotated in place into U·S) and of V.
    let mut ac: Vec<Vec<f64>> = (0..cols)
        .map(|j| (0..rows).map(|i| a[i * cols + j]).collect())
        .collect();
    let mut vc: Vec<Vec<f64>> = (0..cols)
        .map(|j| (0..cols).map(|i| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..cols {
            for q in p + 1..cols {
                let (alpha, beta, gamma) = ac[p]
                    .iter()
                    .zip(&ac[q])
                    .fold((0.0, 0.0, 0.0), |(a, b, g), (x, y)| {
                        (a + x * x, b + y * y, g + x * y)
                    });
                if gamma.abs() <= 1e-15 * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let cs = 1.0 / (1.0 + t * t).sqrt();
                let sn = cs * t;
                for cols_of in [&mut ac, &mut vc] {
                    let (lo, hi) = cols_of.split_at_mut(q);
                    for (x, y) in lo[p].iter_mut().zip(hi[0].iter_mut()) {
                        let (xp, yq) = (*x, *y);
                        *x = cs * xp - sn * yq;
                        *y = sn * xp + cs * yq;
                    }
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let s: Vec<f64> = ac
        .iter()
        .map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let mut u = vec![0.0; rows * cols];
    let mut v = vec![0.0; cols * cols];
    for j in 0..cols {
        for i in 0..rows {
            u[i * cols + j] = if s[j] > 0.0 { ac[j][i] / s[j] } else { 0.0 };
        }
        for i in 0..cols {
            v[i * cols + j] = vc[j][i];
        }
    }
    (u, s, v)
}

/// Adds the gradient of `λ/2·Σ‖W1'·H_k·…·H_1‖²` over the chains with `decay: merged` to
/// `grads`, and returns that penalty (0 when no chain has it).
pub(crate) fn add_merged_decay<T: Real>(
    chains: &mut [HrfChain<T>],
    params: &[T],
    grads: &mut [T],
    lambda: f64,
) -> f64 {
    let mut penalty = 0.0;
    for c in chains.iter_mut() {
        if c.hrf.decay != HrfDecay::Merged {
            continue;
        }
        let (e, _) = c.chain.compose(params);
        penalty += 0.5 * lambda * e.iter().map(|x| x.to_f64() * x.to_f64()).sum::<f64>();
        let lam = T::from_f64(lambda);
        c.g.clear();
        c.g.extend(e.iter().map(|&x| lam * x));
        c.chain.backward(params, grads, &c.g, &c.zeros);
    }
    penalty
}

/// What the optimizer needs per param slot of the chains: `(slot offset, decoupled decay?,
/// lr scale)` for every weight and bias of every chain.
pub(crate) fn chain_param_groups<T>(
    chains: &[HrfChain<T>],
) -> impl Iterator<Item = (usize, bool, f32)> + '_ {
    chains.iter().flat_map(|c| {
        let decay = c.hrf.decay == HrfDecay::Factors;
        c.layers.iter().flat_map(move |l| {
            core::iter::once((l.weight.start, decay, c.hrf.lr_scale))
                .chain(l.bias.iter().map(move |b| (b.start, false, c.hrf.lr_scale)))
        })
    })
}
