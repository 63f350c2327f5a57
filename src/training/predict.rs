//! Inference over a corpus split: batched eval-mode logits of the training-form model, and
//! per-utterance logits of the folded model (parallel over utterances, one scratch per worker).
//!
//! Whole utterances: an utterance longer than the run's `max_frames` is scored by the mean of
//! the logits of overlapping windows of `max_frames` frames ([`eval_windows`]: hop of half a
//! window, the last window aligned to the utterance's end), in both paths, instead of only its
//! centre. An utterance of at most `max_frames` frames is one window: the whole utterance.

use hrf_runtime::batch::{Batch, UtteranceRef};
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::train::{Mode, TrainError, TrainModel};
use rayon::prelude::*;

use crate::pipeline::Corpus;

/// Utterances (windows) per eval-mode forward.
const EVAL_BATCH: usize = 32;

/// First frames of the evaluation windows of an utterance of `frames` frames, each `limit`
/// frames long (`[0]`, the whole utterance, when it fits): starts `0, h, 2h, …` with the hop
/// `h = max(1, ⌊limit/2⌋)` while a window ends before the utterance does, then one window
/// aligned to the end (`frames − limit`). Every frame is covered, and at most two windows
/// overlap any frame but the last window's.
pub fn eval_windows(frames: usize, limit: usize) -> Vec<usize> {
    let limit = limit.max(1);
    if frames <= limit {
        return vec![0];
    }
    let hop = (limit / 2).max(1);
    let mut starts: Vec<usize> = (0..)
        .step_by(hop)
        .take_while(|&s| s + limit < frames)
        .collect();
    starts.push(frames - limit);
    starts
}

/// The windows of `utterance` (`(frames, features)` row-major) as frame slices.
fn windows(utterance: &[f32], features: usize, limit: usize) -> Vec<&[f32]> {
    let frames = utterance.len() / features.max(1);
    eval_windows(frames, limit)
        .into_iter()
        .map(|s| {
            let end = (s + limit.max(1)).min(frames);
            &utterance[s * features..end * features]
        })
        .collect()
}

/// Mean of `logits` rows (accumulated in f64, rounded once).
fn mean_rows(sum: &[f64], count: usize) -> Vec<f32> {
    sum.iter()
        .map(|s| (s / count.max(1) as f64) as f32)
        .collect()
}

/// Plain cross-entropy of one utterance's logits (f64).
fn cross_entropy(logits: &[f32], label: usize) -> f64 {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = m + logits
        .iter()
        .map(|&z| (z as f64 - m).exp())
        .sum::<f64>()
        .ln();
    lse - logits[label] as f64
}

/// Eval-mode logits `(classes)` of each utterance in `indices`, whole (windows of `limit`
/// frames, see the module docs), and the mean plain cross-entropy of those logits per
/// utterance. A diverged model fails with [`TrainError::NonFiniteLoss`].
pub fn trained_logits(
    model: &mut TrainModel,
    corpus: &Corpus,
    indices: &[usize],
    limit: usize,
) -> Result<(Vec<Vec<f32>>, f64), TrainError> {
    let utterances: Vec<(&[f32], usize)> = indices
        .iter()
        .map(|&i| (corpus.all_frames(i), corpus.label(i)))
        .collect();
    trained_logits_of(model, &utterances, limit)
}

/// [`trained_logits`] of `(frames, label)` pairs.
pub fn trained_logits_of(
    model: &mut TrainModel,
    utterances: &[(&[f32], usize)],
    limit: usize,
) -> Result<(Vec<Vec<f32>>, f64), TrainError> {
    let plan = model.plan();
    let classes = plan.num_classes();
    let limit = limit.min(plan.max_frames);
    // Every window of every utterance, batched across utterances.
    let items: Vec<(usize, &[f32])> = utterances
        .iter()
        .enumerate()
        .flat_map(|(u, (frames, _))| {
            windows(frames, plan.features, limit)
                .into_iter()
                .map(move |w| (u, w))
        })
        .collect();
    let mut sums = vec![vec![0.0f64; classes]; utterances.len()];
    let mut counts = vec![0usize; utterances.len()];
    let mut batch = Batch::default();
    for chunk in items.chunks(EVAL_BATCH) {
        let utts: Vec<UtteranceRef<'_>> = chunk
            .iter()
            .map(|&(u, frames)| UtteranceRef {
                frames,
                label: utterances[u].1,
            })
            .collect();
        batch
            .refill(&utts, plan.features, plan.max_frames)
            .map_err(|e| TrainError::BadBatch {
                problem: e.to_string(),
            })?;
        model.forward(&batch, Mode::Eval)?;
        for (&(u, _), row) in chunk.iter().zip(model.logits().chunks_exact(classes)) {
            for (s, &z) in sums[u].iter_mut().zip(row) {
                *s += f64::from(z);
            }
            counts[u] += 1;
        }
    }
    let logits: Vec<Vec<f32>> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &n)| mean_rows(s, n))
        .collect();
    let loss_sum: f64 = logits
        .iter()
        .zip(utterances)
        .map(|(l, &(_, y))| cross_entropy(l, y))
        .sum();
    if !loss_sum.is_finite() {
        return Err(TrainError::NonFiniteLoss { step: model.step() });
    }
    Ok((logits, loss_sum / utterances.len().max(1) as f64))
}

