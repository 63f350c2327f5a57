//! The embedded `TINY_SER` is exactly the committed weights file, and predicts like the same
//! weights read at run time.

use yaml_build::{TINY_SER, TinySerFolded, TinySerScratch, synthetic_frames, tiny_ser};

use hrf_runtime::infer::F32Arena;

const WEIGHTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/tiny_ser.safetensors");

#[test]
fn embedded_static_equals_the_weights_file_bit_for_bit() {
    let read = TinySerFolded::read(WEIGHTS).expect("committed weights read back");
    let embedded = TINY_SER.as_f32s();
    let from_file = read.as_f32s();
    assert_eq!(embedded.len(), from_file.len());
    let differing = embedded
        .iter()
        .zip(from_file)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(differing, 0, "of {} values", embedded.len());
    // The static lives in read-only data: one `f32` per folded parameter.
    assert_eq!(
        size_of::<TinySerFolded>(),
        4 * (TinySerFolded::PLAN.folded.params_len() + TinySerFolded::PLAN.folded.buffers_len())
    );
}

#[test]
fn embedded_model_predicts_finite_logits_equal_to_the_read_model() {
    let read = TinySerFolded::read(WEIGHTS).expect("committed weights read back");
    let mut scratch = TinySerScratch::boxed();
    for n in [8, 57, tiny_ser::MAX_FRAMES] {
        let frames = synthetic_frames(n);
        let a = TINY_SER
            .predict(&frames, &mut scratch)
            .expect("valid input");
        let b = read.predict(&frames, &mut scratch).expect("valid input");
        assert!(a.iter().all(|v| v.is_finite()), "{n} frames: {a:?}");
        assert_eq!(a, b, "{n} frames");
    }
}

#[test]
fn too_many_frames_is_an_error_not_a_panic() {
    let mut scratch = TinySerScratch::boxed();
    let frames = synthetic_frames(tiny_ser::MAX_FRAMES + 1);
    let err = TINY_SER.predict(&frames, &mut scratch).unwrap_err();
    assert_eq!(
        err,
        hrf_runtime::infer::InputError::TooManyFrames {
            frames: tiny_ser::MAX_FRAMES + 1,
            max_frames: tiny_ser::MAX_FRAMES
        }
    );
    assert!(TINY_SER.predict(&[], &mut scratch).is_err());
}
