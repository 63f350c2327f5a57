//! Run files: where a training loop stands (epoch, step, best validation UA, patience) and the
//! per-epoch history that learning-curve plots and reports read.

use serde::{Deserialize, Serialize};

/// One finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Mean validation cross-entropy per utterance.
    pub val_loss: f64,
    pub val_ua: f64,
    pub val_wa: f64,
    pub val_macro_f1: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
}

/// The loop's position, saved in every checkpoint so that `--resume` continues exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainProgress {
    /// 0-based epoch being trained (or validated when `step_in_epoch` = its batch count).
    pub epoch: usize,
    /// Batches of `epoch` already applied.
    pub step_in_epoch: usize,
    /// Optimizer steps applied since the start.
    pub global_step: u64,
    /// Sum of the training losses of `epoch` so far (for its mean).
    pub epoch_loss_sum: f64,
    /// Validation UA of the best epoch so far (by the run's `select` criterion) and that
    /// 1-based epoch.
    pub best_ua: Option<f64>,
    pub best_epoch: usize,
    /// Validation loss of the best epoch (what `--select loss` compares; absent in records
    /// written before it existed).
    #[serde(default)]
    pub best_val_loss: Option<f64>,
    /// Epochs since the best one (early stopping compares it to the patience).
    pub epochs_since_best: usize,
    pub history: Vec<EpochRecord>,
    /// `Some(reason)` once training has ended (all epochs, or early stopping).
    pub finished: Option<String>,
}
