//! Training input and parallelism: variable-length utterances padded into a [`Batch`], a seeded
//! epoch order ([`epoch_batches`]), and the deterministic parallel-over-utterances gradient
//! driver ([`ChunkedGradients`]: bit-identical results for a fixed chunk count, whatever the
//! thread count).

mod chunked_gradients;
mod epoch_order;

pub use chunked_gradients::ChunkedGradients;
pub use epoch_order::epoch_batches;

use std::vec::Vec;

/// Why a batch or a gradient run was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    #[error("batch: no utterances given; a batch needs at least one")]
    Empty,
    #[error(
        "batch: utterance {index} has {len} values, not a multiple of {features} features per \
         frame; the frames must be (len, {features}) row-major"
    )]
    Ragged {
        index: usize,
        len: usize,
        features: usize,
    },
    #[error(
        "batch: utterance {index} has no frames; drop empty utterances when building the dataset"
    )]
    NoFrames { index: usize },
    #[error(
        "batch: utterance {index} has {frames} frames, more than the model's limit of \
         {limit}; crop or split long utterances in the data loader"
    )]
    TooLong {
        index: usize,
        frames: usize,
        limit: usize,
    },
    #[error("batch: features must be ≥ 1")]
    NoFeatures,
    #[error("parallel gradients: {what} = 0; need at least one chunk and one parameter")]
    ZeroSize { what: &'static str },
    #[error(
        "parallel gradients: `{buffer}` has {got} entries but {expected} are needed; build the \
         driver with the model's parameter count and one scratch per chunk"
    )]
    Length {
        buffer: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("epoch order: batch_size must be ≥ 1")]
    BatchSize,
}

/// One utterance's input, borrowed from the dataset.
#[derive(Clone, Copy, Debug)]
pub struct UtteranceRef<'a> {
    /// (len, features) — row-major log-Mel frames.
    pub frames: &'a [f32],
    /// Class index.
    pub label: usize,
}

/// Variable-length utterances padded to the longest one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// (batch, max_frames, features) — utterance `b`'s frame `t` starts at
    /// `(b·max_frames + t)·features`; frames `t ≥ lengths[b]` are zero.
    pub frames: Vec<f32>,
    /// (batch) — valid frames of each utterance.
    pub lengths: Vec<usize>,
    /// (batch) — class index of each utterance.
    pub labels: Vec<usize>,
    /// Values per frame.
    pub features: usize,
    /// `max(lengths)`: padded frames per utterance.
    pub max_frames: usize,
}

impl Batch {
    /// Pads `utterances` into a new batch; every utterance must have `1..=frame_limit` frames
    /// of `features` values.
    pub fn from_utterances(
        utterances: &[UtteranceRef<'_>],
        features: usize,
        frame_limit: usize,
    ) -> Result<Batch, BatchError> {
        let mut batch = Batch::default();
        batch.refill(utterances, features, frame_limit)?;
        Ok(batch)
    }

    /// As [`Batch::from_utterances`], reusing this batch's allocations (the training loop calls
    /// it every step). On error the batch is left empty.
    pub fn refill(
        &mut self,
        utterances: &[UtteranceRef<'_>],
        features: usize,
        frame_limit: usize,
    ) -> Result<(), BatchError> {
        self.frames.clear();
        self.lengths.clear();
        self.labels.clear();
        self.features = features;
        self.max_frames = 0;
        if features == 0 {
            return Err(BatchError::NoFeatures);
        }
        if utterances.is_empty() {
            return Err(BatchError::Empty);
        }
        let mut max_frames = 0;
        for (index, u) in utterances.iter().enumerate() {
            let len = u.frames.len() / features;
            if u.frames.len() % features != 0 {
                return Err(BatchError::Ragged {
                    index,
                    len: u.frames.len(),
                    features,
                });
            }
            if len == 0 {
                return Err(BatchError::NoFrames { index });
            }
            if len > frame_limit {
                return Err(BatchError::TooLong {
                    index,
                    frames: len,
                    limit: frame_limit,
                });
            }
            max_frames = max_frames.max(len);
        }
        self.max_frames = max_frames;
        let stride = max_frames * features;
        self.frames.resize(utterances.len() * stride, 0.0);
        for (u, dst) in utterances.iter().zip(self.frames.chunks_exact_mut(stride)) {
            dst[..u.frames.len()].copy_from_slice(u.frames);
            self.lengths.push(u.frames.len() / features);
            self.labels.push(u.label);
        }
        Ok(())
    }

    /// Number of utterances.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// `true` for a batch without utterances (only a default or failed batch).
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// `(max_frames, features)` — utterance `b`'s padded frames (valid ones first).
    pub fn utterance_frames(&self, b: usize) -> &[f32] {
        let stride = self.max_frames * self.features;
        &self.frames[b * stride..(b + 1) * stride]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_pads_utterances_with_zeros() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 frames of 2
        let b = [7.0f32, 8.0]; // 1 frame
        let utts = [
            UtteranceRef {
                frames: &a,
                label: 2,
            },
            UtteranceRef {
                frames: &b,
                label: 0,
            },
        ];
        let mut batch = Batch::from_utterances(&utts, 2, 600).unwrap();
        assert_eq!((batch.len(), batch.max_frames, batch.features), (2, 3, 2));
        assert_eq!(batch.lengths, [3, 1]);
        assert_eq!(batch.labels, [2, 0]);
        assert_eq!(
            batch.frames,
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(batch.utterance_frames(1), [7.0, 8.0, 0.0, 0.0, 0.0, 0.0]);
        // Refilling with a shorter batch reuses the buffers and leaves no stale values.
        batch.refill(&utts[1..], 2, 600).unwrap();
        assert_eq!(
            (batch.len(), batch.max_frames, batch.frames.as_slice()),
            (1, 1, &[7.0, 8.0][..])
        );
    }

    #[test]
    fn batch_rejects_bad_utterances() {
        let odd = [1.0f32; 5];
        let err = Batch::from_utterances(
            &[UtteranceRef {
                frames: &odd,
                label: 0,
            }],
            2,
            600,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "batch: utterance 0 has 5 values, not a multiple of 2 features per frame; the frames \
             must be (len, 2) row-major"
        );
        let long = [0.0f32; 8];
        let ok = [0.0f32; 2];
        let utts = [
            UtteranceRef {
                frames: &ok,
                label: 0,
            },
            UtteranceRef {
                frames: &long,
                label: 1,
            },
        ];
        assert_eq!(
            Batch::from_utterances(&utts, 2, 3).unwrap_err().to_string(),
            "batch: utterance 1 has 4 frames, more than the model's limit of 3; crop or split \
             long utterances in the data loader"
        );
        // A refused refill leaves an empty batch, not stale sizes.
        let mut batch = Batch::from_utterances(&utts[..1], 2, 3).unwrap();
        assert!(batch.refill(&utts, 2, 3).is_err());
        assert_eq!(
            (batch.len(), batch.max_frames, batch.frames.len()),
            (0, 0, 0)
        );
        let empty = UtteranceRef {
            frames: &[],
            label: 0,
        };
        assert_eq!(
            Batch::from_utterances(&[empty], 2, 3),
            Err(BatchError::NoFrames { index: 0 })
        );
        assert_eq!(Batch::from_utterances(&[], 2, 3), Err(BatchError::Empty));
    }
}
