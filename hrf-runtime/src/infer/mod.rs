//! Folded inference: the plan-driven, `no_std`, allocation-free executor that runs a deployed
//! (folded) model over its flat weight arena — the last stage of the pipeline, after
//! `fold::whole_model` (and, with `std`, the folded weight files it reads and writes).
//!
//! A generated `<Name>Folded` struct is `#[repr(C)]` of the [`layers`] types, i.e. *is* the
//! folded arena (`plan.folded` params, then buffers); its `predict` views itself as `&[f32]`
//! ([`F32Arena::as_f32s`]) and calls [`predict_folded`], which walks `plan.ops` and reads the
//! weights slot by slot in table order. Per op, the folded semantics are:
//! - the first conv reads raw log-Mel frames (CMVN folded in), plus the edge correction of its
//!   padded taps (`edge_bias`); ReLU;
//! - positions are added; every pre-LN only normalises (γ/β live in the following linear);
//! - attention: one fused `qkv` linear with `1/√dₕ` pre-applied, then `proj`;
//! - Conformer conv module: `pw1`, GLU, depthwise conv with the BatchNorm folded in, Swish, `pw2`;
//! - a Conformer closing LN that feeds another block keeps γ/β; a LN followed only by pooling
//!   and the classifier (a final norm, or the last block's closing norm) only normalises;
//! - mean pooling over the frames, the classifier.
//!
//! One utterance is processed at its own length. Activations are channel-major, `(channels, tp)`
//! with the time axis padded to a multiple of 16 (`tp`), so every linear is `W·X` with the
//! weight exactly as stored, run by the packing-free, allocation-free GEMM of `infer::gemm`
//! (AVX-512 / AVX2+FMA detected at run time with `std`, from target features without; a
//! portable path otherwise) with bias and ReLU/Swish fused into its stores; attention computes `Sᵀ = KᵀQ` per
//! head and a column softmax, so no transpose is ever materialised. Every buffer lives in the
//! caller's scratch ([`scratch_len`] `f32`s), so a call performs no allocation.

mod executor;
mod frame_ops;
pub(crate) mod gemm;
pub mod layers;
mod scratch;
mod slots;
#[cfg(feature = "std")]
pub mod weights_file;

pub use executor::predict_folded;
#[cfg(feature = "std")]
pub use layers::{ArenaLenError, boxed_from_f32s, boxed_zeroed};
pub use layers::{Conv1d, DepthwiseConv1d, F32Arena, FeatureNorm, InputConv1d, LayerNorm, Linear};
pub use scratch::scratch_len;
#[cfg(feature = "std")]
pub use weights_file::{
    FOLDED_FORMAT, FoldedWeightsError, folded_weights_to_file, read_folded_weights,
    read_folded_weights_boxed,
};

use core::fmt;

/// Why [`predict_folded`] refused a call. The first five are about the frames a user passes;
/// the rest mean the weights, scratch or logits buffers do not belong to this plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    /// `frames` is empty.
    NoFrames,
    /// `frames.len()` is not a multiple of the feature count.
    RaggedFrames { values: usize, features: usize },
    /// More frames than the model's `max_frames`.
    TooManyFrames { frames: usize, max_frames: usize },
    /// Too few frames for the frontend convs to produce one output.
    TooFewFrames { frames: usize, min_frames: usize },
    /// A NaN or infinite feature value.
    NonFinite { frame: usize, feature: usize },
    /// The model produced a NaN or infinite logit (its weights overflow on this input).
    NonFiniteLogit { class: usize },
    /// `scratch` is shorter than [`scratch_len`].
    ScratchTooSmall { needed: usize, got: usize },
    /// `logits` does not have one value per class.
    LogitsLength { expected: usize, got: usize },
    /// `weights` is not the plan's folded arena length.
    WeightsLength { expected: usize, got: usize },
    /// The folded table does not hold the slot the op list needs next (`found` is what it
    /// holds there, or `""` past its end): plan and weights come from different specs.
    WeightsMismatch {
        expected_layer: &'static str,
        expected_part: &'static str,
        found: &'static str,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InputError::NoFrames => write!(f, "no input frames; pass at least one log-Mel frame"),
            InputError::RaggedFrames { values, features } => write!(
                f,
                "{values} input values is not a whole number of {features}-feature frames; \
                 pass frames as (frames, {features}) row-major"
            ),
            InputError::TooManyFrames { frames, max_frames } => write!(
                f,
                "{frames} frames is more than this model's max_frames = {max_frames}; split the \
                 utterance or raise max_frames in the spec"
            ),
            InputError::TooFewFrames { frames, min_frames } => write!(
                f,
                "{frames} frames is too short for the frontend convs; pass at least {min_frames} frames"
            ),
            InputError::NonFinite { frame, feature } => write!(
                f,
                "input frame {frame}, feature {feature} is NaN or infinite; check the feature \
                 extraction (log of zero energy?)"
            ),
            InputError::NonFiniteLogit { class } => write!(
                f,
                "the model's logit for class {class} is NaN or infinite on this input: its weights \
                 overflow (a corrupt or edited weight file or checkpoint); export or train the \
                 model again"
            ),
            InputError::ScratchTooSmall { needed, got } => write!(
                f,
                "scratch has {got} f32s but this model needs {needed} (scratch_len(plan)); use the \
                 model's generated Scratch type"
            ),
            InputError::LogitsLength { expected, got } => write!(
                f,
                "logits has {got} values but the model has {expected} classes"
            ),
            InputError::WeightsLength { expected, got } => write!(
                f,
                "the weights have {got} f32s but this plan's folded arena has {expected}; fold or \
                 load weights made for this spec"
            ),
            InputError::WeightsMismatch {
                expected_layer,
                expected_part,
                found,
            } => write!(
                f,
                "the folded table has `{found}` where the op list needs `{expected_layer}.{expected_part}`; \
                 the plan is inconsistent (regenerate it from the spec)"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InputError {}
