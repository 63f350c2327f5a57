//! RAVDESS, CREMA-D and EmoDB loaders on fake trees named like the real releases.

use std::collections::BTreeMap;

use super::fake_tree::FakeTree;
use crate::datasets::{Dataset, Skipped, load_crema_d, load_emodb, load_ravdess};

/// (id, class name, speaker) of every utterance.
fn triples(data: &Dataset) -> Vec<(&str, &str, &str)> {
    data.utterances
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                data.classes[u.label].as_str(),
                u.speaker.as_str(),
            )
        })
        .collect()
}

fn skip(tree: &FakeTree, file: &str, reason: &str) -> Skipped {
    Skipped {
        location: tree.path(file).display().to_string(),
        reason: reason.to_owned(),
    }
}

#[test]
fn ravdess_reads_fields_excludes_song_and_folds_by_actor() {
    let tree = FakeTree::new("ravdess");
    tree.touch(&[
        "Actor_01/03-01-05-01-02-01-01.wav",
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_02/03-01-03-02-01-02-02.wav",
        "Actor_02/03-02-03-01-01-01-02.wav",
        "Actor_02/03-01-09-01-01-01-02.wav",
        "Actor_02/03-01-04-01-01-01-03.wav",
        "Actor_03/01-01-04-01-01-01-03.wav",
        "Actor_03/03-01-04-01-01-01-03.wav",
        "Actor_03/03-01-04.wav",
    ]);
    tree.file("Actor_03/README.txt", "not audio");
    let data = load_ravdess(tree.root()).unwrap();
    assert_eq!(
        triples(&data),
        [
            ("03-01-01-01-01-01-01", "neutral", "01"),
            ("03-01-05-01-02-01-01", "angry", "01"),
            ("03-01-03-02-01-02-02", "happy", "02"),
            ("03-01-04-01-01-01-03", "sad", "03"),
        ]
    );
    assert_eq!(
        data.excluded_labels,
        BTreeMap::from([("song (vocal channel 02)".to_owned(), 1)])
    );
    assert_eq!(
        data.skipped,
        [
            skip(
                &tree,
                "Actor_02/03-01-04-01-01-01-03.wav",
                "actor 03 is filed under folder Actor_02"
            ),
            skip(
                &tree,
                "Actor_02/03-01-09-01-01-01-02.wav",
                "emotion 09 is not in 01–08"
            ),
            skip(
                &tree,
                "Actor_03/01-01-04-01-01-01-03.wav",
                "modality 01 is not 03 (audio-only)"
            ),
            skip(
                &tree,
                "Actor_03/03-01-04.wav",
                "name is not MM-VV-EE-II-SS-RR-AA (seven 2-digit fields)"
            ),
        ]
    );
    // 3 actors < 5 folds: one fold per actor.
    let folds = data.folds().unwrap();
    let tests: Vec<(&str, &[String], &[usize])> = folds
        .iter()
        .map(|f| (f.name.as_str(), &f.test_speakers[..], &f.test[..]))
        .collect();
    assert_eq!(
        tests,
        [
            ("fold1", &["01".to_owned()][..], &[0, 1][..]),
            ("fold2", &["02".to_owned()][..], &[2][..]),
            ("fold3", &["03".to_owned()][..], &[3][..]),
        ]
    );
}

#[test]
fn crema_d_checks_every_code() {
    let tree = FakeTree::new("crema");
    tree.touch(&[
        "AudioWAV/1001_DFA_ANG_XX.wav",
        "AudioWAV/1001_IEO_HAP_HI.wav",
        "AudioWAV/1002_TIE_NEU_XX.wav",
        "AudioWAV/1091_WSI_SAD_LO.wav",
        "AudioWAV/1092_DFA_ANG_XX.wav",
        "AudioWAV/1003_ABC_ANG_XX.wav",
        "AudioWAV/1003_DFA_XYZ_XX.wav",
        "AudioWAV/1003_DFA_ANG.wav",
        "AudioWAV/1003_DFA_ANG_QQ.wav",
    ]);
    let data = load_crema_d(tree.root()).unwrap();
    assert_eq!(
        triples(&data),
        [
            ("1001_DFA_ANG_XX", "anger", "1001"),
            ("1001_IEO_HAP_HI", "happy", "1001"),
            ("1002_TIE_NEU_XX", "neutral", "1002"),
            ("1091_WSI_SAD_LO", "sad", "1091"),
        ]
    );
    assert_eq!(
        data.skipped,
        [
            skip(
                &tree,
                "AudioWAV/1003_ABC_ANG_XX.wav",
                "sentence code `ABC` is not one of IEO TIE IOM IWW TAI MTI IWL ITH DFA ITS TSI WSI"
            ),
            skip(
                &tree,
                "AudioWAV/1003_DFA_ANG.wav",
                "name is not AAAA_SSS_EEE_LL (four `_`-separated fields)"
            ),
            skip(
                &tree,
                "AudioWAV/1003_DFA_ANG_QQ.wav",
                "level `QQ` is not one of LO MD HI XX"
            ),
            skip(
                &tree,
                "AudioWAV/1003_DFA_XYZ_XX.wav",
                "emotion code `XYZ` is not one of ANG DIS FEA HAP NEU SAD"
            ),
            skip(
                &tree,
                "AudioWAV/1092_DFA_ANG_XX.wav",
                "actor `1092` is not in 1001–1091"
            ),
        ]
    );
    assert!(data.excluded_labels.is_empty());
}

