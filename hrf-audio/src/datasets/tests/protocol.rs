//! Fold construction on in-memory utterance lists: test selection, validation rotation,
//! speaker-independence and errors.

use std::path::PathBuf;

use crate::datasets::{
    Evaluation, Protocol, ProtocolKind, Segment, Utterance, keep_longest_segments,
};

fn utterance(id: usize, speaker: &str, group: Option<&str>, label: usize) -> Utterance {
    Utterance {
        id: format!("u{id}"),
        path: PathBuf::from(format!("u{id}.wav")),
        label,
        speaker: speaker.to_owned(),
        group: group.map(str::to_owned),
        segment: None,
    }
}

fn per_utterance(kind: ProtocolKind) -> Protocol {
    Protocol {
        kind,
        evaluation: Evaluation::PerUtterance,
    }
}

/// Two utterances for each of the 10 IEMOCAP speakers, sessions in order.
fn iemocap_like() -> Vec<Utterance> {
    let mut utterances = Vec::new();
    for session in 1..=5 {
        for gender in ["F", "M"] {
            for _ in 0..2 {
                let group = format!("Ses0{session}");
                let speaker = format!("{group}_{gender}");
                utterances.push(utterance(utterances.len(), &speaker, Some(&group), 0));
            }
        }
    }
    utterances
}

#[test]
fn leave_one_session_out_rotates_validation_speakers_across_folds() {
    let utterances = iemocap_like();
    let folds = per_utterance(ProtocolKind::LeaveOneGroupOut)
        .folds("iemocap", &utterances)
        .unwrap();
    let val: Vec<(&str, &[String])> = folds
        .iter()
        .map(|f| (f.name.as_str(), &f.val_speakers[..]))
        .collect();
    // 8 training speakers → 1 validation speaker at position (4 + fold) mod 8.
    assert_eq!(
        val,
        [
            ("Ses01", &["Ses04_F".to_owned()][..]),
            ("Ses02", &["Ses04_M".to_owned()][..]),
            ("Ses03", &["Ses05_F".to_owned()][..]),
            ("Ses04", &["Ses05_M".to_owned()][..]),
            ("Ses05", &["Ses01_F".to_owned()][..]),
        ]
    );
    for (index, fold) in folds.iter().enumerate() {
        assert_eq!(
            (fold.train.len(), fold.val.len(), fold.test.len()),
            (14, 2, 4)
        );
        assert_eq!(fold.test, (4 * index..4 * index + 4).collect::<Vec<_>>());
        let mut all: Vec<usize> = fold
            .train
            .iter()
            .chain(&fold.val)
            .chain(&fold.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..20).collect::<Vec<_>>(),
            "fold {} must partition the data",
            fold.name
        );
    }
}

#[test]
fn speakers_shared_across_sessions_are_kept_out_of_training() {
    // `a` speaks in both sessions: when session 1 is tested, a's session-2 utterance is dropped.
    let utterances = vec![
        utterance(0, "a", Some("s1"), 0),
        utterance(1, "b", Some("s1"), 1),
        utterance(2, "a", Some("s2"), 0),
        utterance(3, "c", Some("s2"), 1),
        utterance(4, "d", Some("s2"), 0),
    ];
    let folds = per_utterance(ProtocolKind::LeaveOneGroupOut)
        .folds("m", &utterances)
        .unwrap();
    let first = &folds[0];
    assert_eq!(first.test, [0, 1]);
    assert_eq!(first.dropped_overlap, 1);
    // Training speakers c, d: validation at position ⌊½·2⌋ = 1 → d.
    assert_eq!((&first.train[..], &first.val[..]), (&[3][..], &[4][..]));
    assert_eq!(folds[1].dropped_overlap, 1);
    assert_eq!(
        (&folds[1].train[..], &folds[1].val[..], &folds[1].test[..]),
        (&[1][..], &[][..], &[2, 3, 4][..])
    );
}

