//! Example (build.rs front-end): the models compiled from `specs/*.yaml` by `build.rs`, with
//! `TINY_SER`, the folded weights of `TinySer` embedded in the binary's read-only data.
//!
//! Generated items (see `OUT_DIR/tiny_ser.rs`): the `tiny_ser` dims module,
//! `TINY_SER_PLAN`, `TinySerTrain`, `TinySerFolded`, `TinySerScratch` and `static TINY_SER`.

include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));

/// `(frames, features)` synthetic log-Mel-like input for `n` frames: a smooth ripple around a
/// typical log-energy, so the example needs no WAV file.
pub fn synthetic_frames(n: usize) -> Vec<[f32; tiny_ser::FEATURES]> {
    (0..n)
        .map(|t| {
            std::array::from_fn(|f| {
                let (t, f) = (t as f32, f as f32);
                -6.0 + (0.21 * t + 0.37 * f).sin() + 0.05 * f
            })
        })
        .collect()
}
