//! Optimisation: AdamW, learning-rate schedule, gradient clipping.

pub mod adamw;
pub mod clip;
pub mod schedule;
