//! `TrainModel`: the plan-driven training model — params/grads/buffers arenas laid out by the
//! train table, a layer per plan op, packed batches, mean cross-entropy, backward in reverse.
//!
//! The training objective ([`TrainModel::set_objective`]: class weights, label smoothing)
//! applies to [`Mode::Train`] forwards only; a [`Mode::Eval`] forward always returns the plain
//! mean cross-entropy, so validation losses of runs with different objectives compare.

use std::vec;
use std::vec::Vec;

use crate::batch::{Batch, UtteranceRef};
use crate::kernels::cross_entropy::{
    CrossEntropyDims, cross_entropy_backward, cross_entropy_forward,
};
use crate::kernels::distillation::{KdDims, kd_backward, kd_forward};
use crate::plan::{ModelPlan, PlanOp};
use crate::real::Real;

use super::TrainError;
use super::frames::{Frames, sized, zeroed};
use super::hrf_variant::{self, HrfChain};
use super::layers::{Bwd, Fwd, Layer};
use super::profile::{Part, StepProfile};
use super::slots::{init_buffers, init_params};

/// Forward behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Dropout on residual branches (mask keyed by `dropout_seed`, the utterance index and the
    /// frame position: pass a new seed every step), BatchNorm with batch statistics (running
    /// averages updated).
    Train { dropout_seed: u64 },
    /// No dropout; BatchNorm with its running statistics.
    Eval,
}

/// The training model of one plan (see the module docs). `T = f64` serves gradient checks.
pub struct TrainModel<T: Real = f32> {
    plan: &'static ModelPlan,
    /// (train.params_len) — the params arena, slot offsets from `plan.train.params`.
    params: Vec<T>,
    /// (train.params_len) — gradient accumulators, same layout.
    grads: Vec<T>,
    /// (train.buffers_len) — CMVN statistics and BatchNorm running statistics.
    buffers: Vec<T>,
    layers: Vec<Layer<T>>,
    /// (ops + 1) — frames before op 0, after op 0, …
    frames: Vec<Frames>,
    /// (Σ lengths, features) — the batch's valid frames, packed.
    input: Vec<T>,
    /// (batch) — targets of the last forward.
    labels: Vec<usize>,
    /// (batch, classes) — softmax of the last forward's logits, and backward's dlogits.
    probs: Vec<T>,
    /// Backward's stream gradient and its ping-pong partner (largest activation).
    grad: Vec<T>,
    spare: Vec<T>,
    /// Mode of the last forward, if backward may follow.
    last_mode: Option<Mode>,
    /// Optimizer steps taken (for `NonFiniteLoss` and checkpoints).
    pub(crate) step: u64,
    /// Reused one-utterance batch of `predict`.
    predict_batch: Batch,
    /// Time per kernel group, when profiling is on.
    profile: Option<StepProfile>,
    /// Every FFN's HRF chain, for the variants (`hrf: { init, decay, lr_scale }`).
    hrf: Vec<HrfChain<T>>,
    /// (classes) — class weights of the training objective (`None`: all 1).
    class_weights: Option<Vec<T>>,
    /// Label smoothing ε of the training objective.
    label_smoothing: T,
    /// Distillation toward a teacher's logits for the next Train forward (`None`: off).
    kd: Option<Distillation<T>>,
}

/// The teacher's logits of one batch and the distillation settings (see
/// `kernels::distillation`): the Train loss is `(1 − weight)·CE + weight·KD`.
#[derive(Clone, Debug)]
struct Distillation<T> {
    weight: T,
    temperature: T,
    /// (batch, classes)
    teacher: Vec<T>,
    p_student: Vec<T>,
    p_teacher: Vec<T>,
    lse: Vec<T>,
}

