//! Folded inference end to end on tiny specs of the three families: `fold_model` then
//! `predict_folded` equals the unfolded eval-mode forward (an f64 reference built from the
//! kernels here, and the training engine's `predict`), scratch contents never matter, bad
//! inputs are errors, every preset runs, and folded weight files round-trip.

mod folded;

use folded::{
    ALL_SPECS, TINY_CONFORMER, assert_close, plan, random_frames, random_train_arenas,
    reference_logits,
};
use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{
    FoldedWeightsError, InputError, folded_weights_to_file, predict_folded, read_folded_weights,
    scratch_len,
};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::spec::plan_from_yaml;
use hrf_runtime::train::TrainModel;

/// Relative tolerance of folded (f32, folds rounded once) against the unfolded reference.
const FOLDED_TOLERANCE: f64 = 1e-4;

fn folded_logits(plan: &ModelPlan, weights: &[f32], frames: &[f32], fill: f32) -> Vec<f32> {
    let mut scratch = vec![fill; scratch_len(plan)];
    let mut logits = vec![f32::NAN; plan.classes.len()];
    predict_folded(plan, weights, frames, &mut scratch, &mut logits).expect("valid input");
    logits
}

#[test]
fn folded_matches_unfolded_reference_for_every_family_and_length() {
    for (k, yaml) in ALL_SPECS.iter().enumerate() {
        let plan = plan(yaml);
        let (params, buffers) = random_train_arenas(plan, 100 + k as u64);
        let folded = fold_model(plan, &params, &buffers).expect("fold");
        assert_eq!(
            folded.len(),
            plan.folded.params_len() + plan.folded.buffers_len()
        );
        for n in [1, 2, 3, 7, 16, 29, plan.max_frames] {
            let frames = random_frames(n, plan.features, 7 * n as u64 + k as u64);
            let want = reference_logits(plan, &params, &buffers, &frames);
            let got = folded_logits(plan, &folded, &frames, 0.0);
            assert_close(
                &format!("{} n = {n}", plan.name),
                &got,
                &want,
                FOLDED_TOLERANCE,
            );
        }
    }
}

#[test]
fn folded_matches_the_training_engine_in_eval_mode() {
    for (k, yaml) in ALL_SPECS.iter().enumerate() {
        let plan = plan(yaml);
        let (params, buffers) = random_train_arenas(plan, 200 + k as u64);
        let mut model = TrainModel::<f32>::new(plan, 1);
        model.params_mut().copy_from_slice(&params);
        model.buffers_mut().copy_from_slice(&buffers);
        let folded = fold_model(plan, model.params(), model.buffers()).expect("fold");
        for n in [1, 5, 18, plan.max_frames] {
            let frames = random_frames(n, plan.features, 11 * n as u64 + k as u64);
            let want: Vec<f64> = model
                .predict(&frames)
                .expect("train predict")
                .iter()
                .map(|&v| v as f64)
                .collect();
            let got = folded_logits(plan, &folded, &frames, 0.0);
            assert_close(
                &format!("{} n = {n} vs TrainModel", plan.name),
                &got,
                &want,
                FOLDED_TOLERANCE,
            );
        }
    }
}

