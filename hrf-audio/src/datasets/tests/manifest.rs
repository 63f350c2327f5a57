//! Generic manifest loader: header optional, quoting, relative paths, class lists, protocols.

use std::collections::BTreeMap;

use super::fake_tree::FakeTree;
use crate::datasets::{ProtocolKind, Skipped, load_manifest};

const MANIFEST: &str = "\
path,label,speaker,session
a/one.wav,angry,s1,sess1
\"a/two, with comma.wav\",happy,s1,sess1
b/three.wav,sad,s2,sess2
b/four.wav,angry,s3,sess2
b/missing.wav,sad,s3,sess2
b/five.wav,sad,s3

b/six.wav,,s3,sess2
a/one.wav,sad,s1,sess1
\"broken,sad,s1,sess1
c/seven.wav,neutral,s4,sess3
";

fn build_tree() -> FakeTree {
    let tree = FakeTree::new("manifest");
    tree.file("data/manifest.csv", MANIFEST);
    tree.touch(&[
        "data/a/one.wav",
        "data/a/two, with comma.wav",
        "data/b/three.wav",
        "data/b/four.wav",
        "data/b/five.wav",
        "data/b/six.wav",
        "data/c/seven.wav",
    ]);
    tree
}

#[test]
fn loads_rows_relative_to_the_manifest_and_reports_bad_ones() {
    let tree = build_tree();
    let manifest = tree.path("data/manifest.csv");
    let data = load_manifest(&manifest, None).unwrap();
    assert_eq!(data.classes, ["angry", "happy", "neutral", "sad"]);
    let got: Vec<(&str, &str, &str, Option<&str>)> = data
        .utterances
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                data.classes[u.label].as_str(),
                u.speaker.as_str(),
                u.group.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a/one.wav", "angry", "s1", Some("sess1")),
            ("a/two, with comma.wav", "happy", "s1", Some("sess1")),
            ("b/three.wav", "sad", "s2", Some("sess2")),
            ("b/four.wav", "angry", "s3", Some("sess2")),
            ("c/seven.wav", "neutral", "s4", Some("sess3")),
        ]
    );
    assert_eq!(
        data.utterances[1].path,
        tree.path("data/a/two, with comma.wav")
    );
    let at = |line: usize, reason: &str| Skipped {
        location: format!("{}:{line}", manifest.display()),
        reason: reason.to_owned(),
    };
    assert_eq!(
        data.skipped,
        [
            at(
                6,
                &format!("missing WAV {}", tree.path("data/b/missing.wav").display())
            ),
            at(7, "3 fields, expected 4 as set by line 1"),
            at(9, "empty label field"),
            at(10, "duplicate path `a/one.wav` (first on line 2)"),
            at(11, "unterminated quoted field `\"broken,sad,s1,sess1`"),
        ]
    );
    assert_eq!(data.protocol.kind, ProtocolKind::LeaveOneGroupOut);
    let names: Vec<String> = data.folds().unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["sess1", "sess2", "sess3"]);
}

#[test]
fn a_given_class_list_keeps_its_order_and_counts_other_labels() {
    let tree = build_tree();
    let classes = ["sad".to_owned(), "angry".to_owned()];
    let data = load_manifest(&tree.path("data/manifest.csv"), Some(&classes)).unwrap();
    assert_eq!(data.classes, classes);
    let labels: Vec<usize> = data.utterances.iter().map(|u| u.label).collect();
    assert_eq!(labels, [1, 0, 1]);
    assert_eq!(
        data.excluded_labels,
        BTreeMap::from([("happy".to_owned(), 1), ("neutral".to_owned(), 1)])
    );
}

#[test]
fn headerless_three_column_manifest_uses_speaker_folds() {
    let tree = FakeTree::new("manifest-plain");
    let mut rows = String::new();
    for speaker in 0..7 {
        let file = format!("clips/{speaker}.wav");
        tree.touch(&[&file]);
        rows.push_str(&format!(
            "{file},{},spk{speaker}\n",
            if speaker % 2 == 0 { "x" } else { "y" }
        ));
    }
    let manifest = tree.file("m.csv", &rows);
    let data = load_manifest(&manifest, None).unwrap();
    assert_eq!(data.utterances.len(), 7);
    assert!(data.skipped.is_empty());
    assert_eq!(data.protocol.kind, ProtocolKind::SpeakerFolds { k: 5 });
    // Speakers in sorted order go to fold j mod 5: spk0, spk5 | spk1, spk6 | spk2 | spk3 | spk4.
    let tests: Vec<Vec<String>> = data
        .folds()
        .unwrap()
        .into_iter()
        .map(|f| f.test_speakers)
        .collect();
    assert_eq!(
        tests,
        [
            vec!["spk0", "spk5"],
            vec!["spk1", "spk6"],
            vec!["spk2"],
            vec!["spk3"],
            vec!["spk4"]
        ]
    );
}

