//! Training-engine errors: plan inconsistencies, bad batches, divergence and checkpoint problems,
//! each saying what to do.

use std::path::PathBuf;
use std::string::String;

use crate::optim::{AdamWError, ClipError, ScheduleError};

/// Why the training engine refused a plan, a batch, a step or a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(
        "plan `{spec}`: op needs the {table} slot `{slot}`, which the train layout table lacks; \
         the plan and its layout table disagree (a compiler bug): regenerate the plan from the spec"
    )]
    MissingSlot {
        spec: &'static str,
        table: &'static str,
        slot: String,
    },
    #[error(
        "plan `{spec}`: slot `{slot}` holds {got} values but the op needs {expected}; the plan \
         and its layout table disagree (a compiler bug): regenerate the plan from the spec"
    )]
    SlotShape {
        spec: &'static str,
        slot: String,
        got: usize,
        expected: usize,
    },
    #[error(
        "batch: frames have {got} features but model `{spec}` expects {expected}; compute the \
         features with the spec's front-end settings"
    )]
    Features {
        spec: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("batch: {problem}; build batches with `Batch::from_utterances`")]
    BadBatch { problem: String },
    #[error(
        "batch: utterance {index} has {frames} frames, more than model `{spec}`'s limit of \
         {limit}; crop or split long utterances"
    )]
    TooLong {
        spec: &'static str,
        index: usize,
        frames: usize,
        limit: usize,
    },
    #[error(
        "batch: label {label} of utterance {index} is not a class of model `{spec}` ({classes} \
         classes); check the dataset's label mapping"
    )]
    Label {
        spec: &'static str,
        index: usize,
        label: usize,
        classes: usize,
    },
    #[error(
        "feature statistics: {what}; pass the per-feature mean and std ({features} values each, \
         std > 0) computed on the training split"
    )]
    FeatureStats { what: String, features: usize },
    #[error(
        "loss is not finite at step {step}: training diverged; lower the learning rate, enable \
         gradient clipping, or check the input features for NaN/Inf"
    )]
    NonFiniteLoss { step: u64 },
    #[error("training objective: {what}")]
    Objective { what: String },
    #[error("backward called without a preceding forward; call `forward` first")]
    NoForward,
    #[error("optimizer: {0}")]
    AdamW(#[from] AdamWError),
    #[error("optimizer: {0}")]
    Clip(#[from] ClipError),
    #[error("learning-rate schedule: {0}")]
    Schedule(#[from] ScheduleError),
    #[error("optimizer: {what}; build the optimizer for this model (`Optimizer::new`)")]
    OptimizerMismatch { what: String },
    #[error("checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "checkpoint {path}: it was written for spec `{found_spec}` (hash {found_hash}), but this \
         model is `{expected_spec}` (hash {expected_hash}); load it with the spec it was trained \
         with, or start `{expected_spec}` from scratch"
    )]
    WrongSpec {
        path: PathBuf,
        found_spec: String,
        found_hash: String,
        expected_spec: &'static str,
        expected_hash: &'static str,
    },
    #[error("checkpoint {path}: {problem}; the file is damaged or not an hrf training checkpoint")]
    BadCheckpoint { path: PathBuf, problem: String },
}
