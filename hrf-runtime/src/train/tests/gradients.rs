//! Whole-model gradient checks (f64, every parameter) against central differences.

use std::vec::Vec;

use super::super::{Mode, TrainModel};
use super::{ALL_SPECS, batch_of, plan, random_utterances};
use crate::testing::{Rng, check_gradient};

/// Relative tolerance of the whole-model checks: f64 central differences with step 1e-6 agree
/// with exact gradients to ~1e-8 on these smooth-almost-everywhere models; 1e-5 leaves room for
/// the deeper compositions without hiding a wrong term (those show up as O(1) errors).
const WHOLE_MODEL_GRAD_TOL: f64 = 1e-5;

/// Perturbs every param (so biases, γ/β and HRF layers are generic, not 0/1) and sets
/// non-trivial CMVN and BatchNorm running statistics.
fn randomised_model(yaml: &str, seed: u64) -> TrainModel<f64> {
    let plan = plan(yaml);
    let mut model = TrainModel::<f64>::new(plan, seed);
    let mut rng = Rng::new(seed + 1);
    for p in model.params_mut() {
        *p += 0.2 * rng.uniform();
    }
    let f = plan.features;
    let mean: Vec<f32> = (0..f).map(|i| 0.1 * i as f32).collect();
    let std: Vec<f32> = (0..f).map(|i| 0.8 + 0.1 * i as f32).collect();
    if let Err(e) = model.set_feature_stats(&mean, &std) {
        panic!("{e}");
    }
    for slot in plan.train.buffers {
        if slot.name.ends_with(".running_mean") || slot.name.ends_with(".running_var") {
            for v in &mut model.buffers_mut()[slot.range()] {
                *v = 1.0 + 0.3 * rng.uniform();
            }
        }
    }
    model
}

fn check_all_params(yaml: &str, mode: Mode) {
    check_all_params_with(yaml, mode, None, 0.0, None);
}

/// `kd`: `(weight, temperature)` of a distillation toward fixed teacher logits.
fn check_all_params_with(
    yaml: &str,
    mode: Mode,
    weights: Option<&[f32]>,
    smoothing: f32,
    kd: Option<(f32, f32)>,
) {
    let mut model = randomised_model(yaml, 11);
    if let Err(e) = model.set_objective(weights, smoothing) {
        panic!("{e}");
    }
    if let Some((weight, temperature)) = kd {
        let classes = model.plan().num_classes();
        let teacher: Vec<f32> = (0..3 * classes)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.4)
            .collect();
        if let Err(e) = model.set_distillation(&teacher, weight, temperature) {
            panic!("{e}");
        }
    }
    let plan = model.plan();
    // Three utterances of different lengths: padding and packing must not leak.
    let utts = random_utterances(plan, &[23, 40, 9], 5);
    let batch = batch_of(plan, &utts, &[0, 2, 1]);
    let buffers = model.buffers().to_vec();
    model.zero_grads();
    let run = |m: &mut TrainModel<f64>| match m.forward(&batch, mode) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    run(&mut model);
    if let Err(e) = model.backward() {
        panic!("{e}");
    }
    let analytic = model.grads().to_vec();
    assert!(
        analytic.iter().filter(|g| g.abs() > 1e-9).count() > analytic.len() * 3 / 4,
        "{}: most gradients should be non-zero",
        plan.name
    );
    let mut params = model.params().to_vec();
    let what = std::format!("{} {mode:?}", plan.name);
    check_gradient(&what, &mut params, &analytic, WHOLE_MODEL_GRAD_TOL, |x| {
        model.params_mut().copy_from_slice(x);
        // BatchNorm's running statistics move in train mode; they do not enter the train-mode
        // output, but restore them so every evaluation sees the same state.
        model.buffers_mut().copy_from_slice(&buffers);
        run(&mut model)
    });
}

#[test]
fn whole_model_gradients_match_finite_differences_in_eval_mode() {
    for yaml in ALL_SPECS {
        check_all_params(yaml, Mode::Eval);
    }
}

/// The training objective (class weights and label smoothing) through the whole model.
#[test]
fn whole_model_gradients_with_class_weights_and_label_smoothing() {
    let yaml = ALL_SPECS[0];
    let classes = plan(yaml).num_classes();
    let weights: Vec<f32> = (0..classes).map(|c| 0.5 + 0.4 * c as f32).collect();
    check_all_params_with(
        yaml,
        Mode::Train { dropout_seed: 5 },
        Some(&weights),
        0.1,
        None,
    );
}

