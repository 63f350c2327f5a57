//! Padding invariance, thread-count independence, and the engine's input errors.

use std::vec::Vec;

use super::super::{Mode, TrainError, TrainModel};
use super::{ALL_SPECS, TINY_CONFORMER, TINY_CONV_TRANSFORMER, batch_of, plan, random_utterances};
use crate::batch::Batch;
use crate::plan::{ModelPlan, TablePlan};

fn forward(model: &mut TrainModel<f64>, batch: &Batch, mode: Mode) -> f64 {
    match model.forward(batch, mode) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

/// An utterance's logits are bit-identical alone or beside a longer one (eval mode for all
/// families; train mode too where there is no BatchNorm, since dropout masks are keyed by the
/// utterance index and frame position).
#[test]
fn logits_do_not_depend_on_the_other_utterances_of_the_batch() {
    for yaml in ALL_SPECS {
        let plan = plan(yaml);
        let mut model = TrainModel::<f64>::new(plan, 3);
        let utts = random_utterances(plan, &[17, 40], 9);
        let classes = plan.num_classes();
        let mut modes = std::vec![Mode::Eval];
        if yaml != TINY_CONFORMER {
            modes.push(Mode::Train { dropout_seed: 5 });
        }
        for mode in modes {
            forward(&mut model, &batch_of(plan, &utts[..1], &[1]), mode);
            let alone = model.logits().to_vec();
            forward(&mut model, &batch_of(plan, &utts, &[1, 0]), mode);
            assert_eq!(alone, model.logits()[..classes], "{} {mode:?}", plan.name);
        }
        // predict is the eval-mode forward of one utterance.
        let predicted = match model.predict(&utts[0]) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        forward(&mut model, &batch_of(plan, &utts[..1], &[0]), Mode::Eval);
        let want: Vec<f32> = model.logits().iter().map(|&v| v as f32).collect();
        assert_eq!(predicted, want);
    }
}

/// In train mode, BatchNorm statistics come from the valid frames only: padding an utterance
/// (a longer neighbour forces padding in `Batch`) changes nothing, but the neighbour's frames do.
#[test]
fn batch_norm_train_statistics_use_valid_frames_of_the_whole_batch() {
    let plan = plan(TINY_CONFORMER);
    let mut model = TrainModel::<f64>::new(plan, 3);
    let utts = random_utterances(plan, &[17, 40], 9);
    let mode = Mode::Train { dropout_seed: 1 };
    forward(&mut model, &batch_of(plan, &utts[..1], &[1]), mode);
    let alone = model.logits().to_vec();
    forward(&mut model, &batch_of(plan, &utts, &[1, 0]), mode);
    assert_ne!(
        alone,
        model.logits()[..3],
        "the neighbour enters the batch statistics"
    );
}

/// Forward + backward in train mode give bit-identical loss, logits and gradients on 1 and 2
/// rayon threads (fixed work split, fixed reduction order).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    for yaml in ALL_SPECS {
        let plan = plan(yaml);
        let lengths: Vec<usize> = (0..12).map(|i| 20 + (i * 7) % 21).collect();
        let utts = random_utterances(plan, &lengths, 4);
        let labels: Vec<usize> = (0..12).map(|i| i % 3).collect();
        let batch = batch_of(plan, &utts, &labels);
        let run = |threads: usize| {
            let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
            pool.install(|| {
                let mut model = TrainModel::<f32>::new(plan, 8);
                let loss = match model.forward(&batch, Mode::Train { dropout_seed: 2 }) {
                    Ok(l) => l,
                    Err(e) => panic!("{e}"),
                };
                if let Err(e) = model.backward() {
                    panic!("{e}");
                }
                (
                    loss.to_bits(),
                    model.logits().to_vec(),
                    model.grads().to_vec(),
                    model.buffers().to_vec(),
                )
            })
        };
        let (one, two) = (run(1), run(2));
        assert!(one == two, "{}: 1 vs 2 threads differ", plan.name);
        assert!(one == run(2), "{}: run to run", plan.name);
    }
}

#[test]
fn a_plan_whose_table_lacks_a_slot_is_an_error_naming_it() {
    let good = plan(TINY_CONV_TRANSFORMER);
    let params: Vec<_> = good
        .train
        .params
        .iter()
        .filter(|s| s.name != "encoder.1.ffn.w1.bias")
        .copied()
        .collect();
    let broken: &'static ModelPlan = std::boxed::Box::leak(std::boxed::Box::new(ModelPlan {
        train: TablePlan {
            params: std::boxed::Box::leak(params.into_boxed_slice()),
            buffers: good.train.buffers,
        },
        ..*good
    }));
    let err = match TrainModel::<f32>::try_new(broken, 0) {
        Ok(_) => panic!("a missing slot must be refused"),
        Err(e) => e,
    };
    assert_eq!(
        err.to_string(),
        "plan `TinyConvTransformer`: op needs the param slot `encoder.1.ffn.w1.bias`, which the \
         train layout table lacks; the plan and its layout table disagree (a compiler bug): \
         regenerate the plan from the spec"
    );
}

#[test]
fn bad_batches_and_stats_are_errors_that_say_what_to_do() {
    let plan = plan(TINY_CONV_TRANSFORMER);
    let mut model = TrainModel::<f32>::new(plan, 0);
    let utts = random_utterances(plan, &[10], 1);
    let mut batch = batch_of(plan, &utts, &[0]);
    batch.labels[0] = 7;
    let msg = |r: Result<f32, TrainError>| match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        msg(model.forward(&batch, Mode::Eval)),
        "batch: label 7 of utterance 0 is not a class of model `TinyConvTransformer` (3 classes); \
         check the dataset's label mapping"
    );
    let wide = Batch {
        features: 5,
        ..batch.clone()
    };
    assert_eq!(
        msg(model.forward(&wide, Mode::Eval)),
        "batch: frames have 5 features but model `TinyConvTransformer` expects 6; compute the \
         features with the spec's front-end settings"
    );
    assert!(matches!(model.backward(), Err(TrainError::NoForward)));
    let err = model.set_feature_stats(&[0.0; 6], &[1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err(
            "feature statistics: std[2] = 0 is not finite and > 0; pass the per-feature mean and \
             std (6 values each, std > 0) computed on the training split"
                .into()
        )
    );
}
