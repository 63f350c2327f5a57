//! Optimisation and checkpoints: AdamW learns a synthetic task; save → load is bit-exact and
//! resumes bit-exactly; another spec's checkpoint is refused.

use std::path::PathBuf;
use std::vec::Vec;

use super::super::{Mode, Optimizer, OptimizerConfig, TrainModel, TrainState};
use super::{ALL_SPECS, TINY_CONFORMER, TINY_CONV_TRANSFORMER, batch_of, plan};
use crate::batch::Batch;
use crate::plan::ModelPlan;
use crate::testing::Rng;

/// Required drop of the mean training loss over 30 steps: the last 5 steps' mean must be below
/// this fraction of the first step's loss (ln 3 ≈ 1.10 at chance).
const LEARNED_LOSS_FRACTION: f32 = 0.6;

/// Synthetic 3-class task: class `c` raises features `2c, 2c + 1` by 1.5 over noise ±1.
fn synthetic_batch(plan: &ModelPlan, seed: u64) -> Batch {
    let mut rng = Rng::new(seed);
    let mut utts = Vec::new();
    let mut labels = Vec::new();
    for i in 0..12 {
        let class = i % 3;
        let len = 16 + (rng.next_u64() % 25) as usize;
        let frames: Vec<f32> = (0..len * plan.features)
            .map(|j| {
                let f = j % plan.features;
                let bump = if f / 2 == class { 1.5 } else { 0.0 };
                (bump + rng.uniform()) as f32
            })
            .collect();
        utts.push(frames);
        labels.push(class);
    }
    batch_of(plan, &utts, &labels)
}

fn config() -> OptimizerConfig {
    OptimizerConfig {
        peak_lr: 3e-3,
        warmup_steps: 3,
        ..OptimizerConfig::new(30)
    }
}

fn step(model: &mut TrainModel<f32>, opt: &mut Optimizer, batch: &Batch, seed: u64) -> f32 {
    let loss = match model.forward(batch, Mode::Train { dropout_seed: seed }) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    if let Err(e) = model.backward() {
        panic!("{e}");
    }
    if let Err(e) = opt.step(model) {
        panic!("{e}");
    }
    loss
}

#[test]
fn thirty_adamw_steps_learn_a_synthetic_task() {
    for yaml in ALL_SPECS {
        let plan = plan(yaml);
        let mut model = TrainModel::<f32>::new(plan, 1);
        let mut opt = match Optimizer::new(&model, config()) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        };
        let losses: Vec<f32> = (0..30)
            .map(|s| step(&mut model, &mut opt, &synthetic_batch(plan, s % 4), s))
            .collect();
        let last = losses[25..].iter().sum::<f32>() / 5.0;
        assert!(
            last < LEARNED_LOSS_FRACTION * losses[0],
            "{}: loss {} → {last} ({losses:?})",
            plan.name,
            losses[0]
        );
    }
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(std::format!("hrf-train-{}-{name}", std::process::id()))
}

#[test]
fn save_then_load_is_bit_exact_and_resumes_bit_exactly() {
    let plan = plan(TINY_CONFORMER);
    let batch = synthetic_batch(plan, 0);
    let mut model = TrainModel::<f32>::new(plan, 2);
    let mut opt = match Optimizer::new(&model, config()) {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    for s in 0..2 {
        step(&mut model, &mut opt, &batch, s);
    }
    let path = temp_path("resume.safetensors");
    if let Err(e) = model.save(&path, Some(&opt)) {
        panic!("{e}");
    }
    let mut resumed = TrainModel::<f32>::new(plan, 99);
    let state = match resumed.load(&path) {
        Ok(Some(s)) => s,
        other => panic!("expected optimizer state, got {other:?}"),
    };
    let _ = std::fs::remove_file(&path);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(resumed.params()), bits(model.params()));
    assert_eq!(bits(resumed.buffers()), bits(model.buffers()));
    assert_eq!(resumed.step(), 2);
    assert_eq!(&state, opt.state());
    let mut opt2 = match Optimizer::from_state(&resumed, config(), state) {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    step(&mut model, &mut opt, &batch, 2);
    step(&mut resumed, &mut opt2, &batch, 2);
    assert_eq!(bits(resumed.params()), bits(model.params()));
    assert_eq!(bits(&opt2.state().m), bits(&opt.state().m));
    // The state round-trips as a value too.
    let captured = TrainState::capture(&model, Some(&opt));
    assert_eq!(captured.step, 3);
}

#[test]
fn another_specs_checkpoint_is_refused_naming_both_specs() {
    let conformer = TrainModel::<f32>::new(plan(TINY_CONFORMER), 0);
    let path = temp_path("other.safetensors");
    if let Err(e) = conformer.save(&path, None) {
        panic!("{e}");
    }
    let mut ct = TrainModel::<f32>::new(plan(TINY_CONV_TRANSFORMER), 0);
    let err = match ct.load(&path) {
        Ok(_) => panic!("loading another spec's checkpoint must fail"),
        Err(e) => e.to_string(),
    };
    let _ = std::fs::remove_file(&path);
    let (c, t) = (
        plan(TINY_CONFORMER).spec_hash,
        plan(TINY_CONV_TRANSFORMER).spec_hash,
    );
    assert_eq!(
        err,
        std::format!(
            "checkpoint {}: it was written for spec `TinyConformer` (hash {c}), but this model is \
             `TinyConvTransformer` (hash {t}); load it with the spec it was trained with, or \
             start `TinyConvTransformer` from scratch",
            path.display()
        )
    );
}

#[test]
fn a_diverging_loss_is_reported_with_its_step() {
    let plan = plan(TINY_CONV_TRANSFORMER);
    let mut model = TrainModel::<f32>::new(plan, 0);
    // A NaN classifier bias (a NaN early on could be swallowed by a ReLU).
    let bias = match plan.train.param("classifier.bias") {
        Some(s) => s.offset,
        None => panic!("no classifier.bias"),
    };
    model.params_mut()[bias] = f32::NAN;
    let err = model.forward(&synthetic_batch(plan, 0), Mode::Eval);
    assert!(
        matches!(
            err,
            Err(super::super::TrainError::NonFiniteLoss { step: 0 })
        ),
        "{err:?}"
    );
}
