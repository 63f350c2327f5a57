//! Build script of the `hrf` CLI: compiles the nine preset specs (`specs/*.yaml`) into
//! `OUT_DIR` (one module per spec plus `hrf_models.rs`), which `src/models.rs` includes.

use std::process::ExitCode;

fn main() -> ExitCode {
    match hrf_compiler::build::Builder::new()
        .spec_dir("specs")
        .compile()
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
