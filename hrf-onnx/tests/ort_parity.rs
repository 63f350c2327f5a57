//! ONNX export, parity in ONNX Runtime: all nine presets exported with seeded folded weights,
//! run by ORT (CPU) on batches of 3 at several lengths, against hrf's `predict_folded` per item.
//! Built with `--features ort-tests`; fails (never skips) when `HRF_ORT_PYTHON` is unset or
//! that interpreter cannot import onnxruntime, numpy and onnx. `.ci/run` makes the venv.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// Largest accepted `‖ort − hrf‖∞ / ‖hrf‖∞` per item.
const ORT_TOLERANCE: f64 = 1e-4;
const BATCH: usize = 3;

struct Case {
    preset: String,
    frames: usize,
    /// hrf's logits per batch item.
    want: Vec<Vec<f32>>,
    out: PathBuf,
}

#[test]
fn every_preset_matches_onnx_runtime() {
    let python = std::env::var("HRF_ORT_PYTHON").unwrap_or_else(|_| {
        panic!(
            "HRF_ORT_PYTHON is not set: point it at a Python with onnxruntime, numpy and onnx \
             (python3 -m venv v && v/bin/pip install onnxruntime numpy onnx)"
        )
    });
    let dir = std::env::temp_dir().join(format!("hrf-ort-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut cases = Vec::new();
    let mut list = String::new();
    for (k, (preset, plan)) in common::presets().into_iter().enumerate() {
        let weights = common::folded_weights(plan, 900 + k as u64);
        let model = dir.join(format!("{preset}.onnx"));
        std::fs::write(
            &model,
            hrf_onnx::to_onnx_bytes(plan, &weights).expect("export"),
        )
        .expect("write model");
        let shortest = (1..=plan.max_frames)
            .find(|&n| {
                let frames = common::random_frames(n, plan.features, 1);
                common::hrf_logits(plan, &weights, &frames).is_some()
            })
            .expect("some length runs");
        let mut lengths = vec![shortest, 7, 37, plan.max_frames / 2 + 1, plan.max_frames];
        lengths.retain(|&n| n >= shortest);
        lengths.dedup();
        for n in lengths {
            let mut input = Vec::new();
            let mut want = Vec::new();
            for item in 0..BATCH {
                let frames =
                    common::random_frames(n, plan.features, (k * 1000 + n * 10 + item) as u64);
                want.push(common::hrf_logits(plan, &weights, &frames).expect("hrf runs"));
                input.extend(frames);
            }
            let inp = dir.join(format!("{preset}.{n}.in"));
            let out = dir.join(format!("{preset}.{n}.out"));
            let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(&inp, bytes).expect("write input");
            list.push_str(&format!(
                "{} {} {BATCH} {n} {} {}\n",
                model.display(),
                inp.display(),
                plan.features,
                out.display()
            ));
            cases.push(Case {
                preset: preset.clone(),
                frames: n,
                want,
                out,
            });
        }
    }
    let list_path = dir.join("cases.txt");
    std::fs::write(&list_path, list).expect("write cases");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ort_run.py");
    let run = Command::new(&python)
        .arg(script)
        .arg(&list_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run HRF_ORT_PYTHON={python}: {e}"));
    assert!(
        run.status.success(),
        "{python} {script} failed (onnxruntime, numpy and onnx installed?):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&run.stderr));

    let mut failures = Vec::new();
    let mut worst: Vec<(String, f64, Vec<usize>)> = Vec::new();
    for c in &cases {
        let bytes = std::fs::read(&c.out).expect("ORT wrote logits");
        let got: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let classes = c.want[0].len();
        assert_eq!(got.len(), BATCH * classes, "{} n = {}", c.preset, c.frames);
        // `f64::max` below would drop a NaN: a non-finite ORT logit is a failure of its own.
        assert!(
            got.iter().all(|v| v.is_finite()),
            "{} n = {}: ORT returned a non-finite logit",
            c.preset,
            c.frames
        );
        let mut rel = 0.0f64;
        for (got, want) in got.chunks_exact(classes).zip(&c.want) {
            let scale = want
                .iter()
                .fold(0.0f64, |m, &v| m.max((v as f64).abs()))
                .max(1e-30);
            let diff = got
                .iter()
                .zip(want)
                .fold(0.0f64, |m, (&g, &w)| m.max((g as f64 - w as f64).abs()));
            // NaN must fail the test: `f64::max` would drop it.
            let r = diff / scale;
            rel = if r.is_nan() || rel.is_nan() {
                f64::NAN
            } else {
                rel.max(r)
            };
        }
        if rel.is_nan() || rel > ORT_TOLERANCE {
            failures.push(format!("{} n = {}: max rel {rel:.3e}", c.preset, c.frames));
        }
        match worst.iter_mut().find(|w| w.0 == c.preset) {
            Some(w) => {
                w.1 = w.1.max(rel);
                w.2.push(c.frames);
            }
            None => worst.push((c.preset.clone(), rel, vec![c.frames])),
        }
    }
    for (preset, rel, lengths) in &worst {
        eprintln!("{preset:28} max rel {rel:.2e} over frames {lengths:?} (batch {BATCH})");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "ORT differs from hrf beyond {ORT_TOLERANCE:e}:\n{}",
        failures.join("\n")
    );
}