/// Logits `(classes)` of one utterance (`(frames, features)`) through the folded executor:
/// the mean over its windows of `limit` frames.
pub fn folded_utterance_logits(
    plan: &ModelPlan,
    weights: &[f32],
    utterance: &[f32],
    limit: usize,
    scratch: &mut [f32],
) -> Result<Vec<f32>, hrf_runtime::infer::InputError> {
    let classes = plan.num_classes();
    let mut sum = vec![0.0f64; classes];
    let mut logits = vec![0.0f32; classes];
    let windows = windows(utterance, plan.features, limit.min(plan.max_frames));
    for w in &windows {
        predict_folded(plan, weights, w, scratch, &mut logits)?;
        for (s, &z) in sum.iter_mut().zip(&logits) {
            *s += f64::from(z);
        }
    }
    Ok(mean_rows(&sum, windows.len()))
}

/// Logits `(classes)` of each utterance in `indices` through the folded executor, whole
/// (windows of `limit` frames, see the module docs).
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
                folded_utterance_logits(plan, weights, corpus.all_frames(i), limit, scratch)
                    .map_err(|e| {
                        format!(
                            "utterance {} ({}): {e}",
                            corpus.dataset.utterances[i].id,
                            corpus.dataset.utterances[i].path.display()
                        )
                    })
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::SpecSource;

    #[test]
    fn windows_cover_the_utterance_with_half_window_hops_and_end_aligned() {
        assert_eq!(eval_windows(32, 32), [0]);
        assert_eq!(eval_windows(5, 32), [0]);
        assert_eq!(eval_windows(80, 32), [0, 16, 32, 48]);
        assert_eq!(eval_windows(64, 32), [0, 16, 32]);
        assert_eq!(eval_windows(33, 32), [0, 1]);
        assert_eq!(eval_windows(7, 1), (0..7).collect::<Vec<_>>());
        for frames in 1..200 {
            for limit in [1, 2, 3, 31, 32, 33, 100] {
                let w = eval_windows(frames, limit);
                let last = *w.last().unwrap_or(&0);
                assert_eq!(last + limit.min(frames), frames, "{frames} {limit}");
                assert!(w.windows(2).all(|p| p[0] < p[1] && p[1] - p[0] <= limit));
            }
        }
    }

    fn tiny() -> &'static ModelPlan {
        SpecSource {
            label: "tiny.yaml".into(),
            text: "name: TinyWin\ninput: { features: 8, max_frames: 32 }\ndims: { d: 8, heads: 2, ffn: 16 }\n\
                   frontend:\n  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }\n  positions: sinusoidal\n\
                   encoder:\n  - repeat: 1\n    block: conformer\n    attention: { heads: heads }\n\
                   \x20   ffn: { hidden: ffn, act: swish, hrf: { expand: 2 } }\n    conv: { kernel: 3 }\n\
                   pool: mean\nclasses: [a, b]\n"
                .into(),
        }
        .plan()
        .unwrap()
    }

    fn frames(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::super::recipe::Rng::new(seed);
        (0..n * 8)
            .map(|_| (rng.next_u64() % 2000) as f32 / 1000.0 - 1.0)
            .collect()
    }

    #[test]
    fn long_utterances_score_the_mean_of_their_windows_in_both_paths() {
        let plan = tiny();
        let mut model = TrainModel::new(plan, 3);
        let short = frames(32, 1);
        let long = frames(80, 2);
        let (logits, loss) = trained_logits_of(&mut model, &[(&short, 0), (&long, 1)], 32).unwrap();
        // Exactly max_frames: one window, the old whole-utterance result.
        let direct = model.predict(&short).unwrap();
        assert_eq!(logits[0], direct);
        // Longer: the mean of the windows' logits at 0, 16, 32, 48.
        let mut want = vec![0.0f64; 2];
        for s in [0, 16, 32, 48] {
            let w = model.predict(&long[s * 8..(s + 32) * 8]).unwrap();
            for (a, b) in want.iter_mut().zip(w) {
                *a += f64::from(b) / 4.0;
            }
        }
        for (got, want) in logits[1].iter().zip(&want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        let ce = (cross_entropy(&logits[0], 0) + cross_entropy(&logits[1], 1)) / 2.0;
        assert!((loss - ce).abs() < 1e-12);

        // The folded path windows the same way.
        let weights = hrf_runtime::fold::fold_model(plan, model.params(), model.buffers()).unwrap();
        let mut scratch = vec![0.0f32; scratch_len(plan)];
        let folded_short =
            folded_utterance_logits(plan, &weights, &short, 32, &mut scratch).unwrap();
        let mut one = vec![0.0f32; 2];
        predict_folded(plan, &weights, &short, &mut scratch, &mut one).unwrap();
        assert_eq!(folded_short, one);
        let folded_long = folded_utterance_logits(plan, &weights, &long, 32, &mut scratch).unwrap();
        let mut want = vec![0.0f64; 2];
        for s in [0, 16, 32, 48] {
            predict_folded(
                plan,
                &weights,
                &long[s * 8..(s + 32) * 8],
                &mut scratch,
                &mut one,
            )
            .unwrap();
            for (a, &b) in want.iter_mut().zip(&one) {
                *a += f64::from(b) / 4.0;
            }
        }
        for (got, want) in folded_long.iter().zip(&want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        // Folded and trained agree on the long utterance too.
        for (a, b) in folded_long.iter().zip(&logits[1]) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }
}
