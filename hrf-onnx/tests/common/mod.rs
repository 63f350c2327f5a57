//! ONNX export tests, shared: the nine preset specs with seeded, folded weights (the random
//! trained arenas of `hrf-runtime`'s folded-inference tests, then the real fold).

#![allow(dead_code)]

#[path = "../../../hrf-runtime/tests/folded/mod.rs"]
mod folded;

// Each test binary uses part of this module (`random_frames` only the parity test).
#[allow(unused_imports)]
pub use folded::{random_frames, random_train_arenas};
use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{predict_folded, scratch_len};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::spec::plan_from_yaml;

/// Every `specs/*.yaml` preset, by file name, in name order.
pub fn presets() -> Vec<(String, &'static ModelPlan)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("specs/ exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("readable spec");
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let plan = plan_from_yaml(&p.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{name} compiles:\n{e}"));
            (name, plan)
        })
        .collect()
}

/// Seeded trained weights for `plan`, folded.
pub fn folded_weights(plan: &ModelPlan, seed: u64) -> Vec<f32> {
    let (params, buffers) = random_train_arenas(plan, seed);
    fold_model(plan, &params, &buffers).expect("fold")
}

/// hrf's folded logits of one utterance, or `None` when it is refused (too short).
pub fn hrf_logits(plan: &ModelPlan, weights: &[f32], frames: &[f32]) -> Option<Vec<f32>> {
    let mut scratch = vec![0.0f32; scratch_len(plan)];
    let mut logits = vec![0.0f32; plan.classes.len()];
    predict_folded(plan, weights, frames, &mut scratch, &mut logits).ok()?;
    Some(logits)
}
