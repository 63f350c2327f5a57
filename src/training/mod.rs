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

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TrainRunError {
    #[error(
        "loss became {value} at epoch {epoch}, step {step}: training diverged. The last good \
         checkpoint is kept in {}; lower --lr (now {lr}) and rerun with a new --out, or resume \
         with --resume after fixing the data",
        dir.display()
    )]
    NonFinite {
        value: f32,
        epoch: usize,
        step: u64,
        lr: f64,
        dir: std::path::PathBuf,
    },
    #[error("{0}")]
    Run(#[from] crate::run::RunError),
    #[error("{0}")]
    Other(String),
}
