//! `hrf train` / `eval` / `fold` / `export` / `bench` end to end on a tiny spec and a tiny
//! generated corpus: exact resume after a crash, reports, folding, and the errors a new user
//! meets (missing files, wrong spec, unknown labels, unwritable output, divergence).

mod cli_common;

use cli_common::{CLASSES, OTHER_SPEC, Scratch, TINY_SPEC, hrf, tiny_corpus};

/// Common `hrf train` arguments for the fixture corpus.
fn train_args<'a>(spec: &'a str, data: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--spec",
        spec,
        "--data",
        data,
        "--out",
        out,
        "--epochs",
        epochs,
        "--batch-size",
        "4",
        "--lr",
        "3e-3",
        "--seed",
        "7",
        "--checkpoint-steps",
        "5",
        "--cache-dir",
        "cache",
    ]
}

#[test]
fn resume_after_a_crash_reaches_bit_identical_weights_and_the_run_evaluates_folds_and_exports() {
    let s = Scratch::new("train");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 2, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let spec = spec.to_str().unwrap();

    // Uninterrupted: 3 epochs.
    let (code, out, err) = hrf(&s.0, &train_args(spec, &data, "a", "3"));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("epoch   3/3"), "{out}");

    // The run's own report: validation metrics of the best checkpoint, and the plots.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("a/report.json")).unwrap()).unwrap();
    assert_eq!(report["command"], "train");
    assert_eq!(report["split"]["scored"], "validation");
    assert!(report["metrics"]["ua"].as_f64().is_some(), "{report}");
    assert!(s.path("a/learning_curves.svg").is_file() && s.path("a/confusion.png").is_file());

    // Crashed after 7 steps (last step checkpoint at 5: two steps are replayed), then resumed.
    let mut crashing = train_args(spec, &data, "b", "3");
    crashing.extend(["--crash-after-steps", "7"]);
    let (code, _, _) = hrf(&s.0, &crashing);
    assert_eq!(code, Some(137));
    assert!(s.path("b/state.safetensors").is_file());
    let mut resume = train_args(spec, &data, "b", "3");
    resume.push("--resume");
    let (code, out, err) = hrf(&s.0, &resume);
    assert_eq!(code, Some(0), "{out}\n{err}");
    for file in ["state.safetensors", "best.safetensors", "history.json"] {
        let a = std::fs::read(s.path("a").join(file)).unwrap();
        let b = std::fs::read(s.path("b").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the uninterrupted and the resumed run"
        );
    }

    // Crashed before its first checkpoint (step 3 < 5): --resume starts it over, same result.
    let mut early = train_args(spec, &data, "c", "3");
    early.extend(["--crash-after-steps", "3"]);
    assert_eq!(hrf(&s.0, &early).0, Some(137));
    assert!(!s.path("c/state.safetensors").exists());
    let mut resume = train_args(spec, &data, "c", "3");
    resume.push("--resume");
    let (code, out, err) = hrf(&s.0, &resume);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        std::fs::read(s.path("a/best.safetensors")).unwrap()
            == std::fs::read(s.path("c/best.safetensors")).unwrap()
    );

    // Starting over in a run directory is refused and changes nothing.
    let before = std::fs::read(s.path("a/best.safetensors")).unwrap();
    let (code, _, err) = hrf(&s.0, &train_args(spec, &data, "a", "3"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("already holds a training run; continue it with --resume"),
        "{err}"
    );
    assert_eq!(std::fs::read(s.path("a/best.safetensors")).unwrap(), before);

    // Eval: report.json with the metrics block, report.md, plots.
    let (code, out, err) = hrf(
        &s.0,
        &[
            "eval",
            "--model",
            "a",
            "--out",
            "eval",
            "--cache-dir",
            "cache",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("eval/report.json")).unwrap())
            .unwrap();
    let m = &report["metrics"];
    for key in ["wa", "ua", "macro_f1"] {
        let v = m[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
    }
    let confusion = m["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), 4);
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(total, report["split"]["utterances"].as_u64().unwrap());
    assert_eq!(report["spec"]["name"], "TinyHrf");
    assert_eq!(report["seed"], 7);
    assert_eq!(report["split"]["name"], "fold-ses1");
    assert!(
        std::fs::read_to_string(s.path("eval/report.md"))
            .unwrap()
            .contains("| UA (mean per-class recall) |")
    );
    for plot in [
        "confusion.svg",
        "confusion.png",
        "learning_curves.svg",
        "learning_curves.png",
    ] {
        assert!(s.path("eval").join(plot).is_file(), "{plot} missing");
    }

    // Eval on a foreign corpus with the same labels: every utterance by default.
    let foreign = tiny_corpus(&s.path("foreign"), 2, 1, &CLASSES);
    let (code, out, err) = hrf(
        &s.0,
        &[
            "eval",
            "--model",
            "a",
            "--data",
            &format!("manifest:{}", foreign.display()),
            "--out",
            "eval-foreign",
            "--cache-dir",
            "cache",
            "--folded",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("all utterances: 16 utterances"), "{out}");

    // Fold (verified on the held-out session) and export.
    let (code, out, err) = hrf(
        &s.0,
        &[
            "fold",
            "--model",
            "a",
            "--out",
            "folded",
            "--cache-dir",
            "cache",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("max abs diff") && out.contains("max rel diff"),
        "{out}"
    );
    assert!(s.path("folded/folded.safetensors").is_file());
    let (code, out, err) = hrf(
        &s.0,
        &[
            "export",
            "--model",
            "a/best.safetensors",
            "--out",
            "tiny.safetensors",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let bytes = std::fs::read(s.path("tiny.safetensors")).unwrap();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    assert!(
        text.contains("hrf-folded-v1") && text.contains("TinyHrf"),
        "{text}"
    );
    // The same model as ONNX: a protobuf ModelProto (field 1, ir_version, first) that carries
    // the spec's identity in its metadata.
    let (code, out, err) = hrf(
        &s.0,
        &[
            "export",
            "--model",
            "a/best.safetensors",
            "--format",
            "onnx",
            "--out",
            "tiny.onnx",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("as ONNX (opset 17)"), "{out}");
    let bytes = std::fs::read(s.path("tiny.onnx")).unwrap();
    assert_eq!(bytes[0], 0x08, "ModelProto starts with ir_version");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("hrf.spec_hash") && text.contains("TinyHrf"),
        "metadata missing"
    );

    // Bench with the trained weights; the wrong spec for the checkpoint is refused.
    let (code, out, err) = hrf(
        &s.0,
        &[
            "bench", "--model", "a", "--frames", "40", "--runs", "3", "--out", "bench",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("latency median / p90"), "{out}");
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("bench/report.json")).unwrap())
            .unwrap();
    assert!(bench["bench"]["folded_gflops"].as_f64().unwrap() > 0.0);
    assert!(bench["bench"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    let other = s.write("other.yaml", OTHER_SPEC);
    let (code, _, err) = hrf(
        &s.0,
        &[
            "bench",
            "--spec",
            other.to_str().unwrap(),
            "--model",
            "a",
            "--runs",
            "1",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("was trained with spec TinyHrf") && err.contains("TinyOther"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let mut wrong_resume = train_args(other.to_str().unwrap(), &data, "a", "3");
    wrong_resume.push("--resume");
    let (code, _, err) = hrf(&s.0, &wrong_resume);
    assert_eq!(code, Some(1));
    assert!(err.contains("was trained with spec TinyHrf"), "{err}");
}

/// Every tensor of a safetensors file, by name.
fn tensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

#[test]
fn with_ema_the_best_checkpoint_holds_the_ema_weights_saved_in_the_state() {
    let s = Scratch::new("ema");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 2, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let mut args = train_args(spec.to_str().unwrap(), &data, "a", "1");
    args.extend(["--ema-decay", "0.9", "--select", "loss"]);
    let (code, out, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("val (EMA) loss") && out.contains("(best validation loss)"),
        "{out}"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("a/run.json")).unwrap()).unwrap();
    assert_eq!(run["hyper"]["select"], "loss");
    assert_eq!(run["hyper"]["ema_decay"], 0.9);
    // One epoch: best = that epoch's EMA, which the epoch-end state also holds as `ema.*`.
    let state = tensors(&s.path("a/state.safetensors"));
    let best = tensors(&s.path("a/best.safetensors"));
    let mut differs = false;
    for (name, value) in &best {
        let ema = state
            .get(&format!("ema.{name}"))
            .unwrap_or_else(|| panic!("state lacks ema.{name}"));
        assert!(ema == value, "best {name} is not the EMA");
        differs |= state[name] != *value;
    }
    assert!(differs, "the EMA should differ from the live weights");
    // Without EMA: no `ema.*` group, and best holds the live weights.
    let mut args = train_args(spec.to_str().unwrap(), &data, "b", "1");
    args.extend(["--ema-decay", "0"]);
    let (code, out, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let state = tensors(&s.path("b/state.safetensors"));
    assert!(state.keys().all(|k| !k.starts_with("ema.")));
    for (name, value) in tensors(&s.path("b/best.safetensors")) {
        assert!(state[&name] == value, "{name}");
    }
}

#[test]
fn bad_inputs_fail_with_clear_messages_and_no_panic() {
    let s = Scratch::new("errors");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let spec = spec.to_str().unwrap();
    let blocker = s.write("blocker", "a file, not a directory");

    // Missing manifest.
    let (code, _, err) = hrf(
        &s.0,
        &train_args(spec, "manifest:nope/manifest.csv", "run", "1"),
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("manifest file nope/manifest.csv does not exist"),
        "{err}"
    );
    // Missing model.
    let (code, _, err) = hrf(&s.0, &["eval", "--model", "no-such-run"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("model no-such-run does not exist"), "{err}");
    // Unknown preset.
    let (code, _, err) = hrf(&s.0, &train_args("conformer_lite", "synth", "run", "1"));
    assert_eq!(code, Some(1));
    assert!(err.contains("no preset of that name"), "{err}");
    // Unwritable output: a path below a regular file (refused before any data is read).
    let out = format!("{}/run", blocker.display());
    let (code, _, err) = hrf(&s.0, &train_args(spec, "manifest:nope.csv", &out, "1"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("is not writable") && err.contains("choose another --out"),
        "{err}"
    );

    // A corpus with labels the model does not know.
    let manifest = tiny_corpus(&s.path("odd"), 2, 1, &["neutral", "angry", "bored", "sad"]);
    let (code, _, err) = hrf(
        &s.0,
        &train_args(
            spec,
            &format!("manifest:{}", manifest.display()),
            "run2",
            "1",
        ),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("labels `bored` (4 utterances) are not classes of the model (neutral, angry, happy, sad)"), "{err}");

    // Divergence: the largest accepted --lr and --weight-decay make AdamW scale each weight by
    // 1 − lr·wd ≈ −99 per step, so the weights overflow → a clear error that says so and names
    // the checkpoint kept (here the gradient norm is the first value to turn NaN).
    let manifest = tiny_corpus(&s.path("ok"), 2, 1, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let mut args = train_args(spec, &data, "diverge", "6");
    let lr = args.iter().position(|a| *a == "3e-3").unwrap();
    args[lr] = "10";
    let ck = args.iter().position(|a| *a == "5").unwrap();
    args[ck] = "1";
    let batch = args.iter().position(|a| *a == "4").unwrap();
    args[batch] = "1";
    args.extend(["--weight-decay", "10"]);
    let (code, _, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("gradient norm became NaN at epoch")
            && err.contains(
                "training diverged. The last good checkpoint is diverge/state.safetensors"
            )
            && err.contains("lower --lr (now 10)"),
        "{err}"
    );
    // An --lr past the documented bound is refused up front, before anything is written.
    args[lr] = "1e30";
    let out = args.iter().position(|a| *a == "diverge").unwrap();
    args[out] = "huge-lr";
    let (code, _, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--lr 1000000000000000000000000000000 must be a finite number > 0 and ≤ 10"),
        "{err}"
    );
    assert!(!s.path("huge-lr").exists());
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_bit_identical_files() {
    let s = Scratch::new("kill9");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 2, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let args = |out: &'static str| {
        let mut a = train_args(spec.to_str().unwrap(), &data, out, "60");
        let ck = a.iter().position(|x| *x == "--checkpoint-steps").unwrap();
        a[ck + 1] = "7";
        a.extend(["--patience", "0"]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (code, out, err) = hrf(
        &s.0,
        &args("a").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code, Some(0), "{out}\n{err}");

    // Same run, SIGKILLed once it has written a few checkpoints (wherever it is then).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hrf"))
        .current_dir(&s.0)
        .args(args("b"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = s.path("b/state.safetensors");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state.is_file() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let mut resume = args("b");
    resume.push("--resume".to_owned());
    let (code, out, err) = hrf(&s.0, &resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, Some(0), "{out}\n{err}");
    for file in ["state.safetensors", "best.safetensors", "history.json"] {
        let a = std::fs::read(s.path("a").join(file)).unwrap();
        let b = std::fs::read(s.path("b").join(file)).unwrap();
        assert!(a == b, "{file} differs after kill -9 and --resume");
    }
}

#[test]
fn distillation_from_a_trained_teacher_is_recorded_and_weight_zero_is_the_plain_run() {
    let s = Scratch::new("distill");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let other = s.write("other.yaml", OTHER_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 2, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let (spec, other) = (spec.to_str().unwrap(), other.to_str().unwrap());

    // The teacher: another (wider) model, trained first.
    let (code, out, err) = hrf(&s.0, &train_args(other, &data, "teacher", "2"));
    assert_eq!(code, Some(0), "{out}\n{err}");

    let (code, out, err) = hrf(&s.0, &train_args(spec, &data, "plain", "2"));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let mut zero = train_args(spec, &data, "zero", "2");
    zero.extend(["--teacher", "teacher", "--kd-weight", "0"]);
    let (code, out, err) = hrf(&s.0, &zero);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let mut kd = train_args(spec, &data, "kd", "2");
    kd.extend([
        "--teacher",
        "teacher",
        "--kd-weight",
        "0.7",
        "--kd-temperature",
        "3",
    ]);
    let (code, out, err) = hrf(&s.0, &kd);
    assert_eq!(code, Some(0), "{out}\n{err}");

    let best = |run: &str| std::fs::read(s.path(run).join("best.safetensors")).unwrap();
    assert!(
        best("zero") == best("plain"),
        "α = 0 leaves only the hard-label loss: bit-identical weights"
    );
    assert!(best("kd") != best("plain"), "α = 0.7 changes training");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("kd/run.json")).unwrap()).unwrap();
    let teacher = &record["hyper"]["teacher"];
    assert_eq!(teacher["run"], "teacher", "{record}");
    assert_eq!(teacher["spec_name"], "TinyOther");
    assert!(teacher["spec_hash"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(teacher["weight"].as_f64(), Some(0.699999988079071));
    let plain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("plain/run.json")).unwrap()).unwrap();
    assert!(
        plain["hyper"].get("teacher").is_none(),
        "no teacher, no field"
    );

    // Refused before anything is written.
    for (extra, needle) in [
        (
            vec!["--teacher", "teacher", "--kd-weight", "1.5"],
            "--kd-weight 1.5 must be",
        ),
        (
            vec!["--teacher", "teacher", "--kd-temperature", "0"],
            "--kd-temperature 0 must be",
        ),
        (vec!["--teacher", "nowhere"], "--teacher nowhere"),
    ] {
        let mut args = train_args(spec, &data, "refused", "1");
        args.extend(extra.iter().copied());
        let (code, out, err) = hrf(&s.0, &args);
        assert_eq!(code, Some(1), "{extra:?}: {out}\n{err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!s.path("refused").exists(), "{extra:?}");
    }
}
