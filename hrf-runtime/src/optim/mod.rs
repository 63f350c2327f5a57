//! Optimisation: AdamW, learning-rate schedule, gradient clipping.

pub mod adamw;
pub mod clip;
pub mod schedule;

pub use adamw::{AdamW, AdamWConfig, AdamWError, AdamWState, ParamSegment};
pub use clip::{ClipError, clip_grad_norm, global_grad_norm};
pub use schedule::{ScheduleError, WarmupCosine};
