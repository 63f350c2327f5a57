//! Bad command-line options: each is refused with a message naming the option and its range,
//! before the command creates or writes anything.

mod cli_common;

use std::process::Command;

use cli_common::{Scratch, TINY_SPEC, hrf};

/// Asserts a failed run: exit 1, no panic, and every one of `needles` in stderr.
fn assert_refused((code, out, err): (Option<i32>, String, String), needles: &[&str]) {
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing `{n}` in:\n{err}");
    }
}

/// The entries of `dir` (sorted), to show that a refused command left it as it was.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn threads_out_of_range_is_refused_by_every_command_before_anything_is_written() {
    let s = Scratch::new("threads");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let spec = spec.to_str().unwrap();
    for n in ["0", "1025", "100000"] {
        let range = format!("--threads {n} is out of range; give a number from 1 to 1024");
        let train = [
            "train",
            "--spec",
            spec,
            "--data",
            "synth",
            "--out",
            "run",
            "--threads",
            n,
        ];
        assert_refused(hrf(&s.0, &train), &[&range]);
        let eval = ["eval", "--model", "run", "--out", "ev", "--threads", n];
        assert_refused(hrf(&s.0, &eval), &[&range]);
        let fold = ["fold", "--model", "run", "--out", "fo", "--threads", n];
        assert_refused(hrf(&s.0, &fold), &[&range]);
    }
    assert_eq!(entries(&s.0), ["tiny.yaml"]);
}

#[test]
fn a_thread_pool_that_cannot_start_is_an_error_not_a_panic() {
    let s = Scratch::new("threads-pool");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    // 1000 threads need ~2 GB of stacks (and glibc reserves an arena per thread): under a
    // 300 MB address-space limit the pool cannot start.
    let output = Command::new("sh")
        .current_dir(&s.0)
        .args([
            "-c",
            "ulimit -v 300000 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_hrf"),
            "train",
            "--spec",
            spec.to_str().unwrap(),
            "--data",
            "synth",
            "--out",
            "run",
            "--threads",
            "1000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_refused(
        (output.status.code(), String::new(), err),
        &[
            "--threads 1000: cannot start 1000 worker threads",
            "pass a smaller --threads",
        ],
    );
    assert_eq!(entries(&s.0), ["tiny.yaml"]);
}

/// `hrf train` on the tiny spec with `extra` options appended.
fn train<'a>(spec: &'a str, data: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--spec",
        spec,
        "--data",
        data,
        "--out",
        "run",
        "--cache-dir",
        "cache",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn bad_training_options_are_refused_before_anything_is_written() {
    let s = Scratch::new("train-options");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let spec = spec.to_str().unwrap();
    let cases: [(&[&str], &str); 17] = [
        (
            &["--ema-decay", "NaN"],
            "--ema-decay NaN must be 0 (off) or a finite number in (0, 0.99999]",
        ),
        (
            &["--ema-decay", "1"],
            "--ema-decay 1 must be 0 (off) or a finite number in (0, 0.99999]",
        ),
        (
            &["--label-smoothing", "-0.1"],
            "--label-smoothing -0.1 must be a finite number in [0, 1)",
        ),
        (
            &["--label-smoothing", "1"],
            "--label-smoothing 1 must be a finite number in [0, 1)",
        ),
        (
            &["--time-masks", "1000"],
            "--time-masks 1000 must be in 0..=16",
        ),
        (
            &["--time-mask-width", "99999999"],
            "--time-mask-width 99999999 must be in 0..=10000 frames",
        ),
        (
            &["--time-mask-ratio", "inf"],
            "--time-mask-ratio inf must be a finite number in [0, 1]",
        ),
        (
            &["--lr", "1e30"],
            "--lr 1000000000000000000000000000000 must be a finite number > 0 and ≤ 10",
        ),
        (
            &["--lr", "NaN"],
            "--lr NaN must be a finite number > 0 and ≤ 10",
        ),
        (
            &["--lr", "-1"],
            "--lr -1 must be a finite number > 0 and ≤ 10",
        ),
        (
            &["--lr", "0"],
            "--lr 0 must be a finite number > 0 and ≤ 10",
        ),
        (
            &["--weight-decay", "NaN"],
            "--weight-decay NaN must be a finite number ≥ 0 and ≤ 10",
        ),
        (
            &["--weight-decay", "-0.5"],
            "--weight-decay -0.5 must be a finite number ≥ 0 and ≤ 10",
        ),
        (
            &["--weight-decay", "inf"],
            "--weight-decay inf must be a finite number ≥ 0 and ≤ 10",
        ),
        (&["--epochs", "0"], "--epochs 0: train at least 1 epoch"),
        (
            &["--batch-size", "0"],
            "--batch-size 0: a batch holds at least 1 utterance",
        ),
        (
            &["--max-frames", "0"],
            "--max-frames 0: crop to at least 1 frame",
        ),
    ];
    for (extra, message) in cases {
        assert_refused(
            hrf(&s.0, &train(spec, "synth", extra)),
            &[message, "nothing was written"],
        );
    }
    // Every problem at once, one per line.
    let all = train(spec, "synth", &["--epochs", "0", "--lr", "NaN"]);
    assert_refused(
        hrf(&s.0, &all),
        &["--epochs 0: train at least 1 epoch\n--lr NaN must be"],
    );
    assert_eq!(entries(&s.0), ["tiny.yaml"]);
}

