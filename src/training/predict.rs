//! Inference over a corpus split: batched eval-mode logits of the training-form model, and
//! per-utterance logits of the folded model (parallel over utterances, one scratch per worker).

use hrf_runtime::batch::{Batch, UtteranceRef};
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::train::{Mode, TrainError, TrainModel};
use rayon::prelude::*;

use crate::pipeline::Corpus;

/// Utterances per eval-mode forward.
const EVAL_BATCH: usize = 32;

/// Eval-mode logits `(classes)` of each utterance in `indices` (cropped to `limit` frames) and
/// the mean cross-entropy per utterance. A diverged model fails with
/// [`TrainError::NonFiniteLoss`].
pub fn trained_logits(
    model: &mut TrainModel,
    corpus: &Corpus,
    indices: &[usize],
    limit: usize,
) -> Result<(Vec<Vec<f32>>, f64), TrainError> {
    let plan = model.plan();
    let classes = plan.num_classes();
    let mut out = Vec::with_capacity(indices.len());
    let mut loss_sum = 0.0f64;
    let mut batch = Batch::default();
    for chunk in indices.chunks(EVAL_BATCH) {
        let utts: Vec<UtteranceRef<'_>> = chunk
            .iter()
            .map(|&i| UtteranceRef {
                frames: corpus.frames(i, limit),
                label: corpus.label(i),
            })
            .collect();
        batch
            .refill(&utts, plan.features, plan.max_frames)
            .map_err(|e| TrainError::BadBatch {
                problem: e.to_string(),
            })?;
        let loss = model.forward(&batch, Mode::Eval)?;
        loss_sum += f64::from(loss) * chunk.len() as f64;
        out.extend(model.logits().chunks_exact(classes).map(<[f32]>::to_vec));
    }
    Ok((out, loss_sum / indices.len().max(1) as f64))
}

/// Logits `(classes)` of each utterance in `indices` through the folded executor.
pub fn folded_logits(
    plan: &ModelPlan,
    weights: &[f32],
    corpus: &Corpus,
    indices: &[usize],
    limit: usize,
) -> Result<Vec<Vec<f32>>, String> {
    let scratch = scratch_len(plan);
    indices
        .par_iter()
        .map_init(
            || vec![0.0f32; scratch],
            |scratch, &i| {
                let mut logits = vec![0.0f32; plan.num_classes()];
                predict_folded(plan, weights, corpus.frames(i, limit), scratch, &mut logits)
                    .map_err(|e| {
                        format!(
                            "utterance {} ({}): {e}",
                            corpus.dataset.utterances[i].id,
                            corpus.dataset.utterances[i].path.display()
                        )
                    })?;
                Ok(logits)
            },
        )
        .collect()
}
