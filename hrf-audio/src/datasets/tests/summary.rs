//! Counts and header-only durations.

use std::collections::BTreeMap;

use super::fake_tree::FakeTree;
use crate::datasets::summary::{count, durations, wav_duration};
use crate::datasets::{Dataset, Evaluation, Protocol, ProtocolKind, Segment, Skipped, Utterance};

fn dataset(utterances: Vec<Utterance>) -> Dataset {
    Dataset {
        name: "test".to_owned(),
        root: "root".into(),
        classes: vec!["a".to_owned(), "b".to_owned()],
        utterances,
        skipped: vec![],
        excluded_labels: BTreeMap::new(),
        protocol: Protocol {
            kind: ProtocolKind::LeaveOneGroupOut,
            evaluation: Evaluation::PerUtterance,
        },
    }
}

fn utterance(
    path: std::path::PathBuf,
    label: usize,
    speaker: &str,
    segment: Option<Segment>,
) -> Utterance {
    Utterance {
        id: format!("{}-{label}", path.display()),
        path,
        label,
        speaker: speaker.to_owned(),
        group: Some("g".to_owned()),
        segment,
    }
}

#[test]
fn durations_come_from_headers_and_segments() {
    let tree = FakeTree::new("summary");
    // 12 000 frames at 8 kHz = 1.5 s; 500 frames at 1 kHz = 0.5 s; a 10 s interview at 1 kHz.
    let a = tree.wav("a.wav", 8000, 12_000);
    let b = tree.wav("b.wav", 1000, 500);
    let interview = tree.wav("interview.wav", 1000, 10_000);
    let broken = tree.file("broken.wav", "RIFF but not really");
    assert_eq!(wav_duration(&a).unwrap(), 1.5);
    // Rates the decoder refuses are refused here too (a 1 Hz header would claim hours).
    for rate in [1, 999, 384_001] {
        let odd = tree.wav(&format!("rate{rate}.wav"), rate, 10);
        let err = wav_duration(&odd).unwrap_err();
        assert!(
            err.contains(&format!(
                "sample rate of {rate} Hz, outside the supported 1000–384000 Hz"
            )),
            "{err}"
        );
    }
    let data = dataset(vec![
        utterance(a, 0, "s1", None),
        utterance(b, 1, "s1", None),
        utterance(
            interview.clone(),
            1,
            "s2",
            Some(Segment {
                start: 1.0,
                end: 3.5,
            }),
        ),
        utterance(
            interview.clone(),
            1,
            "s2",
            Some(Segment {
                start: 9.0,
                end: 12.0,
            }),
        ),
        utterance(broken.clone(), 0, "s3", None),
        utterance(broken.clone(), 1, "s3", None),
    ]);
    let report = durations(&data);
    // 1.5 + 0.5 + 2.5 + 3.0 (the overlong segment still counts its own span)
    assert_eq!(report.total_seconds, 7.5);
    assert_eq!(report.measured, 4);
    assert_eq!(report.max_seconds, 3.0);
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    assert_eq!(
        report.problems[0],
        Skipped {
            location: format!("{}-1", interview.display()),
            reason: "segment 9.000–12.000 s ends after its recording (10.000 s)".to_owned(),
        }
    );
    assert_eq!(report.problems[1].location, broken.display().to_string());
    assert!(
        report.problems[1]
            .reason
            .starts_with("unreadable WAV header: "),
        "{}",
        report.problems[1].reason
    );

    let counts = count(&data);
    assert_eq!(counts.per_class, [2, 4]);
    assert_eq!(counts.per_speaker["s1"], [1, 1]);
    assert_eq!(counts.per_speaker["s2"], [0, 2]);
    assert_eq!(counts.per_speaker["s3"], [1, 1]);
    assert_eq!(counts.per_group["g"], [2, 4]);
}
