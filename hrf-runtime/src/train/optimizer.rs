//! The training step's optimizer: global-norm clipping, then AdamW (decay on weight matrices
//! only) at the warmup-cosine learning rate of the current step. The HRF variants act here:
//! `decay: merged` adds its penalty's gradient before clipping and takes the chain's factors out
//! of the decoupled decay; `lr_scale` gives the chain's slots their own learning rate.

use crate::optim::{AdamW, AdamWConfig, AdamWState, ParamSegment, WarmupCosine, clip_grad_norm};

use super::hrf_variant::chain_param_groups;
use std::vec::Vec;

use super::slots::decays;
use super::{TrainError, TrainModel};

/// Hyper-parameters of [`Optimizer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerConfig {
    pub adamw: AdamWConfig,
    /// Learning rate at the end of warmup.
    pub peak_lr: f64,
    /// Learning rate reached at `total_steps`.
    pub floor_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
    /// Global gradient-norm bound; `None` disables clipping.
    pub clip_norm: Option<f32>,
}

impl OptimizerConfig {
    /// PyTorch's AdamW defaults, peak 1e-3 after 10 % warmup, cosine to 0, clip at 5.
    pub fn new(total_steps: u64) -> Self {
        Self {
            adamw: AdamWConfig::default(),
            peak_lr: 1e-3,
            floor_lr: 0.0,
            warmup_steps: total_steps / 10,
            total_steps,
            clip_norm: Some(5.0),
        }
    }
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Learning rate used.
    pub lr: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
}

/// AdamW + schedule + clipping over a [`TrainModel<f32>`]'s params arena.
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    adamw: AdamW,
    schedule: WarmupCosine,
}

/// One AdamW segment per param slot: decay on `*.weight` slots with ≥ 2 dims, except the
/// factors of an HRF chain with `decay: merged`; then each chain slot's `lr_scale`.
fn build_adamw(
    model: &TrainModel<f32>,
    config: AdamWConfig,
    state: AdamWState,
) -> Result<AdamW, TrainError> {
    let groups: Vec<(usize, bool, f32)> = chain_param_groups(model.hrf_chains()).collect();
    let group = |offset: usize| groups.iter().find(|g| g.0 == offset);
    let segments: Vec<ParamSegment> = model
        .plan()
        .train
        .params
        .iter()
        .map(|s| ParamSegment {
            offset: s.offset,
            len: s.len(),
            decay: decays(s) && group(s.offset).is_none_or(|g| g.1),
        })
        .collect();
    let mut adamw = AdamW::from_state(config, &segments, state)?;
    for &(offset, _, scale) in &groups {
        if scale != 1.0 {
            adamw.set_lr_scale(offset, scale)?;
        }
    }
    Ok(adamw)
}

impl Optimizer {
    /// A fresh optimizer (zero moments, step 0) for `model`.
    pub fn new(model: &TrainModel<f32>, config: OptimizerConfig) -> Result<Self, TrainError> {
        let state = AdamWState {
            m: std::vec![0.0; model.params().len()],
            v: std::vec![0.0; model.params().len()],
            step: 0,
        };
        Self::from_state(model, config, state)
    }

    /// Resumes from saved moments and step count (see [`super::TrainState`]).
    pub fn from_state(
        model: &TrainModel<f32>,
        config: OptimizerConfig,
        state: AdamWState,
    ) -> Result<Self, TrainError> {
        if state.m.len() != model.params().len() {
            return Err(TrainError::OptimizerMismatch {
                what: std::format!(
                    "the state has {} moments but the model {} params",
                    state.m.len(),
                    model.params().len()
                ),
            });
        }
        let schedule = WarmupCosine::new(
            config.peak_lr,
            config.floor_lr,
            config.warmup_steps,
            config.total_steps,
        )?;
        let adamw = build_adamw(model, config.adamw, state)?;
        Ok(Self {
            config,
            adamw,
            schedule,
        })
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Moments and step count, for checkpoints.
    pub fn state(&self) -> &AdamWState {
        self.adamw.state()
    }

    /// Clips the accumulated gradients, applies one AdamW step at the schedule's rate, records
    /// the step in the model and zeroes its gradients.
    pub fn step(&mut self, model: &mut TrainModel<f32>) -> Result<StepReport, TrainError> {
        if model.params().len() != self.adamw.state().m.len() {
            return Err(TrainError::OptimizerMismatch {
                what: "the model is not the one this optimizer was built for".into(),
            });
        }
        let lr = self.schedule.lr(self.adamw.state().step);
        // `decay: merged`: the L2 penalty on each merged W1'·H joins the gradients like a loss
        // term (so it is clipped with them), at λ = the decoupled decay the factors do not get.
        if model.has_merged_decay() {
            model.add_merged_decay(self.config.adamw.weight_decay as f64);
        }
        let (params, grads) = model.params_and_grads_mut();
        let grad_norm = match self.config.clip_norm {
            Some(max) => clip_grad_norm(grads, max)?,
            None => crate::optim::global_grad_norm(grads),
        };
        if !grad_norm.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                step: self.adamw.state().step,
            });
        }
        self.adamw.step(params, grads, lr)?;
        model.step = self.adamw.state().step;
        model.zero_grads();
        Ok(StepReport { lr, grad_norm })
    }
}
