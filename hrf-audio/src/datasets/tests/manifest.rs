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
