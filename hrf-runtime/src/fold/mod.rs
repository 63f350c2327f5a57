//! Deploy-time folds: pure functions on weights (f64 accumulation, one rounding to f32).
//!
//! Every fold takes borrowed trained weights ([`LinearRef`], …), checks their shapes, composes
//! the affine maps in f64 and rounds once to f32. Layouts are the kernels' (row-major, a linear
//! weight is `W: (out, in)` and computes `y = x·Wᵀ + b`; a conv weight is `(c_out, c_in, k)`).
//! The folded layers compute the same function as the trained chain up to that single rounding
//! (each fold's test checks relative 1e-5 in f32 on random weights far from identity).

// Fold errors carry the names and shapes of both tensors involved, which makes `FoldError`
// larger than clippy likes in a `Result`; folds run once per deployment, so that size costs
// nothing.
#![allow(clippy::result_large_err)]

mod affine_map;
pub mod batch_norm_into_conv;
pub mod feature_stats_into_input;
pub mod fuse_qkv;
pub mod hrf_into_ffn;
pub mod layer_norm_into_linear;
#[cfg(test)]
mod reference;
pub mod whole_model;
#[cfg(test)]
mod with_runtime_kernels;

pub use batch_norm_into_conv::{BatchNormRef, ConvRef, FoldedConv, fold_batch_norm_into_conv};
pub use feature_stats_into_input::{
    FeatureStatsRef, FoldedInputConv, correct_input_conv_edges, fold_feature_stats_into_input,
};
pub use fuse_qkv::fuse_qkv;
pub use hrf_into_ffn::fold_hrf_into_ffn;
pub use layer_norm_into_linear::{LayerNormRef, fold_layer_norm_into_linear};
pub use whole_model::fold_model;

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

/// Why a fold refused its inputs. Every message names the fold and the tensors involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FoldError {
    #[error(
        "{fold}: `{tensor}` has {got} elements but its declared shape {shape} needs {expected}; \
         pass the buffer that matches the layout table"
    )]
    BufferLength {
        fold: &'static str,
        tensor: String,
        shape: String,
        expected: usize,
        got: usize,
    },
    #[error("{fold}: `{left}` is {left_shape} but `{right}` is {right_shape}: {rule}")]
    ShapeMismatch {
        fold: &'static str,
        left: String,
        left_shape: String,
        right: String,
        right_shape: String,
        rule: &'static str,
    },
    #[error("{fold}: `{tensor}`[{index}] = {value} {rule}")]
    InvalidValue {
        fold: &'static str,
        tensor: String,
        index: usize,
        value: f64,
        rule: &'static str,
    },
    #[error("{fold}: {problem}")]
    InvalidArgument { fold: &'static str, problem: String },
}

/// A trained linear layer, borrowed: `y = x·Wᵀ + b`.
#[derive(Clone, Copy, Debug)]
pub struct LinearRef<'a> {
    /// Parameter name for error messages (e.g. `encoder.2.ffn1.hrf.0`).
    pub name: &'a str,
    /// (out, inp) — row-major.
    pub weight: &'a [f32],
    /// (out) — `None` for a linear without bias.
    pub bias: Option<&'a [f32]>,
    /// Output features.
    pub out: usize,
    /// Input features.
    pub inp: usize,
}

impl<'a> LinearRef<'a> {
    /// A linear `(out, inp)` named `name`.
    pub fn new(
        name: &'a str,
        weight: &'a [f32],
        bias: Option<&'a [f32]>,
        out: usize,
        inp: usize,
    ) -> Self {
        LinearRef {
            name,
            weight,
            bias,
            out,
            inp,
        }
    }

    /// Checks the buffers against the declared `(out, inp)`.
    pub(crate) fn check(&self, fold: &'static str) -> Result<(), FoldError> {
        check_len(
            fold,
            self.name,
            "weight",
            &[self.out, self.inp],
            self.weight.len(),
        )?;
        if let Some(b) = self.bias {
            check_len(fold, self.name, "bias", &[self.out], b.len())?;
        }
        Ok(())
    }

    pub(crate) fn shape(&self) -> String {
        shape_string(&[self.out, self.inp])
    }
}

/// A folded linear layer: `y = x·Wᵀ + b`. The bias is always present (zero if the trained
/// layers had none: exact, and one code path for the folded model).
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedLinear {
    /// (out, inp) — row-major.
    pub weight: Vec<f32>,
    /// (out)
    pub bias: Vec<f32>,
    /// Output features.
    pub out: usize,
    /// Input features.
    pub inp: usize,
}

/// `(a, b, c)` for error messages.
pub(crate) fn shape_string(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// Checks that `name.part` holds exactly `∏ shape` elements.
pub(crate) fn check_len(
    fold: &'static str,
    name: &str,
    part: &str,
    shape: &[usize],
    got: usize,
) -> Result<(), FoldError> {
    let expected: usize = shape.iter().product();
    if got == expected {
        Ok(())
    } else {
        Err(FoldError::BufferLength {
            fold,
            tensor: format!("{name}.{part}"),
            shape: shape_string(shape),
            expected,
            got,
        })
    }
}
