//! Runs the embedded `TinySer` model on one synthetic utterance and prints its class scores.

use std::process::ExitCode;

use yaml_build::{TINY_SER, TinySerScratch, synthetic_frames, tiny_ser};

fn main() -> ExitCode {
    // 1.5 s of synthetic frames; the scratch lives on the heap (see `TinySerScratch::boxed`).
    let frames = synthetic_frames(150);
    let mut scratch = TinySerScratch::boxed();
    match TINY_SER.predict(&frames, &mut scratch) {
        Ok(logits) => {
            println!("TinySer (embedded weights), {} frames:", frames.len());
            for (class, logit) in tiny_ser::CLASSES.iter().zip(logits) {
                println!("{class:>8}: {logit:+.4}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
