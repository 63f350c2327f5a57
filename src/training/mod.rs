//! Training stage of the CLI: one protocol fold of a corpus → a trained run directory, with
//! validation each epoch, best-UA checkpoints, early stopping, step checkpoints and exact resume.

mod fit;
pub mod predict;

pub use fit::{TrainJob, TrainOutcome, state_path, train};

use serde::{Deserialize, Serialize};

/// Hyper-parameters and loop settings (recorded in run.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate (after warmup; cosine decay to 0 at the last step).
    pub lr: f64,
    pub weight_decay: f32,
    /// Share of the steps spent warming up.
    pub warmup_fraction: f64,
    /// Global gradient-norm clip.
    pub clip_norm: f32,
    /// Stop after this many epochs without a better validation UA (0 = never).
    pub patience: usize,
    pub seed: u64,
    /// Save the full state every this many optimizer steps (0 = only at epoch ends).
    pub checkpoint_steps: u64,
    /// Frames per utterance fed to the model (centre crop); at most the spec's max_frames.
    pub max_frames: usize,
}

/// The checkpoint a diverged run still has, named in its error only when it exists.
#[derive(Debug)]
pub struct KeptCheckpoint(pub Option<std::path::PathBuf>);

impl std::fmt::Display for KeptCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(path) => write!(
                f,
                "The last good checkpoint is {} (after fixing the data, --resume continues from it)",
                path.display()
            ),
            None => f.write_str("No checkpoint had been saved yet"),
        }
    }
}

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TrainRunError {
    #[error(
        "{what} became {value} at epoch {epoch}, step {step}: training diverged. {kept}; lower \
         --lr (now {lr}) and rerun with a new --out"
    )]
    NonFinite {
        /// `loss` or `gradient norm`: the first value that stopped being finite.
        what: &'static str,
        value: f32,
        epoch: usize,
        step: u64,
        lr: f64,
        kept: KeptCheckpoint,
    },
    #[error("{0}")]
    Run(#[from] crate::run::RunError),
    #[error("{0}")]
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_names_the_kept_checkpoint_only_when_there_is_one() {
        let diverged = |kept| TrainRunError::NonFinite {
            what: "loss",
            value: f32::NAN,
            epoch: 1,
            step: 3,
            lr: 10.0,
            kept,
        };
        assert_eq!(
            diverged(KeptCheckpoint(None)).to_string(),
            "loss became NaN at epoch 1, step 3: training diverged. No checkpoint had been saved \
             yet; lower --lr (now 10) and rerun with a new --out"
        );
        let kept = KeptCheckpoint(Some("run/state.safetensors".into()));
        assert_eq!(
            diverged(kept).to_string(),
            "loss became NaN at epoch 1, step 3: training diverged. The last good checkpoint is \
             run/state.safetensors (after fixing the data, --resume continues from it); lower \
             --lr (now 10) and rerun with a new --out"
        );
    }
}
