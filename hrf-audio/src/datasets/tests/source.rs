//! `--data <kind>:<path>` parsing and dispatch.

use std::path::PathBuf;

use super::fake_tree::FakeTree;
use crate::datasets::{DEFAULT_SYNTH_MANIFEST, DataKind, DataSource};

#[test]
fn parses_every_kind() {
    let cases = [
        (
            "iemocap:/data/IEMOCAP_full_release",
            DataKind::Iemocap,
            "/data/IEMOCAP_full_release",
        ),
        ("m3ed:/data/M3ED", DataKind::M3ed, "/data/M3ED"),
        ("daic-woz:/data/daic", DataKind::DaicWoz, "/data/daic"),
        ("ravdess:rav", DataKind::Ravdess, "rav"),
        ("crema-d:/c", DataKind::CremaD, "/c"),
        ("emodb:./emo db", DataKind::Emodb, "./emo db"),
        (
            "manifest:path/to/manifest.csv",
            DataKind::Manifest,
            "path/to/manifest.csv",
        ),
        ("synth", DataKind::Synth, DEFAULT_SYNTH_MANIFEST),
        (
            "synth:out/corpus",
            DataKind::Synth,
            "out/corpus/manifest.csv",
        ),
        ("synth:out/my.csv", DataKind::Synth, "out/my.csv"),
        // Only the first colon separates the kind.
        (
            "manifest:C:/data/m.csv",
            DataKind::Manifest,
            "C:/data/m.csv",
        ),
    ];
    for (text, kind, path) in cases {
        let source: DataSource = text.parse().unwrap();
        assert_eq!(
            source,
            DataSource {
                kind,
                path: PathBuf::from(path)
            },
            "{text}"
        );
    }
    assert_eq!(
        DataSource::parse("crema-d:/c").unwrap().to_string(),
        "crema-d:/c"
    );
}

#[test]
fn unknown_kinds_and_missing_paths_are_explained() {
    assert_eq!(
        DataSource::parse("timit:/data").unwrap_err().to_string(),
        "unknown data kind `timit`; valid kinds: iemocap:<path>, m3ed:<path>, daic-woz:<path>, \
         ravdess:<path>, crema-d:<path>, emodb:<path>, manifest:<path>, synth"
    );
    assert_eq!(
        DataSource::parse("iemocap").unwrap_err().to_string(),
        "invalid --data `iemocap`: `iemocap` needs a path: --data iemocap:<path>"
    );
    assert_eq!(
        DataSource::parse("manifest:").unwrap_err().to_string(),
        "invalid --data `manifest:`: `manifest` needs a path: --data manifest:<path>"
    );
}

#[test]
fn loads_through_the_matching_loader() {
    let tree = FakeTree::new("source");
    tree.touch(&[
        "corpus/a.wav",
        "corpus/b.wav",
        "corpus/c.wav",
        "corpus/d.wav",
    ]);
    tree.file(
        "corpus/manifest.csv",
        "path,label,speaker,session\na.wav,sad,s1,1\nb.wav,zzz,s2,2\nc.wav,angry,s1,1\nd.wav,neutral,s2,2\n",
    );
    let synth = DataSource::parse(&format!("synth:{}", tree.path("corpus").display())).unwrap();
    let data = synth.load().unwrap();
    assert_eq!((data.name.as_str(), data.utterances.len()), ("synth", 4));
    // The synthetic corpus keeps IEMOCAP's class order; other labels go last, sorted.
    assert_eq!(data.classes, ["neutral", "angry", "sad", "zzz"]);
    let manifest = tree.path("corpus/manifest.csv").display().to_string();
    let plain = DataSource::parse(&format!("manifest:{manifest}"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(plain.classes, ["angry", "neutral", "sad", "zzz"]);

    let missing = DataSource::parse(&format!("synth:{}", tree.path("nothing").display())).unwrap();
    assert_eq!(
        missing.load().unwrap_err().to_string(),
        format!(
            "manifest file {} does not exist; pass --data synth:<path to manifest.csv> (generate it with `hrf synth`)",
            tree.path("nothing/manifest.csv").display()
        )
    );
    let iemocap = DataSource::parse(&format!("iemocap:{}", tree.path("corpus").display())).unwrap();
    assert_eq!(
        iemocap
            .load_with_classes(Some(&["x".to_owned()]))
            .unwrap_err()
            .to_string(),
        format!(
            "invalid --data `iemocap:{}`: the iemocap class set is fixed; a class list applies only to manifest and synth",
            tree.path("corpus").display()
        )
    );
}

#[test]
fn a_text_file_over_the_limit_is_refused_before_it_is_read() {
    use crate::datasets::{DataError, MAX_TEXT_BYTES, read_text};
    let tree = super::fake_tree::FakeTree::new("text-limit");
    let path = tree.file("transcript.csv", "start_time\tstop_time\n");
    assert_eq!(read_text(&path).unwrap(), "start_time\tstop_time\n");
    // A sparse file: its metadata is over the limit, no byte of it is read.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(MAX_TEXT_BYTES + 1)
        .unwrap();
    let err = read_text(&path).unwrap_err();
    assert!(matches!(err, DataError::TextTooLarge { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string())
            && text.contains("over the 67108864-byte limit")
            && text.contains("right file"),
        "{text}"
    );
}
