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
//!
//! Where it sits: the compiler emits one `const PLAN: ModelPlan` per spec and a `<Name>Train`
//! newtype over [`TrainModel`]; the CLI builds the same plan at run time from a YAML spec. Either
//! way the engine only reads the plan: `plan.ops` says what runs, `plan.train` where every tensor
//! lives (slot names are the checkpoint's tensor names). Folding and folded inference read
//! `plan.folded` (`fold::fold_model`, `infer::predict_folded`).

mod checkpoint;
mod dense;
mod error;
mod frames;
mod hrf_variant;
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
pub use hrf_variant::IDENTITY_NOISE;
pub use model::{Mode, TrainModel};
pub use optimizer::{Optimizer, OptimizerConfig, StepReport};
pub use profile::StepProfile;
