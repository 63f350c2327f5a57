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
