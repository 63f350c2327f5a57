//! The bad-input battery: crafted specs, manifests, WAVs and options (generated here, no
//! fixtures), each run through the built `hrf` under a watchdog. Every case must finish, never
//! panic, exit as expected, name what was wrong in stderr, and leave `--out` unwritten when it
//! fails.

mod cli_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cli_common::{CLASSES, Scratch, TINY_SPEC, tiny_corpus};

/// The longest a case may run before it counts as a hang.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Writes a case's input under its directory and returns the arguments.
type Setup = Box<dyn Fn(&Path) -> Vec<String> + Send>;

/// One crafted input: `setup` writes it under the case's directory and returns the arguments.
struct Case {
    name: String,
    setup: Setup,
    code: i32,
    /// Each must appear in stderr.
    needles: Vec<String>,
}

fn case(
    name: impl Into<String>,
    code: i32,
    needles: &[&str],
    setup: impl Fn(&Path) -> Vec<String> + Send + 'static,
) -> Case {
    Case {
        name: name.into(),
        setup: Box::new(setup),
        code,
        needles: needles.iter().map(|s| s.to_string()).collect(),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The files under `dir` with their lengths, to show that a failed command left it as it was.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), meta.len()));
        }
    }
    out.sort();
    out
}

/// Runs one case; `Err` says how it misbehaved.
fn run(case: &Case, root: &Path) -> Result<(), String> {
    let dir = root.join(&case.name);
    std::fs::create_dir_all(&dir).unwrap();
    let argv = (case.setup)(&dir);
    let before = snapshot(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hrf"))
        .current_dir(&dir)
        .args(&argv)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start hrf: {e}"))?;
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out_reader = read(Box::new(child.stdout.take().unwrap()));
    let reader = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hung: still running after {WATCHDOG:?} ({argv:?})"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = reader.join().unwrap();
    let out = out_reader.join().unwrap();
    let show = || format!("{argv:?}\n--- stderr ---\n{err}");
    let Some(code) = status.code() else {
        return Err(format!("killed by a signal: {status}\n{}", show()));
    };
    if err.contains("panicked at") || err.contains("RUST_BACKTRACE") {
        return Err(format!("panicked\n{}", show()));
    }
    if code != case.code {
        return Err(format!("exit {code}, expected {}\n{}", case.code, show()));
    }
    // A refusal names the problem on stderr; a run that goes on (exit 0) may list what it
    // skipped in its report on stdout (`hrf data`) or warn on stderr.
    for n in &case.needles {
        if !(err.contains(n.as_str()) || code == 0 && out.contains(n.as_str())) {
            return Err(format!(
                "output lacks `{n}`\n{}\n--- stdout ---\n{out}",
                show()
            ));
        }
    }
    // Debug formatting leaking into a message.
    for garbage in ["Os {", "Custom {", "kind: ", "Error {", "Some(\"", "\\\""] {
        if err.contains(garbage) {
            return Err(format!("stderr holds Debug text `{garbage}`\n{}", show()));
        }
    }
    if code != 0 {
        let after = snapshot(&dir);
        if after != before {
            return Err(format!(
                "the failed command changed its directory: {:?}\n{}",
                after
                    .iter()
                    .filter(|e| !before.contains(e))
                    .collect::<Vec<_>>(),
                show()
            ));
        }
    }
    Ok(())
}

/// A 16-bit mono WAV at 16 kHz, `n` samples of a quiet tone.
fn good_wav(n: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(2 * n);
    for i in 0..n {
        let x = (3000.0 * (i as f64 * 0.07).sin()) as i16;
        data.extend_from_slice(&x.to_le_bytes());
    }
    wav_bytes(1, 16_000, 16, 1, &data)
}

/// A RIFF/WAVE file with one `fmt ` chunk (format tag `format`) and one `data` chunk.
fn wav_bytes(channels: u16, rate: u32, bits: u16, format: u16, data: &[u8]) -> Vec<u8> {
    let block = (channels as u32 * bits as u32).div_ceil(8);
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&format.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(block).to_le_bytes());
    b.extend_from_slice(&(block as u16).to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// Float samples as a 32-bit float mono WAV.
fn float_wav(samples: &[f32]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    wav_bytes(1, 16_000, 32, 3, &data)
}

/// A splittable corpus (3 sessions × 2 speakers × 4 classes, `tiny_corpus`) plus `bad.wav`
/// (written by `bad`) in its second session, trained for one epoch: the bad file is left out
/// with its reason (decoding, header checks and the samples themselves) and training goes on.
fn corpus_with(dir: &Path, bad: &dyn Fn(&Path)) -> Vec<String> {
    let manifest = tiny_corpus(&dir.join("corpus"), 3, 1, &CLASSES);
    bad(&dir.join("corpus/wav/bad.wav"));
    let mut rows = std::fs::read_to_string(&manifest).unwrap();
    rows.push_str("wav/bad.wav,angry,s2f,ses2\n");
    std::fs::write(&manifest, rows).unwrap();
    std::fs::write(dir.join("s.yaml"), TINY_SPEC).unwrap();
    args(&[
        "train",
        "--spec",
        "s.yaml",
        "--data",
        "manifest:corpus/manifest.csv",
        "--out",
        "run",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--cache-dir",
        "cache",
    ])
}

fn wav_cases(cases: &mut Vec<Case>) {
    let good = good_wav(5600);
    let mut bytes: Vec<(&str, Vec<u8>)> = vec![
        ("wav-zero-length", Vec::new()),
        ("wav-truncated-header", good[..20].to_vec()),
        ("wav-truncated-data", good[..good.len() / 2].to_vec()),
        ("wav-wrong-magic", {
            let mut b = good.clone();
            b[..4].copy_from_slice(b"RIFX");
            b
        }),
        ("wav-text", b"this is not audio\n".to_vec()),
        ("wav-zero-hz", wav_bytes(1, 0, 16, 1, &good[44..])),
        ("wav-one-hz", wav_bytes(1, 1, 16, 1, &good[44..])),
        (
            "wav-4294967291-hz",
            wav_bytes(1, 4_294_967_291, 16, 1, &good[44..]),
        ),
        ("wav-1-ghz", wav_bytes(1, 1_000_000_000, 16, 1, &good[44..])),
        (
            "wav-zero-channels",
            wav_bytes(0, 16_000, 16, 1, &good[44..]),
        ),
        (
            "wav-65535-channels",
            wav_bytes(65_535, 16_000, 16, 1, &good[44..]),
        ),
        ("wav-bits-0", wav_bytes(1, 16_000, 0, 1, &good[44..])),
        ("wav-bits-7", wav_bytes(1, 16_000, 7, 1, &good[44..])),
        ("wav-bits-12", wav_bytes(1, 16_000, 12, 1, &good[44..])),
        ("wav-bits-64-int", wav_bytes(1, 16_000, 64, 1, &good[44..])),
        (
            "wav-bits-65535",
            wav_bytes(1, 16_000, 65_535, 1, &good[44..]),
        ),
        (
            "wav-format-tag-99",
            wav_bytes(1, 16_000, 16, 99, &good[44..]),
        ),
        ("wav-data-past-eof", {
            let mut b = good.clone();
            b[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
            b
        }),
        ("wav-no-data-chunk", good[..36].to_vec()),
        ("wav-float-nan", float_wav(&[f32::NAN; 4000])),
        ("wav-float-inf", float_wav(&[f32::INFINITY; 4000])),
        ("wav-float-huge", float_wav(&[1e30; 4000])),
        (
            "wav-random-bytes",
            (0..4000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (name, b) in bytes.drain(..) {
        cases.push(case(name, 0, &["bad.wav"], move |d| {
            corpus_with(d, &|p| std::fs::write(p, &b).unwrap())
        }));
    }
    cases.push(case("wav-directory", 0, &["bad.wav"], |d| {
        corpus_with(d, &|p| std::fs::create_dir_all(p).unwrap())
    }));
}

fn manifest_cases(cases: &mut Vec<Case>) {
    let texts: Vec<(&str, Vec<u8>)> = vec![
        ("manifest-empty", Vec::new()),
        ("manifest-header-only", b"path,label,speaker\n".to_vec()),
        ("manifest-blank-lines", b"\n\n\n".to_vec()),
        (
            "manifest-binary",
            (0..2000u32).map(|i| (i * 37 % 251) as u8).collect(),
        ),
        (
            "manifest-latin1",
            b"path,label,speaker\ncaf\xe9.wav,sad,s1\n".to_vec(),
        ),
        (
            "manifest-only-missing-audio",
            b"a.wav,sad,s1\nb.wav,angry,s2\n".to_vec(),
        ),
        (
            "manifest-escaping-paths",
            b"../../../../etc/passwd,sad,s1\n/dev/zero,angry,s2\n".to_vec(),
        ),
        (
            "manifest-mixed-columns",
            b"a.wav,sad\nb.wav,angry,s1,ses1,extra\n".to_vec(),
        ),
        ("manifest-long-line", {
            let mut b = vec![b'x'; 200_000];
            b.extend_from_slice(b",sad,s1\n");
            b
        }),
        (
            "manifest-open-quote",
            b"\"a.wav,sad,s1\nb.wav,angry,s2\n".to_vec(),
        ),
        ("manifest-nul-bytes", b"a\0.wav,sad,s1\n".to_vec()),
    ];
    for (name, text) in texts {
        cases.push(case(name, 1, &["m.csv"], move |d| {
            std::fs::write(d.join("m.csv"), &text).unwrap();
            args(&["data", "--data", "manifest:m.csv"])
        }));
    }
    cases.push(case(
        "manifest-missing",
        1,
        &["m.csv", "does not exist"],
        |_| args(&["data", "--data", "manifest:m.csv"]),
    ));
    cases.push(case("manifest-directory", 1, &["m.csv"], |d| {
        std::fs::create_dir_all(d.join("m.csv")).unwrap();
        args(&["data", "--data", "manifest:m.csv"])
    }));
    cases.push(case("manifest-bad-labels-only", 1, &["m.csv"], |d| {
        std::fs::write(d.join("a.wav"), good_wav(5600)).unwrap();
        std::fs::write(d.join("m.csv"), "a.wav,furious,s1\n").unwrap();
        args(&["data", "--data", "manifest:m.csv", "--classes", "sad,angry"])
    }));
    for kind in ["iemocap", "crema-d", "emodb", "ravdess", "m3ed", "daic-woz"] {
        cases.push(case(
            format!("tree-{kind}-missing"),
            1,
            &["nowhere"],
            move |_| args(&["data", "--data", &format!("{kind}:nowhere")]),
        ));
        cases.push(case(format!("tree-{kind}-empty"), 1, &["root"], move |d| {
            std::fs::create_dir_all(d.join("root")).unwrap();
            args(&["data", "--data", &format!("{kind}:root")])
        }));
        cases.push(case(
            format!("tree-{kind}-symlink-loop"),
            1,
            &["root"],
            move |d| {
                std::fs::create_dir_all(d.join("root")).unwrap();
                std::os::unix::fs::symlink("..", d.join("root/loop")).unwrap();
                args(&["data", "--data", &format!("{kind}:root")])
            },
        ));
    }
    for (name, given) in [
        ("data-unknown-kind", "wavs:dir"),
        ("data-no-colon", "corpus"),
        ("data-empty", ""),
        ("data-manifest-no-path", "manifest:"),
    ] {
        // Refused while the arguments are parsed (clap's exit code 2), naming the option.
        cases.push(case(name, 2, &["--data"], move |_| {
            args(&["data", "--data", given])
        }));
    }
}

fn spec_cases(cases: &mut Vec<Case>) {
    let edits: Vec<(&str, String)> = vec![
        ("spec-empty", String::new()),
        ("spec-malformed-yaml", "name: [unclosed\n".into()),
        ("spec-tabs", TINY_SPEC.replace("  positions", "\tpositions")),
        ("spec-unknown-key", format!("{TINY_SPEC}colour: blue\n")),
        ("spec-typo-dims", TINY_SPEC.replace("dims:", "dimz:")),
        (
            "spec-typo-block",
            TINY_SPEC.replace("block: conformer", "block: conformr"),
        ),
        ("spec-d-zero", TINY_SPEC.replace("d: 8,", "d: 0,")),
        ("spec-d-negative", TINY_SPEC.replace("d: 8,", "d: -8,")),
        (
            "spec-d-huge-int",
            TINY_SPEC.replace("d: 8,", "d: 99999999999999999999999,"),
        ),
        (
            "spec-heads-not-dividing",
            TINY_SPEC.replace("heads: 2,", "heads: 3,"),
        ),
        (
            "spec-heads-zero",
            TINY_SPEC.replace("heads: 2,", "heads: 0,"),
        ),
        (
            "spec-ffn-expr-bad",
            TINY_SPEC.replace("ffn: 16 }", "ffn: 4 * * d }"),
        ),
        (
            "spec-ffn-expr-unknown-name",
            TINY_SPEC.replace("ffn: 16 }", "ffn: 4 * width }"),
        ),
        (
            "spec-ffn-expr-div-zero",
            TINY_SPEC.replace("ffn: 16 }", "ffn: d / 0 }"),
        ),
        (
            "spec-features-zero",
            TINY_SPEC.replace("features: 16", "features: 0"),
        ),
        (
            "spec-max-frames-zero",
            TINY_SPEC.replace("max_frames: 48", "max_frames: 0"),
        ),
        (
            "spec-kernel-zero",
            TINY_SPEC.replace("conv: { kernel: 3 }", "conv: { kernel: 0 }"),
        ),
        (
            "spec-repeat-zero",
            TINY_SPEC.replace("repeat: 1", "repeat: 0"),
        ),
        (
            "spec-dropout-two",
            TINY_SPEC.replace("dropout: 0.1", "dropout: 2"),
        ),
        (
            "spec-dropout-nan",
            TINY_SPEC.replace("dropout: 0.1", "dropout: .nan"),
        ),
        (
            "spec-no-classes",
            TINY_SPEC.replace("classes: [neutral, angry, happy, sad]\n", ""),
        ),
        (
            "spec-one-class",
            TINY_SPEC.replace("[neutral, angry, happy, sad]", "[neutral]"),
        ),
        (
            "spec-duplicate-class",
            TINY_SPEC.replace("[neutral, angry, happy, sad]", "[sad, sad]"),
        ),
        (
            "spec-act-unknown",
            TINY_SPEC.replace("act: swish", "act: relu7"),
        ),
        (
            "spec-hrf-expand-zero",
            TINY_SPEC.replace("expand: 2", "expand: 0"),
        ),
        (
            "spec-pool-unknown",
            TINY_SPEC.replace("pool: mean", "pool: median"),
        ),
        (
            "spec-name-number",
            TINY_SPEC.replace("name: TinyHrf", "name: 42"),
        ),
        ("spec-top-level-list", "- a\n- b\n".into()),
        ("spec-duplicate-key", format!("{TINY_SPEC}pool: mean\n")),
        (
            "spec-anchor-bomb",
            "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n".into(),
        ),
    ];
    for (name, text) in edits {
        cases.push(case(name, 1, &["s.yaml"], move |d| {
            std::fs::write(d.join("s.yaml"), &text).unwrap();
            args(&["inspect", "s.yaml"])
        }));
    }
    cases.push(case("spec-binary", 1, &["s.yaml"], |d| {
        let b: Vec<u8> = (0..3000u32).map(|i| (i * 131 % 256) as u8).collect();
        std::fs::write(d.join("s.yaml"), b).unwrap();
        args(&["inspect", "s.yaml"])
    }));
    cases.push(case("spec-directory", 1, &["s.yaml"], |d| {
        std::fs::create_dir_all(d.join("s.yaml")).unwrap();
        args(&["inspect", "s.yaml"])
    }));
    cases.push(case("spec-missing", 1, &["s.yaml"], |_| {
        args(&["inspect", "s.yaml"])
    }));
    cases.push(case("spec-train-malformed", 1, &["s.yaml"], |d| {
        std::fs::write(d.join("s.yaml"), "name: [\n").unwrap();
        args(&[
            "train", "--spec", "s.yaml", "--data", "synth", "--out", "run",
        ])
    }));
}

fn option_cases(cases: &mut Vec<Case>) {
    // Exit 2: refused while the arguments are parsed; exit 1: by hrf's own checks.
    let train: Vec<(&str, &[&str], &str, i32)> = vec![
        ("opt-threads-0", &["--threads", "0"], "--threads", 1),
        (
            "opt-threads-100000",
            &["--threads", "100000"],
            "--threads",
            1,
        ),
        ("opt-lr-0", &["--lr", "0"], "--lr", 1),
        ("opt-lr-neg", &["--lr", "-1"], "--lr", 1),
        ("opt-lr-1e30", &["--lr", "1e30"], "--lr", 1),
        ("opt-lr-nan", &["--lr", "NaN"], "--lr", 1),
        ("opt-lr-inf", &["--lr", "inf"], "--lr", 1),
        ("opt-lr-text", &["--lr", "fast"], "--lr", 2),
        ("opt-wd-neg", &["--weight-decay", "-1"], "--weight-decay", 1),
        ("opt-epochs-0", &["--epochs", "0"], "--epochs", 1),
        (
            "opt-epochs-neg",
            &["--epochs", "-3"],
            "--epochs -3: must be ≥ 0",
            2,
        ),
        (
            "opt-epochs-huge",
            &["--epochs", "99999999999999999999"],
            "--epochs",
            2,
        ),
        (
            "opt-max-frames-0",
            &["--max-frames", "0"],
            "--max-frames",
            1,
        ),
        ("opt-batch-0", &["--batch-size", "0"], "--batch-size", 1),
        (
            "opt-batch-neg",
            &["--batch-size", "-16"],
            "--batch-size -16: must be ≥ 0",
            2,
        ),
        (
            "opt-seed-neg",
            &["--seed", "-1"],
            "--seed -1: must be ≥ 0",
            2,
        ),
        (
            "opt-patience-neg",
            &["--patience", "-2"],
            "--patience -2: must be ≥ 0",
            2,
        ),
        ("opt-crop-unknown", &["--crop", "left"], "--crop", 2),
        ("opt-unknown-flag", &["--frobnicate"], "--frobnicate", 2),
    ];
    for (name, extra, needle, code) in train {
        cases.push(case(name, code, &[needle], move |d| {
            std::fs::write(d.join("s.yaml"), TINY_SPEC).unwrap();
            let mut a = args(&[
                "train", "--spec", "s.yaml", "--data", "synth", "--out", "run",
            ]);
            a.extend(args(extra));
            a
        }));
    }
    for t in ["NaN", "-1", "0", "inf"] {
        cases.push(case(
            format!("opt-tolerance-{t}"),
            1,
            &["--tolerance"],
            move |_| args(&["fold", "--model", "run", "--out", "fo", "--tolerance", t]),
        ));
    }
    cases.push(case("opt-long-out-name", 1, &["s.yaml"], |d| {
        std::fs::write(d.join("s.yaml"), "name: [\n").unwrap();
        args(&["train", "--spec", "s.yaml", "--out", &"o".repeat(5000)])
    }));
    cases.push(case("opt-long-spec-name", 1, &["spec"], |_| {
        args(&["inspect", &"s".repeat(5000)])
    }));
    for cmd in ["eval", "fold", "bench", "export"] {
        cases.push(case(
            format!("model-missing-{cmd}"),
            1,
            &["no-run"],
            move |_| args(&[cmd, "--model", "no-run", "--out", "o"]),
        ));
        cases.push(case(
            format!("model-empty-dir-{cmd}"),
            1,
            &["run"],
            move |d| {
                std::fs::create_dir_all(d.join("run")).unwrap();
                args(&[cmd, "--model", "run", "--out", "o"])
            },
        ));
        for (what, bytes) in [
            ("empty", Vec::new()),
            ("text", b"hello\n".to_vec()),
            ("header-past-eof", {
                let mut b = 1_000_000u64.to_le_bytes().to_vec();
                b.extend_from_slice(b"{}");
                b
            }),
            ("garbage-json", {
                let mut b = 8u64.to_le_bytes().to_vec();
                b.extend_from_slice(b"{{{{{{{{");
                b
            }),
        ] {
            cases.push(case(
                format!("model-{what}-{cmd}"),
                1,
                &["m.safetensors"],
                move |d| {
                    std::fs::write(d.join("m.safetensors"), &bytes).unwrap();
                    args(&[cmd, "--model", "m.safetensors", "--out", "o"])
                },
            ));
        }
    }
    cases.push(case("resume-empty-run", 1, &["--resume"], |d| {
        std::fs::write(d.join("s.yaml"), TINY_SPEC).unwrap();
        std::fs::create_dir_all(d.join("run")).unwrap();
        args(&[
            "train", "--spec", "s.yaml", "--data", "synth", "--out", "run", "--resume",
        ])
    }));
}

#[test]
fn every_crafted_bad_input_is_refused_or_skipped_clearly_without_writing() {
    let mut cases = Vec::new();
    wav_cases(&mut cases);
    manifest_cases(&mut cases);
    spec_cases(&mut cases);
    option_cases(&mut cases);
    let count = cases.len();
    let scratch = Scratch::new("bad-input");
    let root = scratch.0.clone();
    let queue = Arc::new(Mutex::new(cases));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (queue, failures, root) = (queue.clone(), failures.clone(), root.clone());
            std::thread::spawn(move || {
                loop {
                    let Some(c) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(why) = run(&c, &root) {
                        failures.lock().unwrap().push(format!("{}: {why}", c.name));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    eprintln!("bad_input: {count} cases ran, {} failed", failures.len());
    assert!(count >= 100, "only {count} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