#[test]
fn fixed_split_without_validation_stratifies_speakers_by_label() {
    // 20 train participants (15 label 0, 5 label 1) → round(1.5) = 2 and round(0.5) = 1.
    let mut utterances = Vec::new();
    for p in 0..20 {
        let label = usize::from(p >= 15);
        utterances.push(utterance(p, &format!("p{p:02}"), Some("train"), label));
    }
    utterances.push(utterance(20, "p99", Some("dev"), 1));
    let protocol = Protocol {
        kind: ProtocolKind::FixedSplit {
            train: vec!["train".to_owned()],
            val: vec![],
            test: vec!["dev".to_owned()],
        },
        evaluation: Evaluation::SpeakerMajorityVote,
    };
    let folds = protocol.folds("daic-woz", &utterances).unwrap();
    // Label 0 (p00…p14): positions ⌊(j+½)·15/2⌋ = 3, 11; label 1 (p15…p19): ⌊½·5⌋ = 2 → p17.
    assert_eq!(folds[0].val_speakers, ["p03", "p11", "p17"]);
    assert_eq!(folds[0].test, [20]);
    assert_eq!(folds[0].train.len(), 17);
}

#[test]
fn unusable_groupings_are_explained() {
    let one_session = vec![
        utterance(0, "a", Some("s1"), 0),
        utterance(1, "b", Some("s1"), 0),
    ];
    let err = per_utterance(ProtocolKind::LeaveOneGroupOut)
        .folds("manifest", &one_session)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the manifest evaluation protocol: leave-one-session-out needs at least 2 sessions, found 1"
    );
    let no_group = vec![utterance(0, "a", None, 0), utterance(1, "b", Some("s1"), 0)];
    let err = per_utterance(ProtocolKind::LeaveOneGroupOut)
        .folds("manifest", &no_group)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the manifest evaluation protocol: leave-one-session-out needs a session for every utterance, but `u0` has none"
    );
    let one_speaker = vec![utterance(0, "a", None, 0)];
    let err = per_utterance(ProtocolKind::SpeakerFolds { k: 5 })
        .folds("emodb", &one_speaker)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the emodb evaluation protocol: speaker folds need at least 2 speakers, found 1"
    );
    let err = per_utterance(ProtocolKind::SpeakerFolds { k: 5 })
        .folds("emodb", &[])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the emodb evaluation protocol: the dataset has no usable utterances"
    );
    let fixed = per_utterance(ProtocolKind::FixedSplit {
        train: vec!["train".to_owned()],
        val: vec![],
        test: vec!["test".to_owned()],
    });
    let err = fixed
        .folds("m3ed", &[utterance(0, "a", Some("train"), 0)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the m3ed evaluation protocol: fold `test` has no test utterances"
    );
}

#[test]
fn rebalancing_keeps_each_speakers_longest_segments() {
    // (speaker, segment length in s): p1 has 4 segments, p2 has 1.
    let spans = [
        ("p1", 2.0),
        ("p1", 5.0),
        ("p2", 1.0),
        ("p1", 3.0),
        ("p1", 5.0),
    ];
    let utterances: Vec<Utterance> = spans
        .iter()
        .enumerate()
        .map(|(i, (speaker, length))| Utterance {
            segment: Some(Segment {
                start: 10.0,
                end: 10.0 + length,
            }),
            ..utterance(i, speaker, Some("train"), 0)
        })
        .collect();
    let all: Vec<usize> = (0..5).collect();
    // p1's two longest: the 5 s at 1 and the 5 s at 4 (tie kept in index order); p2 keeps its one.
    assert_eq!(keep_longest_segments(&utterances, &all, 2), [1, 2, 4]);
    assert_eq!(keep_longest_segments(&utterances, &all, 3), [1, 2, 3, 4]);
    // Only the given indices are considered.
    assert_eq!(keep_longest_segments(&utterances, &[0, 3], 1), [3]);
}