#[test]
fn a_missing_manifest_is_a_clear_error() {
    let tree = FakeTree::new("manifest-missing");
    let path = tree.path("none.csv");
    assert_eq!(
        load_manifest(&path, None).unwrap_err().to_string(),
        format!(
            "manifest file {} does not exist; pass --data manifest:<path to manifest.csv>",
            path.display()
        )
    );
}

#[test]
fn byte_order_mark_and_crlf_from_spreadsheets_are_accepted() {
    let tree = FakeTree::new("manifest-bom");
    tree.touch(&["a.wav", "b.wav"]);
    let manifest = tree.file(
        "m.csv",
        "\u{feff}path,label,speaker\r\na.wav,x,s1\r\nb.wav,y,s2\r\n",
    );
    let data = load_manifest(&manifest, None).unwrap();
    assert!(data.skipped.is_empty(), "{:?}", data.skipped);
    assert_eq!(data.classes, ["x", "y"]);
    assert_eq!(data.utterances[1].speaker, "s2");
}

#[test]
fn empty_and_header_only_manifests_say_what_a_row_looks_like() {
    let tree = FakeTree::new("manifest-empty");
    let row_hint = "add one row per utterance, `path,label,speaker[,session]` with the path \
                    relative to the manifest, e.g. `audio/a01.wav,angry,spk01`";
    for (name, text, what) in [
        ("empty.csv", "", "the manifest is empty (no rows)"),
        ("blank.csv", "\n  \r\n\n", "the manifest is empty (no rows)"),
        ("bom.csv", "\u{feff}", "the manifest is empty (no rows)"),
        (
            "header.csv",
            "\u{feff}path,label,speaker\r\n\r\n",
            "only a header (line 1), no rows",
        ),
    ] {
        let manifest = tree.file(name, text);
        assert_eq!(
            load_manifest(&manifest, None).unwrap_err().to_string(),
            format!(
                "{} does not have the manifest layout: {what}; {row_hint}",
                manifest.display()
            ),
            "{name}"
        );
    }
}

#[test]
fn over_long_fields_wrong_column_counts_and_non_files_are_skipped_rows() {
    let tree = FakeTree::new("manifest-long");
    tree.touch(&["a.wav"]);
    tree.dir("dir.wav");
    let long_path = format!("{}.wav", "p".repeat(5_000));
    let long_line = format!("\"{}", "x".repeat(40_000));
    let manifest = tree.file(
        "m.csv",
        &format!(
            "\u{feff}path,label,speaker\n{long_path},sad,s1\na.wav,sad,s1,extra,more\n\
             dir.wav,sad,s1\n{long_line}\na.wav,angry,s1\n"
        ),
    );
    let data = load_manifest(&manifest, None).unwrap();
    assert_eq!(data.utterances.len(), 1);
    assert_eq!(data.utterances[0].path, tree.path("a.wav"));
    let at = |line: usize, reason: String| Skipped {
        location: format!("{}:{line}", manifest.display()),
        reason,
    };
    assert_eq!(
        data.skipped,
        [
            at(
                2,
                "the path field is 5004 bytes, over the 4096-byte limit; shorten it (a path \
                 longer than PATH_MAX cannot be opened)"
                    .to_owned()
            ),
            at(3, "5 fields, expected 3 as set by line 1".to_owned()),
            at(
                4,
                format!(
                    "WAV {} is a directory, not a regular file; replace it with a RIFF/WAVE file",
                    tree.path("dir.wav").display()
                )
            ),
            at(
                5,
                "line is 40001 bytes, over the 32780-byte limit for a row; a row is \
                 path,label,speaker[,session] (is a quote left open, or is this not a CSV?)"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn a_manifest_over_the_size_limit_is_refused_from_its_length_before_reading() {
    let tree = FakeTree::new("manifest-huge");
    let path = tree.path("huge.csv");
    // Sparse: the length says 256 MiB + 1 without writing the bytes.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(crate::datasets::MAX_MANIFEST_BYTES + 1)
        .unwrap();
    let err = load_manifest(&path, None).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, crate::datasets::DataError::ManifestTooLarge { size, .. }
            if size == crate::datasets::MAX_MANIFEST_BYTES + 1),
        "{text}"
    );
    assert_eq!(
        text,
        format!(
            "manifest {} is 268435457 bytes, over the 268435456-byte limit for a manifest; a \
             manifest holds one short CSV row per utterance (is this the right file?)",
            path.display()
        )
    );
}

#[test]
fn a_manifest_that_is_not_utf8_is_refused_with_the_offset() {
    let tree = FakeTree::new("manifest-latin1");
    let path = tree.path("latin1.csv");
    std::fs::write(&path, b"path,label,speaker\na/caf\xe9.wav,sad,s1\n").unwrap();
    let err = load_manifest(&path, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "manifest {} is not UTF-8 text (invalid byte at offset 24); save it as UTF-8 CSV \
             rows path,label,speaker[,session]",
            path.display()
        )
    );
}