#[test]
fn emodb_reads_the_sixth_character_and_folds_by_speaker() {
    let tree = FakeTree::new("emodb");
    tree.touch(&[
        "wav/03a01Fa.wav",
        "wav/03a01Wa.wav",
        "wav/08b02Tb.wav",
        "wav/10a04Lc.wav",
        "wav/11a05Xa.wav",
        "wav/3a01Fa.wav",
        "wav/16c01Na.wav",
    ]);
    let data = load_emodb(tree.root()).unwrap();
    assert_eq!(
        triples(&data),
        [
            ("03a01Fa", "happiness", "03"),
            ("03a01Wa", "anger", "03"),
            ("08b02Tb", "sadness", "08"),
            ("10a04Lc", "boredom", "10"),
        ]
    );
    assert_eq!(
        data.skipped,
        [
            skip(
                &tree,
                "wav/11a05Xa.wav",
                "emotion letter `X` is not one of W L E A F T N"
            ),
            skip(
                &tree,
                "wav/16c01Na.wav",
                "text code `c01` is not a/b + two digits"
            ),
            skip(
                &tree,
                "wav/3a01Fa.wav",
                "name is not SSTTTEv (7 characters)"
            ),
        ]
    );
    let folds = data.folds().unwrap();
    assert_eq!(folds.len(), 3);
    // Speaker-disjoint: no test speaker is in train or validation.
    for fold in &folds {
        for &i in fold.train.iter().chain(&fold.val) {
            assert!(!fold.test_speakers.contains(&data.utterances[i].speaker));
        }
    }
}

#[test]
fn a_directory_without_wavs_is_a_layout_error() {
    let tree = FakeTree::new("emodb-empty");
    tree.file("wav/readme.txt", "");
    assert_eq!(
        load_emodb(tree.root()).unwrap_err().to_string(),
        format!(
            "{} does not have the emodb layout: no .wav files found",
            tree.path("wav").display()
        )
    );
}

/// A symlink loop, a second link to a directory and to a file, a FIFO named `.wav` and a tree
/// deeper than the walk's bound: every file is listed once and every entry not followed is a
/// skipped entry with its reason.
#[cfg(unix)]
#[test]
fn directory_walks_survive_symlink_loops_fifos_and_deep_trees() {
    use std::os::unix::fs::symlink;
    let tree = FakeTree::new("ravdess-loops");
    tree.touch(&["Actor_01/03-01-05-01-02-01-01.wav"]);
    // Actor_01/loop -> the root: following it would walk the tree forever.
    symlink(tree.root(), tree.path("Actor_01/loop")).unwrap();
    // Zlink -> Actor_01: the same directory under a second name.
    symlink(tree.path("Actor_01"), tree.path("Zlink")).unwrap();
    // A second name for the one WAV file.
    symlink(
        tree.path("Actor_01/03-01-05-01-02-01-01.wav"),
        tree.path("Actor_01/03-01-05-01-02-01-09.wav"),
    )
    .unwrap();
    let deep = "d1/d2/d3/d4/d5/d6/d7";
    tree.touch(&[&format!("{deep}/03-01-01-01-01-01-02.wav")]);
    let fifo = tree.path("Actor_01/03-01-01-01-01-01-03.wav");
    let fifo_made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());

    let data = load_ravdess(tree.root()).unwrap();
    assert_eq!(triples(&data), [("03-01-05-01-02-01-01", "angry", "01")]);
    let canonical = |p: &str| std::fs::canonicalize(tree.path(p)).unwrap();
    let mut want = vec![
        skip(
            &tree,
            "Actor_01/03-01-05-01-02-01-09.wav",
            &format!(
                "same file as {} (a second link to {}); listed once",
                tree.path("Actor_01/03-01-05-01-02-01-01.wav").display(),
                canonical("Actor_01/03-01-05-01-02-01-01.wav").display()
            ),
        ),
        skip(
            &tree,
            "Actor_01/loop",
            &format!(
                "directory {} was already searched (a symlink loop or a second link to it); \
                 not searched again",
                canonical("").display()
            ),
        ),
        skip(
            &tree,
            "Zlink",
            &format!(
                "directory {} was already searched (a symlink loop or a second link to it); \
                 not searched again",
                canonical("Actor_01").display()
            ),
        ),
        skip(
            &tree,
            "d1/d2/d3/d4/d5/d6/d7",
            "directory is more than 6 levels below the corpus root; not searched (move the \
             audio up or pass a deeper root)",
        ),
    ];
    if fifo_made {
        want.insert(
            0,
            skip(
                &tree,
                "Actor_01/03-01-01-01-01-01-03.wav",
                "is a FIFO (named pipe), not a regular file; expected a RIFF/WAVE file",
            ),
        );
    }
    let mut got = data.skipped.clone();
    got.sort_by(|a, b| a.location.cmp(&b.location));
    want.sort_by(|a, b| a.location.cmp(&b.location));
    assert_eq!(got, want);
}
