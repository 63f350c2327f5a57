//! IEMOCAP loader on a fake `IEMOCAP_full_release` tree.

use std::collections::BTreeMap;

use super::fake_tree::FakeTree;
use crate::datasets::{IEMOCAP_CLASSES, Skipped, load_iemocap};

const SESSION1_LABELS: &str = "\
% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral state;\t()
C-E3:\tNeutral state;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[10.0100 - 11.3925]\tSes01F_impro01_M000\texc\t[3.5000, 3.5000, 3.0000]
[12.0 - 13.0]\tSes01F_impro01_M001\tfru\t[2.0000, 3.5000, 3.5000]
[14.0 - 15.0]\tSes01F_impro01_F001\txyz\t[2.0000, 2.0000, 2.0000]
[16.0 - 17.0]\tSes01F_impro01_F002\tang\t[2.0000, 4.0000, 4.0000]
[bad - 1.0]\tSes01F_impro01_F003\tsad\t[2.0000, 2.0000, 2.0000]
[18.0 - 19.0]\tSes01F_impro01_X004\tsad\t[2.0000, 2.0000, 2.0000]
[20.0 - 21.0]\tSes01F_impro01_F005
[22.0 - 23.0]\tSes01F_impro01_F000\tsad\t[2.0000, 2.0000, 2.0000]
[24.0 - 25.0]\tSes02F_impro01_F006\tsad\t[2.0000, 2.0000, 2.0000]
[26.0 - 27.0]\tSes01F_impro01_M006\thap\t[4.0000, 3.0000, 3.0000]
";

fn build_tree() -> FakeTree {
    let tree = FakeTree::new("iemocap");
    tree.file(
        "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
        SESSION1_LABELS,
    );
    // Per-annotator files in subdirectories look like label lines but must not be read.
    tree.file(
        "Session1/dialog/EmoEvaluation/Categorical/Ses01F_impro01_e1_cat.txt",
        "[1.0 - 2.0]\tSes01F_impro01_F009\tang\t[1.0, 1.0, 1.0]\n",
    );
    tree.dir("Session1/dialog/EmoEvaluation/Attribute");
    tree.file(
        "Session2/dialog/EmoEvaluation/Ses02M_script01_1.txt",
        "[1.5 - 3.0]\tSes02M_script01_1_F000\tsad\t[2.0, 2.0, 2.0]\n\
         [3.5 - 5.0]\tSes02M_script01_1_M000\tneu\t[2.5, 2.5, 2.5]\n",
    );
    tree.dir("Session3/sentences/wav");
    let wav = |dialog: &str, utt: &str| {
        format!("Session{}/sentences/wav/{dialog}/{utt}.wav", &dialog[4..5])
    };
    tree.touch(&[
        &wav("Ses01F_impro01", "Ses01F_impro01_F000"),
        &wav("Ses01F_impro01", "Ses01F_impro01_M000"),
        &wav("Ses01F_impro01", "Ses01F_impro01_M001"),
        &wav("Ses01F_impro01", "Ses01F_impro01_F001"),
        &wav("Ses01F_impro01", "Ses01F_impro01_F003"),
        &wav("Ses01F_impro01", "Ses01F_impro01_M006"),
        &wav("Ses02M_script01_1", "Ses02M_script01_1_F000"),
        &wav("Ses02M_script01_1", "Ses02M_script01_1_M000"),
    ]);
    tree
}