#[test]
fn scratch_contents_never_change_the_logits() {
    for (k, yaml) in ALL_SPECS.iter().enumerate() {
        let plan = plan(yaml);
        let (params, buffers) = random_train_arenas(plan, 300 + k as u64);
        let folded = fold_model(plan, &params, &buffers).unwrap();
        // A long utterance first leaves its intermediates behind; then shorter ones.
        let mut scratch = vec![f32::NAN; scratch_len(plan)];
        let mut logits = vec![0.0; plan.classes.len()];
        let long = random_frames(plan.max_frames, plan.features, 1);
        predict_folded(plan, &folded, &long, &mut scratch, &mut logits).unwrap();
        for n in [1, 9, 20] {
            let frames = random_frames(n, plan.features, 40 + n as u64);
            predict_folded(plan, &folded, &frames, &mut scratch, &mut logits).unwrap();
            for fill in [0.0, f32::NAN, 1e30, -7.5] {
                let fresh = folded_logits(plan, &folded, &frames, fill);
                assert_eq!(
                    fresh.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    logits.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{} n = {n}, scratch filled with {fill}",
                    plan.name
                );
            }
        }
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let plan = plan(TINY_CONFORMER);
    let (params, buffers) = random_train_arenas(plan, 5);
    let w = fold_model(plan, &params, &buffers).unwrap();
    let f = plan.features;
    let mut scratch = vec![0.0; scratch_len(plan)];
    let mut logits = vec![0.0; 3];
    let run = |w: &[f32], frames: &[f32], scratch: &mut [f32], logits: &mut [f32]| {
        predict_folded(plan, w, frames, scratch, logits).unwrap_err()
    };
    assert_eq!(
        run(&w, &[], &mut scratch, &mut logits),
        InputError::NoFrames
    );
    let ragged = vec![0.0; 2 * f + 1];
    assert_eq!(
        run(&w, &ragged, &mut scratch, &mut logits),
        InputError::RaggedFrames {
            values: 2 * f + 1,
            features: f
        }
    );
    let long = vec![0.0; (plan.max_frames + 1) * f];
    let err = run(&w, &long, &mut scratch, &mut logits);
    assert_eq!(
        err,
        InputError::TooManyFrames {
            frames: 33,
            max_frames: 32
        }
    );
    assert_eq!(
        err.to_string(),
        "33 frames is more than this model's max_frames = 32; split the utterance or raise \
         max_frames in the spec"
    );
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut frames = random_frames(4, f, 3);
        frames[2 * f + 5] = bad;
        let err = run(&w, &frames, &mut scratch, &mut logits);
        assert_eq!(
            err,
            InputError::NonFinite {
                frame: 2,
                feature: 5
            }
        );
        assert_eq!(
            err.to_string(),
            "input frame 2, feature 5 is NaN or infinite; check the feature extraction (log of \
             zero energy?)"
        );
    }
    // Weights the file reader would refuse (±1e30), passed in directly: the products overflow,
    // and the caller gets an error rather than NaN logits to score.
    let huge = vec![1e30f32; w.len()];
    let frames = random_frames(4, f, 3);
    let err = run(&huge, &frames, &mut scratch, &mut logits);
    assert!(matches!(err, InputError::NonFiniteLogit { .. }), "{err:?}");
    assert!(
        err.to_string().contains("NaN or infinite") && err.to_string().contains("export or train"),
        "{err}"
    );
    let frames = random_frames(4, f, 3);
    let needed = scratch_len(plan);
    let mut short = vec![0.0; needed - 1];
    assert_eq!(
        run(&w, &frames, &mut short, &mut logits),
        InputError::ScratchTooSmall {
            needed,
            got: needed - 1
        }
    );
    assert_eq!(
        run(&w, &frames, &mut scratch, &mut [0.0; 4]),
        InputError::LogitsLength {
            expected: 3,
            got: 4
        }
    );
    assert_eq!(
        run(&w[1..], &frames, &mut scratch, &mut logits),
        InputError::WeightsLength {
            expected: w.len(),
            got: w.len() - 1
        }
    );
    // Weights of another spec with the same arena length would be caught by the slot walk;
    // here: a plan whose table is shifted by one layer.
    let other = plan_from_yaml(
        "tiny.yaml",
        &TINY_CONFORMER.replace("kernel: 5", "kernel: 7"),
    )
    .unwrap();
    let mut scratch = vec![0.0; scratch_len(other)];
    let w_other = vec![0.0; other.folded.params_len()];
    assert!(predict_folded(other, &w_other, &frames, &mut scratch, &mut logits).is_ok());
    let err = predict_folded(other, &w, &frames, &mut scratch, &mut logits).unwrap_err();
    assert!(matches!(err, InputError::WeightsLength { .. }), "{err:?}");
}

