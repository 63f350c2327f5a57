//! `hrf data` end to end: exit codes and messages as a user sees them.

use std::path::PathBuf;
use std::process::Command;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hrf-cli-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hrf_data(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hrf"))
        .arg("data")
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn missing_directory_fails_with_a_clear_message() {
    let scratch = Scratch::new("missing");
    let missing = scratch.0.join("IEMOCAP_full_release");
    let (code, stdout, stderr) = hrf_data(&["--data", &format!("iemocap:{}", missing.display())]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "error: iemocap data directory {} does not exist; pass --data iemocap:<path to the corpus root>\n",
            missing.display()
        )
    );
}

#[test]
fn unknown_kind_lists_the_valid_ones() {
    let (code, _, stderr) = hrf_data(&["--data", "timit:/data"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(
            "unknown data kind `timit`; valid kinds: iemocap:<path>, m3ed:<path>, daic-woz:<path>, \
             ravdess:<path>, crema-d:<path>, emodb:<path>, manifest:<path>, synth"
        ),
        "{stderr}"
    );
}

#[test]
fn a_manifest_corpus_is_reported_and_an_unusable_protocol_fails() {
    let scratch = Scratch::new("manifest");
    for name in ["a.wav", "b.wav"] {
        std::fs::write(scratch.0.join(name), "").unwrap();
    }
    let manifest = scratch.0.join("m.csv");
    std::fs::write(&manifest, "a.wav,x,s1\nb.wav,y,s2\nc.wav,y,s2\n").unwrap();
    let data = format!("manifest:{}", manifest.display());
    let (code, stdout, stderr) = hrf_data(&["--data", &data, "--no-durations"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert!(stdout.starts_with(&format!(
        "dataset manifest at {}: 2 classes, 2 utterances, 2 speakers\n",
        manifest.display()
    )));
    assert!(
        stdout.contains(
            "\nprotocol: folds of disjoint speakers (k = 5, fewer if fewer speakers) \
             (report the mean of per-fold metrics): 2 folds\n\
             \x20 fold   train  val  test  test speakers  val speakers\n\
             \x20 fold1      1    0     1  s1             -\n\
             \x20 fold2      1    0     1  s2             -\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!(
            "skipped entries: 1\n  {}:3: missing WAV {}\n",
            manifest.display(),
            scratch.0.join("c.wav").display()
        )),
        "{stdout}"
    );

    // One speaker cannot be split: the report still prints, then the command fails.
    std::fs::write(&manifest, "a.wav,x,s1\nb.wav,y,s1\n").unwrap();
    let (code, stdout, stderr) = hrf_data(&["--data", &data, "--no-durations"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("cannot build the folds"), "{stdout}");
    assert_eq!(
        stderr,
        format!(
            "error: {data}: cannot build the manifest evaluation protocol: speaker folds need at least 2 speakers, found 1\n"
        )
    );
}