#[test]
fn a_batch_size_past_the_memory_budget_is_refused_before_anything_is_written() {
    let s = Scratch::new("batch-budget");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let spec = spec.to_str().unwrap();
    // The compiler checks the spec at batch 16; the batch of the command line is checked by
    // train and study against the same budget, before the data is read.
    let args = train(spec, "manifest:absent.csv", &["--batch-size", "1000000000"]);
    assert_refused(
        hrf(&s.0, &args),
        &[
            "--batch-size 1000000000:",
            "more than the budget of 8.0 GiB",
            "training activations for a batch of 1000000000",
            "lower --batch-size",
            "HRF_MEMORY_BUDGET",
            "(nothing was written)",
        ],
    );
    let mut small = args.clone();
    small.extend_from_slice(&["--memory-budget", "1K"]);
    assert_refused(hrf(&s.0, &small), &["more than the budget of 1.0 KiB"]);
    let study = [
        "study",
        "--specs",
        spec,
        "--data",
        "manifest:absent.csv",
        "--out",
        "study",
        "--batch-size",
        "1000000000",
    ];
    assert_refused(
        hrf(&s.0, &study),
        &["--batch-size 1000000000:", "lower --batch-size"],
    );
    assert_eq!(entries(&s.0), ["tiny.yaml"]);
}

#[test]
fn train_checks_the_data_and_resume_before_it_creates_out() {
    let s = Scratch::new("train-order");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let spec = spec.to_str().unwrap();
    // One session of two speakers: no fold can hold out a session and keep a validation set.
    let manifest = cli_common::tiny_corpus(&s.path("corpus"), 1, 1, &cli_common::CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let (code, out, err) = hrf(&s.0, &train(spec, &data, &["--epochs", "1"]));
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!s.path("run").exists(), "train created --out: {err}");
    assert!(
        err.contains("leave-one-session-out needs at least 2 sessions, found 1"),
        "{err}"
    );

    // --resume with no run: refused, and --out is not created.
    let resume = train(spec, &data, &["--resume"]);
    assert_refused(
        hrf(&s.0, &resume),
        &[
            "--resume: run holds no training run",
            "start the run without --resume",
        ],
    );
    assert!(!s.path("run").exists());
}

