//! Regenerates `weights/tiny_ser.safetensors`, the folded weights this example embeds: a
//! `TinySerTrain` with seed-11 initial weights, folded, written in the runtime's folded-weights
//! format. Run from the example's directory after changing the spec:
//! `cargo run -p yaml-build --bin make-weights` (the next build embeds the new file).

use std::process::ExitCode;

use yaml_build::TinySerTrain;

/// Seed of the committed weights.
const SEED: u64 = 11;

fn main() -> ExitCode {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weights/tiny_ser.safetensors");
    let written = TinySerTrain::new(SEED)
        .fold()
        .map_err(|e| e.to_string())
        .and_then(|folded| folded.write(&path).map_err(|e| e.to_string()));
    match written {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
