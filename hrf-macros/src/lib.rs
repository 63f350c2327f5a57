//! `model! { … }`: the proc-macro shim in front of hrf-compiler's inline front-end.
//!
//! All parsing, checking and code generation lives in `hrf_compiler::frontend::tokens`, where it
//! is tested without a compiler in the loop; this crate only converts between `proc_macro` and
//! `proc_macro2` token streams.

use proc_macro::TokenStream;

/// Declares a model inline, in the same language as the YAML specs (see `specs/`); use it as
/// `hrf_runtime::model!`:
///
/// ```
/// hrf_runtime::model! {
///     name: ConformerLightHrf,
///     input: { features: 64, max_frames: 600 },
///     dims: { d: 64, heads: 4, ffn: 4 * d },
///     frontend: { conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 } },
///     encoder: [
///         { repeat: 4, block: conformer,
///           ffn: { hidden: ffn, act: swish, hrf: { expand: 4 } },
///           attention: { heads: heads }, conv: { kernel: 15 } },
///     ],
///     pool: mean,
///     classes: [neutral, angry, happy, sad],
/// }
///
/// assert_eq!(conformer_light_hrf::FFN, 256);
/// assert_eq!(conformer_light_hrf::CLASSES, ["neutral", "angry", "happy", "sad"]);
/// assert_eq!(CONFORMER_LIGHT_HRF_PLAN.name, "ConformerLightHrf");
/// // HRF is folded away in the deployed type: W1 is d → ffn again.
/// let _: fn(&ConformerLightHrfFolded) -> &hrf_runtime::infer::Linear<64, 256> =
///     |m| &m.encoder_0_ffn1_w1;
/// ```
///
/// expands to what `hrf_compiler::codegen::generate` emits (the same items build.rs writes for
/// a YAML spec): `pub mod conformer_light_hrf { pub const D: usize = 64; … pub const CLASSES:
/// [&str; 4] = [...]; }`, `pub const CONFORMER_LIGHT_HRF_PLAN: ModelPlan`,
/// `ConformerLightHrfFolded` (`#[repr(C)]`, one field per folded layer, `predict`),
/// `ConformerLightHrfScratch`, and, when hrf-runtime has `std`, `ConformerLightHrfTrain`.
/// Every mistake in the spec is a compile error at the token that caused it.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    hrf_compiler::frontend::tokens::expand_model(input.into()).into()
}