#[test]
fn fold_refuses_a_tolerance_that_is_not_a_positive_number_before_writing() {
    let s = Scratch::new("fold-tolerance");
    for t in ["NaN", "-1", "0", "inf"] {
        let args = [
            "fold",
            "--model",
            "no-run",
            "--out",
            "folded",
            "--tolerance",
            t,
        ];
        assert_refused(
            hrf(&s.0, &args),
            &[&format!("--tolerance {t} must be a finite number > 0")],
        );
    }
    // A missing model is reported without creating --out.
    let args = ["fold", "--model", "no-run", "--out", "folded"];
    assert_refused(hrf(&s.0, &args), &["model no-run does not exist"]);
    let args = [
        "eval", "--model", "no-run", "--out", "ev", "--data", "synth",
    ];
    assert_refused(hrf(&s.0, &args), &["model no-run does not exist"]);
    assert!(entries(&s.0).is_empty(), "{:?}", entries(&s.0));
}

#[test]
fn a_tiny_checkpoint_whose_spec_declares_huge_tensors_is_refused_by_eval_fold_and_bench() {
    let s = Scratch::new("huge-ckpt");
    let text = TINY_SPEC
        .replace("d: 8,", "d: 65536,")
        .replace("TinyHrf", "TinyHuge");
    // The spec no longer compiles (it is over the memory budget), so its name and hash are
    // written by hand: the loader must refuse it before sizing anything from it.
    let mut meta = std::collections::HashMap::new();
    for (k, v) in [
        ("format", "hrf-train-v1"),
        ("spec_name", "TinyHuge"),
        ("spec_hash", "0"),
        ("spec_path", "huge.yaml"),
        ("spec_yaml", text.as_str()),
    ] {
        meta.insert(k.to_owned(), v.to_owned());
    }
    let none: Vec<(String, safetensors::tensor::TensorView)> = Vec::new();
    let bytes = safetensors::tensor::serialize(none, Some(meta)).unwrap();
    assert!(bytes.len() < 1_024, "{}", bytes.len());
    std::fs::write(s.path("huge.safetensors"), &bytes).unwrap();
    let needles = [
        "huge.safetensors is not a usable checkpoint: its embedded spec does not compile",
        "more than the budget of 8.0 GiB",
        "HRF_MEMORY_BUDGET",
    ];
    let eval = [
        "eval",
        "--model",
        "huge.safetensors",
        "--data",
        "synth",
        "--out",
        "ev",
    ];
    assert_refused(hrf(&s.0, &eval), &needles);
    let fold = ["fold", "--model", "huge.safetensors", "--out", "fo"];
    assert_refused(hrf(&s.0, &fold), &needles);
    let bench = ["bench", "--model", "huge.safetensors", "--out", "be"];
    assert_refused(hrf(&s.0, &bench), &needles);
    assert_eq!(entries(&s.0), ["huge.safetensors"]);
}

#[test]
fn a_folded_file_or_an_edited_run_record_given_to_eval_says_what_it_is() {
    let s = Scratch::new("eval-inputs");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = cli_common::tiny_corpus(&s.path("corpus"), 2, 1, &cli_common::CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let spec = spec.to_str().unwrap();
    let (code, out, err) = hrf(&s.0, &train(spec, &data, &["--epochs", "1"]));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (code, out, err) = hrf(&s.0, &["fold", "--model", "run", "--out", "folded"]);
    assert_eq!(code, Some(0), "{out}\n{err}");

    // A folded weight file where a training checkpoint is expected.
    for command in ["eval", "bench"] {
        let args = [
            command,
            "--model",
            "folded/folded.safetensors",
            "--out",
            "x",
        ];
        assert_refused(
            hrf(&s.0, &args),
            &[
                "folded/folded.safetensors is not a usable checkpoint: it is a folded weight file (`hrf-folded-v1`",
                "pass the run directory or its best.safetensors",
            ],
        );
        assert!(!s.path("x").exists());
    }

    // run.json edited to max_frames 0.
    let record = s.path("run/run.json");
    let text = std::fs::read_to_string(&record).unwrap();
    let edited = text.replace("\"max_frames\": 48", "\"max_frames\": 0");
    assert_ne!(text, edited, "{text}");
    std::fs::write(&record, edited).unwrap();
    assert_refused(
        hrf(&s.0, &["eval", "--model", "run"]),
        &["run/run.json: `max_frames` is 0, but utterances are cropped to at least 1 frame"],
    );
}