#[test]
fn every_preset_folds_and_predicts() {
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut names: Vec<_> = std::fs::read_dir(&specs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "the nine presets");
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let plan = plan_from_yaml(&path.display().to_string(), &text).unwrap();
        let (params, buffers) = random_train_arenas(plan, 9);
        let folded = fold_model(plan, &params, &buffers)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let frames = random_frames(40, plan.features, 2);
        let logits = folded_logits(plan, &folded, &frames, 0.0);
        assert!(
            logits.iter().all(|v| v.is_finite()),
            "{}: {logits:?}",
            path.display()
        );
    }
}

#[test]
fn folded_weight_files_round_trip_and_name_mismatches() {
    let dir = std::env::temp_dir().join(format!("hrf-folded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = plan(TINY_CONFORMER);
    let (params, buffers) = random_train_arenas(plan, 8);
    let folded = fold_model(plan, &params, &buffers).unwrap();
    let path = dir.join("tiny.safetensors");
    folded_weights_to_file(plan, &folded, &path).unwrap();
    let back = read_folded_weights(plan, &path).unwrap();
    assert_eq!(
        back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        folded.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "hrf-folded-v1");
    assert_eq!(meta["spec_name"], "FoldTinyConformer");
    assert_eq!(meta["spec_hash"], plan.spec_hash);
    assert_eq!(meta["classes"], r#"["a","b","c"]"#);
    assert_eq!(meta["dims"], r#"{"d":8,"heads":2,"ffn":16}"#);

    // Another spec reading this file: refused, naming both.
    let other = plan_from_yaml(
        "tiny.yaml",
        &TINY_CONFORMER.replace("FoldTinyConformer", "Other"),
    )
    .unwrap();
    let err = read_folded_weights(other, &path).unwrap_err();
    assert!(
        matches!(err, FoldedWeightsError::WrongSpec { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`FoldTinyConformer`") && text.contains("`Other`"),
        "{text}"
    );
    // Not a safetensors file / missing file.
    std::fs::write(dir.join("junk"), b"not safetensors").unwrap();
    let err = read_folded_weights(plan, &dir.join("junk")).unwrap_err();
    assert!(matches!(err, FoldedWeightsError::Format { .. }), "{err}");
    let err = read_folded_weights(plan, &dir.join("missing")).unwrap_err();
    assert!(err.to_string().contains("missing: reading failed"), "{err}");
    // A NaN weight is refused when read, naming the tensor and the index.
    let mut corrupt = folded.clone();
    corrupt[2] = f32::NAN;
    folded_weights_to_file(plan, &corrupt, &dir.join("nan")).unwrap();
    let err = read_folded_weights(plan, &dir.join("nan")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: tensor `{}`: holds a non-finite value (NaN) at index 2; the file is corrupt: \
             export the weights again from a good checkpoint",
            dir.join("nan").display(),
            plan.folded.params[0].name
        )
    );
    // A header naming this spec but without the tensor bytes: refused before allocating.
    let mut meta = std::collections::HashMap::new();
    for (k, v) in [
        ("format", "hrf-folded-v1"),
        ("spec_name", plan.name),
        ("spec_hash", plan.spec_hash),
    ] {
        meta.insert(k.to_owned(), v.to_owned());
    }
    let none: Vec<(String, safetensors::tensor::TensorView)> = Vec::new();
    let header_only = safetensors::tensor::serialize(none, Some(meta)).unwrap();
    std::fs::write(dir.join("header-only"), &header_only).unwrap();
    let err = read_folded_weights(plan, &dir.join("header-only")).unwrap_err();
    assert!(matches!(err, FoldedWeightsError::TooSmall { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: `FoldTinyConformer`'s folded table declares {} bytes of weights but the file \
             holds only {} bytes; the file is truncated: export the weights again",
            dir.join("header-only").display(),
            4 * folded.len(),
            header_only.len()
        )
    );
    // A wrong arena length is refused before anything is written.
    let err = folded_weights_to_file(plan, &folded[1..], &dir.join("short")).unwrap_err();
    assert!(
        matches!(err, FoldedWeightsError::ArenaLength { .. }),
        "{err}"
    );
    assert!(!dir.join("short").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
