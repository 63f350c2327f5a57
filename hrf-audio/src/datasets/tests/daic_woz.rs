//! DAIC-WOZ loader on a fake tree (AVEC2017 split CSVs, `<id>_P/` transcripts and audio).

use super::fake_tree::FakeTree;
use crate::datasets::{DAIC_WOZ_CLASSES, Evaluation, Segment, Skipped, load_daic_woz};

const HEADER: &str = "start_time\tstop_time\tspeaker\tvalue\n";

fn build_tree() -> FakeTree {
    let tree = FakeTree::new("daic");
    tree.file(
        "train_split_Depression_AVEC2017.csv",
        "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,PHQ8_NoInterest\n\
         302,0,4,1,0\n\
         303,1,12,0,1\n\
         304,1,5,0,0\n\
         abc,0,3,1,0\n\
         305,0,2,1,0\n\
         306,0,0,1,0\n",
    );
    tree.file(
        "dev_split_Depression_AVEC2017.csv",
        "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender\n310,1,15,1\n311,0,3,0\n312,0,9,0\n302,0,4,1\n",
    );
    let participant = |id: u32, rows: &str| {
        tree.file(
            &format!("{id}_P/{id}_TRANSCRIPT.csv"),
            &format!("{HEADER}{rows}"),
        );
        tree.touch(&[&format!("{id}_P/{id}_AUDIO.wav")]);
    };
    participant(
        302,
        "36.588\t39.668\tEllie\thi i'm ellie thanks for coming in today\n\
         62.328\t63.178\tParticipant\tgood\n\
         65.5\t67.0\tParticipant\tyeah \"it was\n\
         70.0\t69.0\tParticipant\tbackwards\n\
         71.0\tx\tParticipant\tbad time\n\
         72.0\t74.0\tInterviewer\twho\n\
         \n\
         80.0\t85.5\tParticipant\tlast one\n",
    );
    participant(
        303,
        "1.0\t2.0\tParticipant\tone\n3.0\t4.5\tParticipant\ttwo\n",
    );
    participant(306, "5.0\t6.0\tParticipant\tonly\n");
    participant(310, "1.0\t2.0\tParticipant\ta\n2.5\t3.0\tParticipant\tb\n");
    participant(311, "1.0\t2.0\tEllie\tsorry\n");
    participant(312, "7.0\t9.0\tParticipant\tc\n");
    // Test-split participant: no label anywhere.
    participant(399, "1.0\t2.0\tParticipant\tx\n");
    tree
}

#[test]
fn participant_segments_with_phq8_labels_and_reported_skips() {
    let tree = build_tree();
    let data = load_daic_woz(tree.root()).unwrap();
    assert_eq!(data.classes, DAIC_WOZ_CLASSES);
    assert_eq!(data.protocol.evaluation, Evaluation::SpeakerMajorityVote);
    type Row<'a> = (&'a str, usize, &'a str, Option<&'a str>, Option<Segment>);
    let got: Vec<Row> = data
        .utterances
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                u.label,
                u.speaker.as_str(),
                u.group.as_deref(),
                u.segment,
            )
        })
        .collect();
    let seg = |start, end| Some(Segment { start, end });
    assert_eq!(
        got,
        [
            ("302_3", 0, "302", Some("train"), seg(62.328, 63.178)),
            ("302_4", 0, "302", Some("train"), seg(65.5, 67.0)),
            ("302_9", 0, "302", Some("train"), seg(80.0, 85.5)),
            ("303_2", 1, "303", Some("train"), seg(1.0, 2.0)),
            ("303_3", 1, "303", Some("train"), seg(3.0, 4.5)),
            ("306_2", 0, "306", Some("train"), seg(5.0, 6.0)),
            ("310_2", 1, "310", Some("dev"), seg(1.0, 2.0)),
            ("310_3", 1, "310", Some("dev"), seg(2.5, 3.0)),
            ("312_2", 0, "312", Some("dev"), seg(7.0, 9.0)),
        ]
    );
    assert_eq!(data.utterances[0].path, tree.path("302_P/302_AUDIO.wav"));

    let train = tree
        .path("train_split_Depression_AVEC2017.csv")
        .display()
        .to_string();
    let dev = tree
        .path("dev_split_Depression_AVEC2017.csv")
        .display()
        .to_string();
    let t302 = tree.path("302_P/302_TRANSCRIPT.csv").display().to_string();
    let skip = |location: String, reason: &str| Skipped {
        location,
        reason: reason.to_owned(),
    };
    assert_eq!(
        data.skipped,
        [
            skip(
                format!("{train}:4"),
                "PHQ8_Binary 1 disagrees with PHQ8_Score 5 (binary = score ≥ 10)"
            ),
            skip(format!("{train}:5"), "Participant_ID `abc` is not a number"),
            skip(
                format!("{dev}:5"),
                "participant 302 is already listed in the train split"
            ),
            skip(format!("{t302}:5"), "empty or reversed segment 70–69 s"),
            skip(format!("{t302}:6"), "bad times `71.0`–`x`"),
            skip(
                format!("{t302}:7"),
                "unknown speaker `Interviewer` (expected Ellie or Participant)"
            ),
            skip(
                "participant 305 (train)".to_owned(),
                &format!(
                    "missing transcript {}",
                    tree.path("305_P/305_TRANSCRIPT.csv").display()
                ),
            ),
            skip(
                "participant 311 (dev)".to_owned(),
                &format!(
                    "no usable Participant rows in {}",
                    tree.path("311_P/311_TRANSCRIPT.csv").display()
                ),
            ),
            skip(
                tree.path("399_P").display().to_string(),
                "participant is in neither the train nor the dev split (no label)",
            ),
        ]
    );
}

#[test]
fn dev_is_the_test_fold_and_validation_is_stratified_over_train_participants() {
    let tree = build_tree();
    let data = load_daic_woz(tree.root()).unwrap();
    let folds = data.folds().unwrap();
    assert_eq!(folds.len(), 1);
    let fold = &folds[0];
    assert_eq!(fold.name, "dev");
    assert_eq!(fold.test, [6, 7, 8]);
    // Not depressed {302, 306} gives one validation participant (position ⌊½·2⌋ = 1 → 306);
    // depressed {303} is the only one of its class and stays in training.
    assert_eq!(fold.val_speakers, ["306"]);
    assert_eq!(fold.val, [5]);
    assert_eq!(fold.train, [0, 1, 2, 3, 4]);
}

#[test]
fn missing_split_file_is_a_layout_error() {
    let tree = FakeTree::new("daic-empty");
    tree.dir("300_P");
    assert_eq!(
        load_daic_woz(tree.root()).unwrap_err().to_string(),
        format!(
            "{} does not have the daic-woz layout: missing train_split_Depression_AVEC2017.csv",
            tree.root().display()
        )
    );
}