impl<T: Real> TrainModel<T> {
    /// A model with freshly initialised weights (see `slots::init_params`: uniform
    /// `±1/√fan_in` weights, zero biases, unit norms; identity CMVN and BatchNorm statistics;
    /// then the HRF chains' `init` variant, `hrf_variant`).
    ///
    /// # Panics
    /// If the plan's ops name a slot its train table lacks — a compiler bug, never user input;
    /// generated plans are checked at build time. Use [`TrainModel::try_new`] for plans built
    /// at run time to get that as an error.
    pub fn new(plan: &'static ModelPlan, seed: u64) -> Self {
        match Self::try_new(plan, seed) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`TrainModel::new`], reporting an inconsistent plan as [`TrainError::MissingSlot`] or
    /// [`TrainError::SlotShape`].
    pub fn try_new(plan: &'static ModelPlan, seed: u64) -> Result<Self, TrainError> {
        let layers = (0..plan.ops.len())
            .map(|i| Layer::build(plan, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut params = vec![T::ZERO; plan.train.params_len()];
        init_params(plan, &mut params, seed);
        let hrf = hrf_variant::hrf_chains(plan)?;
        hrf_variant::init_variants(&hrf, &mut params, seed);
        let mut buffers = vec![T::ZERO; plan.train.buffers_len()];
        init_buffers(plan, &mut buffers);
        Ok(Self {
            plan,
            grads: vec![T::ZERO; params.len()],
            params,
            buffers,
            frames: (0..=plan.ops.len()).map(|_| Frames::default()).collect(),
            layers,
            input: Vec::new(),
            labels: Vec::new(),
            probs: Vec::new(),
            grad: Vec::new(),
            spare: Vec::new(),
            last_mode: None,
            step: 0,
            predict_batch: Batch::default(),
            profile: None,
            hrf,
            class_weights: None,
            label_smoothing: T::ZERO,
            kd: None,
        })
    }

    /// `decay: merged`: adds the gradient of `λ/2·‖W1'·H_k·…·H_1‖²`, summed over the HRF chains
    /// that ask for it, to the gradients and returns that penalty (0 if none does). The
    /// optimizer calls it before clipping with λ = its weight decay.
    pub fn add_merged_decay(&mut self, lambda: f64) -> f64 {
        hrf_variant::add_merged_decay(&mut self.hrf, &self.params, &mut self.grads, lambda)
    }

    /// Whether any HRF chain has `decay: merged`.
    pub fn has_merged_decay(&self) -> bool {
        self.hrf
            .iter()
            .any(|c| c.hrf.decay == crate::plan::HrfDecay::Merged)
    }

    pub(crate) fn hrf_chains(&self) -> &[HrfChain<T>] {
        &self.hrf
    }

    pub fn plan(&self) -> &'static ModelPlan {
        self.plan
    }
    pub fn params(&self) -> &[T] {
        &self.params
    }
    pub fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }
    pub fn grads(&self) -> &[T] {
        &self.grads
    }
    /// Gradients, mutable (clipping scales them in place).
    pub fn grads_mut(&mut self) -> &mut [T] {
        &mut self.grads
    }
    /// Params (read) and gradients (write) at once, for an optimizer step.
    pub fn params_and_grads_mut(&mut self) -> (&mut [T], &mut [T]) {
        (&mut self.params, &mut self.grads)
    }
    pub fn zero_grads(&mut self) {
        self.grads.fill(T::ZERO);
    }
    pub fn buffers(&self) -> &[T] {
        &self.buffers
    }
    pub fn buffers_mut(&mut self) -> &mut [T] {
        &mut self.buffers
    }
    /// Optimizer steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Turns per-kernel-group timing on (accumulating across calls) or off.
    pub fn set_profiling(&mut self, on: bool) {
        self.profile = on.then(StepProfile::default);
    }

    /// Time recorded since profiling was turned on (see [`TrainModel::set_profiling`]).
    pub fn profile(&self) -> Option<&StepProfile> {
        self.profile.as_ref()
    }

