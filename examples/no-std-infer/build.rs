//! Build script: the `TinySer` spec and weights of the `yaml-build` example, compiled into
//! `OUT_DIR` with the folded weights embedded (`static TINY_SER`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let built = hrf_compiler::build::Builder::new()
        .spec("../yaml-build/specs/tiny_ser.yaml")
        .embed_weights("TinySer", "../yaml-build/weights/tiny_ser.safetensors")
        .compile();
    match built {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
