//! hrf runtime: the kernels every generated model calls, the fold math, and (with `std`) training.
//!
//! Conventions shared by every kernel (see each kernel's docs for its own shapes):
//! - buffers are flat, row-major `f32` slices; a linear weight is `W: (out, in)` and computes
//!   `y = x·Wᵀ + b`;
//! - kernels come in mirrored pairs `<op>_forward` / `<op>_backward`; argument order is outputs,
//!   then saved values, then inputs, then parameters, then dims; backward *accumulates* into its
//!   gradient outputs;
//! - kernels never allocate and only `debug_assert!` lengths: shapes were checked at spec time.
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
extern crate std;

pub(crate) mod cpu;
pub mod infer;
pub mod kernels;
pub mod plan;
pub mod real;

#[cfg(test)]
pub(crate) mod testing;

#[cfg(feature = "std")]
pub mod atomic_file;
#[cfg(feature = "std")]
pub mod batch;
#[cfg(feature = "std")]
pub mod fold;
#[cfg(feature = "std")]
pub mod optim;
#[cfg(feature = "spec")]
pub mod spec;
#[cfg(feature = "std")]
pub mod train;

pub use hrf_macros::model;

/// Paths that generated code names (`::hrf_runtime::__private::…`). Not a stable API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "std")]
    pub use crate::infer::{
        ArenaLenError, FoldedWeightsError, boxed_from_f32s, boxed_zeroed, folded_weights_to_file,
        read_folded_weights, read_folded_weights_boxed,
    };
    pub use crate::infer::{
        Conv1d, DepthwiseConv1d, F32Arena, FeatureNorm, InputConv1d, InputError, LayerNorm, Linear,
        predict_folded, scratch_len,
    };
    pub use crate::kernels::*;
    pub use crate::plan::*;
    #[cfg(feature = "std")]
    pub use {
        crate::fold::{FoldError, fold_model},
        crate::optim::AdamWState,
        crate::train::{Optimizer, TrainError, TrainModel},
        std::boxed::Box,
        std::path::Path,
    };
}

/// Expands its input only when hrf-runtime has the `std` feature: generated code wraps the
/// training type in it, so one generated file serves both `std` and `no_std` crates.
#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:item)*) => { $($item)* };
}

/// Without `std`, the training items are left out.
#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:item)*) => {};
}