/// Knowledge distillation (with class weights and smoothing on the hard-label part) through
/// the whole model.
#[test]
fn whole_model_gradients_with_distillation() {
    let yaml = ALL_SPECS[0];
    let classes = plan(yaml).num_classes();
    let weights: Vec<f32> = (0..classes).map(|c| 0.5 + 0.4 * c as f32).collect();
    check_all_params_with(
        yaml,
        Mode::Train { dropout_seed: 5 },
        Some(&weights),
        0.1,
        Some((0.7, 2.5)),
    );
}

/// Distillation changes Train losses only, refuses bad settings, and needs teacher rows for
/// every utterance of the batch.
#[test]
fn distillation_applies_to_train_forwards_only() {
    let yaml = ALL_SPECS[0];
    let mut model = randomised_model(yaml, 3);
    let plan = model.plan();
    let classes = plan.num_classes();
    let utts = random_utterances(plan, &[12, 20], 2);
    let batch = batch_of(plan, &utts, &[1, 0]);
    let train = Mode::Train { dropout_seed: 1 };
    let eval_plain = model.forward(&batch, Mode::Eval).unwrap_or(f64::NAN);
    let train_plain = model.forward(&batch, train).unwrap_or(f64::NAN);
    let teacher = vec![0.5f32; 2 * classes];
    assert!(model.set_distillation(&teacher, 1.5, 2.0).is_err());
    assert!(model.set_distillation(&teacher, 0.5, 0.0).is_err());
    assert!(
        model
            .set_distillation(&[f32::NAN; 8][..classes], 0.5, 2.0)
            .is_err()
    );
    if let Err(e) = model.set_distillation(&teacher, 0.0, 2.0) {
        panic!("{e}");
    }
    // Weight 0 is the plain loss.
    assert_eq!(
        model.forward(&batch, train).unwrap_or(f64::NAN),
        train_plain
    );
    if let Err(e) = model.set_distillation(&teacher, 0.5, 2.0) {
        panic!("{e}");
    }
    assert_eq!(
        model.forward(&batch, Mode::Eval).unwrap_or(f64::NAN),
        eval_plain
    );
    let distilled = model.forward(&batch, train).unwrap_or(f64::NAN);
    assert!(distilled.is_finite() && distilled != train_plain);
    if let Err(e) = model.set_distillation(&teacher[..classes], 0.5, 2.0) {
        panic!("{e}");
    }
    assert!(
        model.forward(&batch, train).is_err(),
        "one teacher row for two utterances"
    );
    model.clear_distillation();
    assert_eq!(
        model.forward(&batch, train).unwrap_or(f64::NAN),
        train_plain
    );
}

/// An Eval forward ignores the training objective: validation losses stay plain
/// cross-entropy; a Train forward uses it.
#[test]
fn eval_forward_ignores_the_training_objective() {
    let yaml = ALL_SPECS[0];
    let mut model = randomised_model(yaml, 3);
    let plan = model.plan();
    let utts = random_utterances(plan, &[12, 20], 4);
    let batch = batch_of(plan, &utts, &[0, 1]);
    let plain = model.forward(&batch, Mode::Eval).unwrap_or(f64::NAN);
    let train_plain = model
        .forward(&batch, Mode::Train { dropout_seed: 1 })
        .unwrap_or(f64::NAN);
    let weights: Vec<f32> = (0..plan.num_classes()).map(|c| 1.0 + c as f32).collect();
    if let Err(e) = model.set_objective(Some(&weights), 0.2) {
        panic!("{e}");
    }
    assert_eq!(model.forward(&batch, Mode::Eval).unwrap_or(f64::NAN), plain);
    let train_obj = model
        .forward(&batch, Mode::Train { dropout_seed: 1 })
        .unwrap_or(f64::NAN);
    assert!(train_obj.is_finite() && train_obj != train_plain);
    assert!(model.set_objective(None, 1.0).is_err());
    assert!(model.set_objective(Some(&weights[1..]), 0.0).is_err());
}

/// Train mode: dropout masks are fixed by the seed, and the Conformer's BatchNorm normalises
/// with the batch statistics (its backward goes through them).
#[test]
fn whole_model_gradients_match_finite_differences_in_train_mode() {
    for yaml in ALL_SPECS {
        check_all_params(yaml, Mode::Train { dropout_seed: 77 });
    }
}
