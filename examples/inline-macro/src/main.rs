//! Example (inline front-end): a model declared with `model!`, initialised, folded into its
//! const-shaped deployed struct, and run once on synthetic log-Mel frames.

use std::process::ExitCode;

hrf_runtime::model! {
    name: TinyConformerHrf,
    input: { features: 16, max_frames: 64 },
    dims: { d: 16, heads: 2, ffn: 4 * d },
    frontend: { conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 2, block: conformer,
          ffn: { hidden: ffn, act: swish, hrf: { expand: 4 } },
          attention: { heads: heads }, conv: { kernel: 7 } },
    ],
    pool: mean,
    classes: [neutral, angry, happy, sad],
}

/// `(frames, FEATURES)` synthetic log-Mel-like input: a smooth ripple, no audio needed.
fn synthetic_frames(n: usize) -> Vec<[f32; tiny_conformer_hrf::FEATURES]> {
    (0..n)
        .map(|t| {
            std::array::from_fn(|f| {
                let (t, f) = (t as f32, f as f32);
                -4.0 + 0.5 * (0.3 * t + 0.7 * f).sin() + 0.1 * f
            })
        })
        .collect()
}

fn main() -> ExitCode {
    // The training model (HRF layers present), with deterministic initial weights.
    let mut train = TinyConformerHrfTrain::new(7);
    // Every fold applied: the deployed struct has the plain model's shapes.
    let folded = match train.fold() {
        Ok(folded) => folded,
        Err(err) => {
            eprintln!("error: fold failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{}: {} training parameters, {} deployed f32s",
        TinyConformerHrfFolded::PLAN.name,
        train.params().len(),
        size_of::<TinyConformerHrfFolded>() / 4
    );
    let mut scratch = TinyConformerHrfScratch::boxed();
    let frames = synthetic_frames(48);
    match folded.predict(&frames, &mut scratch) {
        Ok(logits) => {
            for (class, logit) in tiny_conformer_hrf::CLASSES.iter().zip(logits) {
                println!("{class:>8}: {logit:+.4}");
            }
            // The folded model computes the training model's eval-mode function.
            match train.predict(frames.as_flattened()) {
                Ok(reference) => {
                    let gap = logits
                        .iter()
                        .zip(&reference)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max);
                    println!("max |folded - training model| = {gap:.2e}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
