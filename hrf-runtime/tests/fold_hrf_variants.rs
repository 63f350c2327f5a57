//! deHRF stays exact for every HRF variant: for the identity and balanced starts, and after a
//! few optimizer steps with `decay: merged` and `lr_scale`, the folded model's logits equal the
//! training model's (its eval-mode `predict`) and the unfolded f64 reference's.

mod folded;

use folded::{ALL_SPECS, assert_close, plan, random_frames, reference_logits};
use hrf_runtime::batch::{Batch, UtteranceRef};
use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::plan::{HrfDecay, HrfInit, ModelPlan, PlanOp, SublayerKindPlan};
use hrf_runtime::train::{Mode, Optimizer, OptimizerConfig, TrainModel};

/// As `folded_inference`: folded f32 (folds rounded once) against the unfolded forward.
const FOLDED_TOLERANCE: f64 = 1e-4;

/// Every spec's HRF maps extended by `keys`.
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
    assert_ne!(out, spec);
    out
}

/// The variants of the plan's first HRF chain (to show the keys reached the runtime plan).
fn first_variant(plan: &ModelPlan) -> (HrfInit, HrfDecay, f32) {
    for op in plan.ops {
        if let PlanOp::Block(b) = op {
            for s in b.sublayers {
                if let SublayerKindPlan::Ffn(f) = &s.kind
                    && let Some(h) = f.hrf
                {
                    return (h.init, h.decay, h.lr_scale);
                }
            }
        }
    }
    panic!("no HRF chain")
}

fn assert_folds_exactly(what: &str, model: &mut TrainModel<f32>) {
    let plan = model.plan();
    let folded = fold_model(plan, model.params(), model.buffers()).expect("fold");
    for n in [1, 7, plan.max_frames] {
        let frames = random_frames(n, plan.features, 13 * n as u64);
        let mut scratch = vec![0.0; scratch_len(plan)];
        let mut got = vec![f32::NAN; plan.classes.len()];
        predict_folded(plan, &folded, &frames, &mut scratch, &mut got).expect("valid input");
        let train: Vec<f64> = model
            .predict(&frames)
            .expect("train predict")
            .iter()
            .map(|&v| v as f64)
            .collect();
        let what = format!("{what} {} n = {n}", plan.name);
        assert_close(
            &format!("{what} vs TrainModel"),
            &got,
            &train,
            FOLDED_TOLERANCE,
        );
        let reference = reference_logits(plan, model.params(), model.buffers(), &frames);
        assert_close(
            &format!("{what} vs reference"),
            &got,
            &reference,
            FOLDED_TOLERANCE,
        );
    }
}

#[test]
fn identity_and_balanced_starts_fold_exactly() {
    for (keys, init) in [
        ("init: identity", HrfInit::Identity),
        ("init: balanced", HrfInit::Balanced),
    ] {
        for yaml in ALL_SPECS {
            let plan = plan(&variant(yaml, keys));
            assert_eq!(first_variant(plan).0, init);
            let mut model = TrainModel::<f32>::new(plan, 3);
            assert_folds_exactly(keys, &mut model);
        }
    }
}

#[test]
fn merged_decay_and_lr_scale_fold_exactly_after_training_steps() {
    for keys in [
        "decay: merged",
        "decay: merged, lr_scale: 2",
        "init: identity, decay: merged, lr_scale: 0.5",
        "init: balanced, lr_scale: 3",
    ] {
        for yaml in ALL_SPECS {
            let plan = plan(&variant(yaml, keys));
            let mut model = TrainModel::<f32>::new(plan, 5);
            let config = OptimizerConfig {
                peak_lr: 1e-2,
                warmup_steps: 0,
                ..OptimizerConfig::new(5)
            };
            let mut opt = Optimizer::new(&model, config).expect("optimizer");
            let utts: Vec<Vec<f32>> = [9usize, 21, 32]
                .iter()
                .enumerate()
                .map(|(i, &n)| random_frames(n, plan.features, 100 + i as u64))
                .collect();
            let refs: Vec<UtteranceRef<'_>> = utts
                .iter()
                .enumerate()
                .map(|(i, frames)| UtteranceRef {
                    frames,
                    label: i % plan.classes.len(),
                })
                .collect();
            let batch =
                Batch::from_utterances(&refs, plan.features, plan.max_frames).expect("batch");
            let start = model.params().to_vec();
            for step in 0..4 {
                model
                    .forward(&batch, Mode::Train { dropout_seed: step })
                    .expect("forward");
                model.backward().expect("backward");
                opt.step(&mut model).expect("step");
            }
            assert_ne!(model.params(), &start[..], "{keys}: trained");
            assert_folds_exactly(keys, &mut model);
        }
    }
}
