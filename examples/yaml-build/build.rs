//! Build script: compiles `specs/*.yaml` into `OUT_DIR` and embeds the committed folded weights
//! of `TinySer` (regenerate them with `cargo run -p yaml-build --bin make-weights`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let built = hrf_compiler::build::Builder::new()
        .spec_dir("specs")
        .embed_weights("TinySer", "weights/tiny_ser.safetensors")
        .compile();
    match built {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
