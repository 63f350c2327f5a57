//! Example (deployment without `std`): a `#![no_std]` library whose only model code is the
//! generated `TinySerFolded` struct, its embedded weights (`static TINY_SER`, in read-only data
//! through `include_bytes!`) and hrf-runtime's core executor. No allocator is needed either:
//! the caller provides the scratch memory.
//!
//! hrf-runtime is used without default features, and this crate is outside the hrf workspace
//! so that no other crate's features unify into it; `cargo tree -e features -p hrf-runtime`
//! in this directory lists no `std` feature. The generated training type sits in
//! `hrf_runtime::__with_std! { … }` and is not compiled here.
#![no_std]

include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));

pub use hrf_runtime::infer::InputError;

/// The most likely class (index into [`tiny_ser::CLASSES`]) for one utterance of log-Mel
/// frames, with the embedded weights. Allocates nothing; `scratch` can be a `static mut`, a
/// field of a long-lived value, or a stack value on a thread with a large enough stack
/// (`size_of::<TinySerScratch>()` bytes).
///
/// # Errors
///
/// The frames are empty, too many (over [`tiny_ser::MAX_FRAMES`]), too few for the frontend
/// convs, or hold a non-finite value.
pub fn classify(
    frames: &[[f32; tiny_ser::FEATURES]],
    scratch: &mut TinySerScratch,
) -> Result<usize, InputError> {
    let logits = TINY_SER.predict(frames, scratch)?;
    let mut best = 0;
    for (class, logit) in logits.iter().enumerate() {
        if *logit > logits[best] {
            best = class;
        }
    }
    Ok(best)
}
