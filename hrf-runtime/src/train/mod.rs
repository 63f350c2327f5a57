//! Training engine (feature `std`): the plan-driven model that generated `<Name>Train` types and
//! the CLI wrap — forward/backward over `plan.ops` with the runtime kernels, AdamW with a
//! warmup-cosine schedule and clipping, and safetensors checkpoints.
//!
//! Execution is layer-major over the whole batch: every utterance's valid frames are packed back
//! to back (no padding rows, so an utterance's outputs never depend on its neighbours, BatchNorm
//! in train mode excepted by design), every linear is one GEMM over all frames, and frame-mixing
//! ops (attention, convs, merges) run per utterance in parallel with rayon. Parallel work is
//! split at fixed boundaries and reductions run in a fixed order, so results are bit-identical
//! run to run and for any rayon thread count.

mod checkpoint;
mod dense;
mod error;
mod frames;
mod layers;
mod model;
mod optimizer;
mod profile;
mod rowwise;
mod slots;
#[cfg(all(test, feature = "spec"))]
mod tests;

pub use checkpoint::{CHECKPOINT_FORMAT, TrainState};
pub use error::TrainError;
pub use model::{Mode, TrainModel};
pub use optimizer::{Optimizer, OptimizerConfig, StepReport};
pub use profile::StepProfile;