#[test]
fn loads_four_classes_with_speakers_sessions_and_reported_skips() {
    let tree = build_tree();
    let data = load_iemocap(tree.root()).unwrap();
    assert_eq!(data.classes, IEMOCAP_CLASSES);
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
            ("Ses01F_impro01_F000", "neutral", "Ses01_F", Some("Ses01")),
            ("Ses01F_impro01_M000", "happy", "Ses01_M", Some("Ses01")),
            ("Ses01F_impro01_M006", "happy", "Ses01_M", Some("Ses01")),
            ("Ses02M_script01_1_F000", "sad", "Ses02_F", Some("Ses02")),
            (
                "Ses02M_script01_1_M000",
                "neutral",
                "Ses02_M",
                Some("Ses02")
            ),
        ]
    );
    assert_eq!(
        data.utterances[3].path,
        tree.path("Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_F000.wav")
    );
    assert_eq!(
        data.excluded_labels,
        BTreeMap::from([("fru".to_owned(), 1)])
    );

    let labels = tree
        .path("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt")
        .display()
        .to_string();
    let at = |line: usize, reason: &str| Skipped {
        location: format!("{labels}:{line}"),
        reason: reason.to_owned(),
    };
    let missing = tree.path("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F002.wav");
    let expected = vec![
        at(
            10,
            "unknown emotion code `xyz` (IEMOCAP codes: neu ang sad hap exc fru sur fea dis oth xxx)",
        ),
        at(11, &format!("missing WAV {}", missing.display())),
        at(
            12,
            "malformed time span `[bad - 1.0]` (expected `[START - END]`)",
        ),
        at(
            13,
            "utterance id `Ses01F_impro01_X004`: last token `X004` is not F/M followed by digits",
        ),
        at(
            14,
            "malformed label line (expected `[START - END]<TAB>UTT_ID<TAB>EMO<TAB>[V, A, D]`): `[20.0 - 21.0]\tSes01F_impro01_F005`",
        ),
        at(
            15,
            &format!("duplicate utterance `Ses01F_impro01_F000` (first at {labels}:3)"),
        ),
        at(
            16,
            "utterance `Ses02F_impro01_F006` belongs to Ses02 but is listed under Session1",
        ),
        Skipped {
            location: tree
                .path("Session3/dialog/EmoEvaluation")
                .display()
                .to_string(),
            reason: "missing dialog/EmoEvaluation directory: no labels for this session".to_owned(),
        },
    ];
    assert_eq!(data.skipped, expected);
}

#[test]
fn leave_one_session_out_keeps_validation_inside_training_sessions() {
    let tree = build_tree();
    let data = load_iemocap(tree.root()).unwrap();
    let folds = data.folds().unwrap();
    type Row<'a> = (&'a str, &'a [usize], &'a [usize], &'a [usize], &'a [String]);
    let summary: Vec<Row> = folds
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                &f.train[..],
                &f.val[..],
                &f.test[..],
                &f.val_speakers[..],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "Ses01",
                &[3][..],
                &[4][..],
                &[0, 1, 2][..],
                &["Ses02_M".to_owned()][..]
            ),
            (
                "Ses02",
                &[1, 2][..],
                &[0][..],
                &[3, 4][..],
                &["Ses01_F".to_owned()][..]
            ),
        ]
    );
    assert!(folds.iter().all(|f| f.dropped_overlap == 0));
}

#[test]
fn missing_or_foreign_directories_are_clear_errors() {
    let tree = FakeTree::new("iemocap-errors");
    let missing = tree.path("nope");
    assert_eq!(
        load_iemocap(&missing).unwrap_err().to_string(),
        format!(
            "iemocap data directory {} does not exist; pass --data iemocap:<path to the corpus root>",
            missing.display()
        )
    );
    tree.dir("Documentation");
    tree.dir("IEMOCAP_full_release/Documentation");
    assert_eq!(
        load_iemocap(tree.root()).unwrap_err().to_string(),
        format!(
            "{} does not have the iemocap layout: no Session1 … Session5 directories; pass the IEMOCAP_full_release directory",
            tree.root().display()
        )
    );
}

#[test]
fn the_parent_of_iemocap_full_release_also_works() {
    let tree = FakeTree::new("iemocap-parent");
    tree.file(
        "IEMOCAP_full_release/Session4/dialog/EmoEvaluation/Ses04F_script01_1.txt",
        "[1.0 - 2.0]\tSes04F_script01_1_M003\tang\t[1.0, 4.0, 4.0]\n",
    );
    tree.touch(&[
        "IEMOCAP_full_release/Session4/sentences/wav/Ses04F_script01_1/Ses04F_script01_1_M003.wav",
    ]);
    let data = load_iemocap(tree.root()).unwrap();
    assert_eq!(data.utterances.len(), 1);
    assert_eq!(
        (
            data.utterances[0].speaker.as_str(),
            data.utterances[0].label
        ),
        ("Ses04_M", 1)
    );
}
