//! M3ED loader on a fake release tree (annotation.json, modality_speech/, splitInfo/).

use super::fake_tree::FakeTree;
use crate::datasets::{M3ED_CLASSES, Skipped, load_m3ed};

const ANNOTATION: &str = r#"{
  "Anjia": {"Anjia_1": {"Dialog": {
    "Anjia_1_1": {"Speaker": "A", "Text": "你好", "EmoAnnotation": {"EmoAnnotator1": ["Happy"], "final_main_emo": "Happy"}},
    "Anjia_1_2": {"Speaker": "B", "EmoAnnotation": {"final_main_emo": "Neutral"}},
    "Anjia_1_3": {"Speaker": "A", "EmoAnnotation": {"final_main_emo": "Excited"}},
    "Anjia_1_4": {"Speaker": "B", "EmoAnnotation": {"final_main_emo": "Sad"}},
    "Anjia_1_5": {"EmoAnnotation": {"final_main_emo": "Sad"}}
  }}},
  "Broken": {"Broken_1": {"NotDialog": {}}},
  "Dahuang": {"Dahuang_1": {"Dialog": {
    "Dahuang_1_1": {"Speaker": "A", "EmoAnnotation": {"final_main_emo": "Anger"}},
    "Dahuang_1_2": {"Speaker": "B", "EmoAnnotation": {"final_main_emo": "Fear"}}
  }}},
  "Huan": {"Huan_1": {"Dialog": {
    "Huan_1_1": {"Speaker": "A", "EmoAnnotation": {"final_main_emo": "Surprise"}}
  }}},
  "Orphan": {"Orphan_1": {"Dialog": {
    "Orphan_1_1": {"Speaker": "A", "EmoAnnotation": {"final_main_emo": "Sad"}}
  }}}
}"#;

fn build_tree() -> FakeTree {
    let tree = FakeTree::new("m3ed");
    tree.file("annotation.json", ANNOTATION);
    tree.file("splitInfo/movie_list_train.txt", "Anjia\nBroken\n\n");
    tree.file("splitInfo/movie_list_val.txt", "Dahuang\n");
    tree.file("splitInfo/movie_list_test.txt", "Huan\n");
    tree.touch(&[
        "modality_speech/A_Anjia_1_1.wav",
        "modality_speech/B_Anjia_1_2.wav",
        "modality_speech/A_Anjia_1_3.wav",
        "modality_speech/A_Dahuang_1_1.wav",
        "modality_speech/B_Dahuang_1_2.wav",
        "modality_speech/A_Huan_1_1.wav",
        "modality_speech/A_Orphan_1_1.wav",
    ]);
    tree
}

#[test]
fn loads_seven_classes_by_series_with_the_official_split() {
    let tree = build_tree();
    let data = load_m3ed(tree.root()).unwrap();
    assert_eq!(data.classes, M3ED_CLASSES);
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
            ("Anjia_1_1", "happy", "Anjia_A", Some("Anjia")),
            ("Anjia_1_2", "neutral", "Anjia_B", Some("Anjia")),
            ("Dahuang_1_1", "anger", "Dahuang_A", Some("Dahuang")),
            ("Dahuang_1_2", "fear", "Dahuang_B", Some("Dahuang")),
            ("Huan_1_1", "surprise", "Huan_A", Some("Huan")),
        ]
    );
    assert_eq!(
        data.utterances[4].path,
        tree.path("modality_speech/A_Huan_1_1.wav")
    );

    let json = tree.path("annotation.json").display().to_string();
    let at = |key: &str, reason: &str| Skipped {
        location: format!("{json}: {key}"),
        reason: reason.to_owned(),
    };
    assert_eq!(
        data.skipped,
        [
            at(
                "Anjia/Anjia_1/Anjia_1_3",
                "unknown emotion `Excited` (M3ED: neutral, happy, surprise, sad, disgust, anger, fear)"
            ),
            at(
                "Anjia/Anjia_1/Anjia_1_4",
                &format!(
                    "missing WAV {}",
                    tree.path("modality_speech/B_Anjia_1_4.wav").display()
                )
            ),
            at("Anjia/Anjia_1/Anjia_1_5", "missing \"Speaker\""),
            at("Broken/Broken_1", "missing \"Dialog\" object"),
            at(
                "Orphan",
                "series is in no splitInfo/movie_list_*.txt; series dropped"
            ),
        ]
    );

    let folds = data.folds().unwrap();
    assert_eq!(folds.len(), 1);
    assert_eq!(
        (
            folds[0].name.as_str(),
            &folds[0].train[..],
            &folds[0].val[..],
            &folds[0].test[..]
        ),
        ("Huan", &[0, 1][..], &[2, 3][..], &[4][..])
    );
}

#[test]
fn series_in_two_lists_is_dropped_and_bad_json_names_the_file() {
    let tree = build_tree();
    tree.file("splitInfo/movie_list_test.txt", "Huan\nDahuang\n");
    let data = load_m3ed(tree.root()).unwrap();
    let list = tree
        .path("splitInfo/movie_list_test.txt")
        .display()
        .to_string();
    assert!(data.skipped.contains(&Skipped {
        location: format!("{list}:2"),
        reason: "series `Dahuang` is also in the val list; series dropped".to_owned(),
    }));
    assert!(
        data.utterances
            .iter()
            .all(|u| u.group.as_deref() != Some("Dahuang"))
    );

    tree.file("annotation.json", "{\"Anjia\": ");
    let err = load_m3ed(tree.root()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{} is not valid JSON: EOF while parsing a value at line 1 column 10",
            tree.path("annotation.json").display()
        )
    );
    std::fs::remove_file(tree.path("splitInfo/movie_list_val.txt")).unwrap();
    assert_eq!(
        load_m3ed(tree.root()).unwrap_err().to_string(),
        format!(
            "{} does not have the m3ed layout: missing splitInfo/movie_list_val.txt",
            tree.root().display()
        )
    );
}
