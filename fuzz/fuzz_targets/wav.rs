//! Any bytes → `decode_wav` returns Ok (bounded by the input) or an error naming the file.
#![no_main]

use std::path::Path;

use hrf_audio::wav::{SAMPLE_RATES, decode_wav};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_wav(data, Path::new("fuzz.wav")) {
        Ok(audio) => {
            assert!(!audio.samples.is_empty());
            assert!(audio.samples.len() <= data.len());
            assert!(SAMPLE_RATES.contains(&audio.sample_rate));
            assert!(audio.samples.iter().all(|x| x.is_finite()));
        }
        Err(e) => assert!(e.to_string().contains("fuzz.wav"), "{e}"),
    }
});