    /// Sets the training objective of [`Mode::Train`] forwards: per-class loss weights
    /// (`(classes)`, finite and ≥ 0, not all 0; `None` = all 1) and label smoothing
    /// `ε ∈ [0, 1)` (see `kernels::cross_entropy`). Eval forwards stay plain cross-entropy.
    pub fn set_objective(
        &mut self,
        class_weights: Option<&[f32]>,
        label_smoothing: f32,
    ) -> Result<(), TrainError> {
        let bad = |what: std::string::String| TrainError::Objective { what };
        if !(label_smoothing.is_finite() && (0.0..1.0).contains(&label_smoothing)) {
            return Err(bad(std::format!(
                "label smoothing {label_smoothing} must be in [0, 1)"
            )));
        }
        if let Some(w) = class_weights {
            let classes = self.plan.num_classes();
            if w.len() != classes {
                return Err(bad(std::format!(
                    "{} class weights for {classes} classes",
                    w.len()
                )));
            }
            if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(bad(std::format!(
                    "class weight {i} = {} is not finite and ≥ 0",
                    w[i]
                )));
            }
            if w.iter().all(|&x| x == 0.0) {
                return Err(bad("every class weight is 0".into()));
            }
        }
        self.class_weights =
            class_weights.map(|w| w.iter().map(|&x| T::from_f64(f64::from(x))).collect());
        self.label_smoothing = T::from_f64(f64::from(label_smoothing));
        Ok(())
    }

    /// Class weights and label smoothing of a forward in `mode` (plain for [`Mode::Eval`]).
    /// Distills the next Train forwards toward `teacher` logits `(batch, classes)` of the batch
    /// they see: loss `(1 − weight)·CE + weight·T²·KL(softmax(teacher/T) ‖ softmax(student/T))`.
    /// `weight ∈ [0, 1]`, `temperature > 0`. Call it before each forward with that batch's
    /// teacher logits; [`TrainModel::clear_distillation`] turns it off. Eval forwards ignore it.
    pub fn set_distillation(
        &mut self,
        teacher: &[f32],
        weight: f32,
        temperature: f32,
    ) -> Result<(), TrainError> {
        let bad = |what: std::string::String| TrainError::Objective { what };
        if !(weight.is_finite() && (0.0..=1.0).contains(&weight)) {
            return Err(bad(std::format!(
                "distillation weight {weight} must be in [0, 1]"
            )));
        }
        if !(temperature.is_finite() && temperature > 0.0 && temperature <= 100.0) {
            return Err(bad(std::format!(
                "distillation temperature {temperature} must be in (0, 100]"
            )));
        }
        let classes = self.plan.num_classes();
        if teacher.is_empty() || !teacher.len().is_multiple_of(classes) {
            return Err(bad(std::format!(
                "{} teacher logits are not whole rows of {classes} classes",
                teacher.len()
            )));
        }
        if let Some(i) = teacher.iter().position(|x| !x.is_finite()) {
            return Err(bad(std::format!(
                "teacher logit {i} is {}; the teacher's weights are corrupt",
                teacher[i]
            )));
        }
        let kd = self.kd.get_or_insert_with(|| Distillation {
            weight: T::ZERO,
            temperature: T::ONE,
            teacher: Vec::new(),
            p_student: Vec::new(),
            p_teacher: Vec::new(),
            lse: Vec::new(),
        });
        kd.weight = T::from_f64(f64::from(weight));
        kd.temperature = T::from_f64(f64::from(temperature));
        kd.teacher.clear();
        kd.teacher
            .extend(teacher.iter().map(|&x| T::from_f64(f64::from(x))));
        Ok(())
    }

    /// Turns distillation off.
    pub fn clear_distillation(&mut self) {
        self.kd = None;
    }

    /// The distillation of a Train forward over `rows` utterances, if set and sized for them.
    fn distillation(
        &self,
        mode: Mode,
        rows: usize,
    ) -> Result<Option<&Distillation<T>>, TrainError> {
        match (mode, &self.kd) {
            (Mode::Train { .. }, Some(kd)) => {
                if kd.teacher.len() != rows * self.plan.num_classes() {
                    return Err(TrainError::Objective {
                        what: std::format!(
                            "teacher logits for {} utterances, batch of {rows}",
                            kd.teacher.len() / self.plan.num_classes()
                        ),
                    });
                }
                Ok(Some(kd))
            }
            _ => Ok(None),
        }
    }

    fn objective(&self, mode: Mode) -> (Option<&[T]>, T) {
        match mode {
            Mode::Train { .. } => (self.class_weights.as_deref(), self.label_smoothing),
            Mode::Eval => (None, T::ZERO),
        }
    }

    /// The CMVN mean `(features)` in the buffers (identity: zeros until
    /// [`TrainModel::set_feature_stats`]), or `None` when the spec has no feature normalisation.
    pub fn feature_mean(&self) -> Option<Vec<f32>> {
        let name = self.plan.ops.iter().find_map(|op| match op {
            PlanOp::FeatureNorm { name, .. } => Some(*name),
            _ => None,
        })?;
        let slot = self.plan.train.buffer(&std::format!("{name}.mean"))?;
        Some(
            self.buffers[slot.range()]
                .iter()
                .map(|v| v.to_f64() as f32)
                .collect(),
        )
    }

    /// Sets the CMVN statistics (`mean`, `std`: `(features)`, from the training split).
    pub fn set_feature_stats(&mut self, mean: &[f32], std: &[f32]) -> Result<(), TrainError> {
        let features = self.plan.features;
        let stats = |what: std::string::String| TrainError::FeatureStats { what, features };
        if mean.len() != features || std.len() != features {
            return Err(stats(std::format!(
                "got {} means and {} stds",
                mean.len(),
                std.len()
            )));
        }
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(stats(std::format!("mean[{i}] = {} is not finite", mean[i])));
        }
        if let Some(i) = std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(stats(std::format!(
                "std[{i}] = {} is not finite and > 0",
                std[i]
            )));
        }
        let Some(PlanOp::FeatureNorm { name, .. }) = self
            .plan
            .ops
            .iter()
            .find(|op| matches!(op, PlanOp::FeatureNorm { .. }))
        else {
            return Err(stats("the spec has no feature normalisation op".into()));
        };
        for (suffix, values) in [("mean", mean), ("std", std)] {
            let slot_name = std::format!("{name}.{suffix}");
            let slot = self
                .plan
                .train
                .buffer(&slot_name)
                .ok_or(TrainError::MissingSlot {
                    spec: self.plan.name,
                    table: "buffer",
                    slot: slot_name,
                })?;
            for (b, &v) in self.buffers[slot.range()].iter_mut().zip(values) {
                *b = T::from_f64(v as f64);
            }
        }
        Ok(())
    }

    /// Checks the batch against the plan and packs its valid frames into `input`.
    fn load_batch(&mut self, batch: &Batch) -> Result<(), TrainError> {
        let (plan, f) = (self.plan, self.plan.features);
        if batch.features != f {
            return Err(TrainError::Features {
                spec: plan.name,
                got: batch.features,
                expected: f,
            });
        }
        let b = batch.lengths.len();
        if b == 0 || batch.labels.len() != b {
            return Err(TrainError::BadBatch {
                problem: std::format!("{b} lengths but {} labels", batch.labels.len()),
            });
        }
        for (index, (&len, &label)) in batch.lengths.iter().zip(&batch.labels).enumerate() {
            if len == 0 || len > batch.max_frames {
                return Err(TrainError::BadBatch {
                    problem: std::format!("utterance {index} has {len} frames"),
                });
            }
            if len > plan.max_frames {
                return Err(TrainError::TooLong {
                    spec: plan.name,
                    index,
                    frames: len,
                    limit: plan.max_frames,
                });
            }
            if label >= plan.num_classes() {
                return Err(TrainError::Label {
                    spec: plan.name,
                    index,
                    label,
                    classes: plan.num_classes(),
                });
            }
        }
        if batch.frames.len() != b * batch.max_frames * f {
            return Err(TrainError::BadBatch {
                problem: std::format!(
                    "frames hold {} values, not batch·max_frames·features = {}",
                    batch.frames.len(),
                    b * batch.max_frames * f
                ),
            });
        }
        self.frames[0].set(batch.lengths.iter().copied());
        for i in 0..self.layers.len() {
            let (before, after) = self.frames.split_at_mut(i + 1);
            self.layers[i].out_frames(&before[i], &mut after[0]);
        }
        sized(&mut self.input, self.frames[0].total() * f);
        for u in 0..b {
            let src = &batch.frames[u * batch.max_frames * f..][..batch.lengths[u] * f];
            let dst = &mut self.input[self.frames[0].rows(u).start * f..][..src.len()];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = T::from_f64(s as f64);
            }
        }
        self.labels.clear();
        self.labels.extend_from_slice(&batch.labels);
        Ok(())
    }

    /// Mean softmax cross-entropy over the batch (with the training objective in
    /// [`Mode::Train`], see the module docs); keeps what backward needs.
    pub fn forward(&mut self, batch: &Batch, mode: Mode) -> Result<T, TrainError> {
        self.last_mode = None;
        let t = std::time::Instant::now();
        self.load_batch(batch)?;
        let mut cx = Fwd {
            params: &self.params,
            buffers: &mut self.buffers,
            mode,
            dropout: self.plan.dropout as f64,
            profile: &mut self.profile,
        };
        cx.record(Part::Input, t);
        for i in 0..self.layers.len() {
            let (done, rest) = self.layers.split_at_mut(i);
            let x = output_of(done, &self.input);
            rest[0].forward(&mut cx, x, &self.frames[i], &self.frames[i + 1]);
        }
        let b = self.labels.len();
        let classes = self.plan.num_classes();
        let mut probs = core::mem::take(&mut self.probs);
        sized(&mut probs, b * classes);
        let logits = self.logits_buf();
        let (weights, smoothing) = self.objective(mode);
        let loss = cross_entropy_forward(
            &mut probs,
            logits,
            &self.labels,
            weights,
            smoothing,
            CrossEntropyDims { rows: b, classes },
        );
        self.probs = probs;
        let loss = match self
            .distillation(mode, b)?
            .map(|kd| (kd.weight, kd.temperature))
        {
            None => loss,
            Some((weight, temperature)) => {
                // Disjoint fields: the logits stay borrowed from the layers while the
                // distillation buffers are written.
                let student = output_of(&self.layers, &self.input);
                let Some(kd) = self.kd.as_mut() else {
                    return Err(TrainError::NoForward);
                };
                sized(&mut kd.p_student, b * classes);
                sized(&mut kd.p_teacher, b * classes);
                sized(&mut kd.lse, 2 * b);
                let (ls, lt) = kd.lse.split_at_mut(b);
                let soft = kd_forward(
                    &mut kd.p_student,
                    &mut kd.p_teacher,
                    ls,
                    lt,
                    student,
                    &kd.teacher,
                    temperature,
                    KdDims { rows: b, classes },
                );
                (T::ONE - weight) * loss + weight * soft
            }
        };
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss { step: self.step });
        }
        self.last_mode = Some(mode);
        Ok(loss)
    }

    fn logits_buf(&self) -> &[T] {
        output_of(&self.layers, &self.input)
    }

    /// `(batch, classes)` logits of the last forward.
    pub fn logits(&self) -> &[T] {
        self.logits_buf()
    }

    /// Gradients of the last forward's loss, accumulated into `grads()`.
    pub fn backward(&mut self) -> Result<(), TrainError> {
        let mode = self.last_mode.ok_or(TrainError::NoForward)?;
        let b = self.labels.len();
        let classes = self.plan.num_classes();
        let mut grad = core::mem::take(&mut self.grad);
        let mut spare = core::mem::take(&mut self.spare);
        zeroed(&mut grad, b * classes);
        let (weights, smoothing) = self.objective(mode);
        let kd = self.distillation(mode, b)?;
        cross_entropy_backward(
            &mut grad,
            &self.probs,
            &self.labels,
            weights,
            smoothing,
            kd.map_or(T::ONE, |kd| T::ONE - kd.weight),
            CrossEntropyDims { rows: b, classes },
        );
        if let Some(kd) = kd {
            kd_backward(
                &mut grad,
                &kd.p_student,
                &kd.p_teacher,
                kd.temperature,
                kd.weight,
                KdDims { rows: b, classes },
            );
        }
        // Layer i needs its input gradient only if a layer before it has params.
        let first_trainable = self.layers.iter().position(|l| l.has_params());
        let mut cx = Bwd {
            params: &self.params,
            buffers: &self.buffers,
            grads: &mut self.grads,
            mode,
            dropout: self.plan.dropout as f64,
            profile: &mut self.profile,
        };
        for i in (0..self.layers.len()).rev() {
            let (done, rest) = self.layers.split_at_mut(i);
            let x = output_of(done, &self.input);
            let need_dinp = first_trainable.is_some_and(|f| f < i);
            rest[0].backward(
                &mut cx,
                &mut grad,
                &mut spare,
                x,
                &self.frames[i],
                &self.frames[i + 1],
                need_dinp,
            );
            if !need_dinp {
                // Nothing before this layer is trainable.
                break;
            }
        }
        self.grad = grad;
        self.spare = spare;
        Ok(())
    }

    /// Eval-mode logits `(classes)` of one utterance (`frames: (len, features)` row-major).
    /// Overwrites the state a following `backward` would use.
    pub fn predict(&mut self, frames: &[f32]) -> Result<Vec<f32>, TrainError> {
        let mut batch = core::mem::take(&mut self.predict_batch);
        let refill = batch.refill(
            &[UtteranceRef { frames, label: 0 }],
            self.plan.features,
            self.plan.max_frames,
        );
        let result = match refill {
            Ok(()) => self.forward(&batch, Mode::Eval).map(|_| ()),
            Err(e) => Err(TrainError::BadBatch {
                problem: std::format!("{e}"),
            }),
        };
        self.predict_batch = batch;
        result?;
        self.last_mode = None;
        Ok(self.logits().iter().map(|v| v.to_f64() as f32).collect())
    }
}

/// Output of the last of `layers` fed with `input` (a block without sublayers passes its input
/// through, so this walks back as needed).
fn output_of<'a, T: Real>(layers: &'a [Layer<T>], input: &'a [T]) -> &'a [T] {
    match layers.split_last() {
        None => input,
        Some((last, before)) => last.output(output_of(before, input)),
    }
}
