//! Data stage 1: a corpus's standard evaluation protocol → speaker-independent train/val/test
//! folds of utterance indices.
//!
//! Rules, identical for every corpus:
//! - **Test** is a group (leave-one-group-out), a set of speakers (speaker folds) or the named
//!   test groups (fixed split).
//! - **Speaker independence:** an utterance whose speaker is in the test set never goes to train
//!   or validation; such utterances are counted in [`Fold::dropped_overlap`] (0 for every built-in
//!   corpus; non-zero only for manifests whose speakers span sessions).
//! - **Validation** comes from the training side only. With a fixed validation split (M3ED) it is
//!   that split. Otherwise it is whole speakers: the training speakers are ordered by
//!   `(group, speaker)`, `n_val = max(1, round(VALIDATION_FRACTION · n))` of them (at most `n − 1`)
//!   are picked evenly spaced, at positions `(⌊(j + ½)·n / n_val⌋ + fold) mod n`, so consecutive
//!   folds rotate through different speakers (on IEMOCAP: Ses04 F, Ses04 M, Ses05 F, Ses05 M,
//!   Ses01 F). When the protocol is scored per speaker (DAIC-WOZ) the pick is made separately
//!   within each speaker-label stratum, so validation keeps the class balance of the speakers.
//! - **Reporting:** cross-validated metrics are the mean over folds of each fold's test metrics
//!   (the usual IEMOCAP convention); a fixed split has one fold.

use std::collections::{BTreeMap, BTreeSet};

use super::{DataError, Utterance};

/// Folds for corpora split by speaker (RAVDESS, CREMA-D, EmoDB, manifests without sessions).
pub const SPEAKER_FOLDS: usize = 5;

/// Share of training speakers held out for validation when the corpus has no validation split.
pub const VALIDATION_FRACTION: f64 = 0.1;

/// How test sets are formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolKind {
    /// One fold per distinct `Utterance::group`, in sorted order; that group is the test set
    /// (IEMOCAP, manifests with a session column).
    LeaveOneGroupOut,
    /// Speakers sorted by name; the `j`-th goes to fold `j mod k` (`k` capped at the number of
    /// speakers), giving `k` folds of disjoint speakers (RAVDESS, CREMA-D, EmoDB).
    SpeakerFolds { k: usize },
    /// One fold from named groups (M3ED series lists, DAIC-WOZ train/dev). An empty `val` means
    /// validation speakers are drawn from `train`.
    FixedSplit {
        train: Vec<String>,
        val: Vec<String>,
        test: Vec<String>,
    },
}

/// The unit that is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    /// Every utterance is one prediction.
    PerUtterance,
    /// Utterance predictions are combined per speaker by majority vote
    /// ([`crate::metrics::majority_vote`]) and the speakers are scored (DAIC-WOZ, macro-F1).
    SpeakerMajorityVote,
}

/// A corpus's standard evaluation protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub kind: ProtocolKind,
    pub evaluation: Evaluation,
}

/// One train/validation/test partition; indices point into `Dataset::utterances`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// `Ses01`, `fold3`, `dev`…: what is tested.
    pub name: String,
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
    /// Sorted speakers of the test set.
    pub test_speakers: Vec<String>,
    /// Sorted speakers of the validation set.
    pub val_speakers: Vec<String>,
    /// Utterances left out of train/val because their speaker is in the test (or a fixed
    /// validation) set.
    pub dropped_overlap: usize,
}

/// The test set of one fold before validation is chosen.
struct TestSplit {
    name: String,
    test: Vec<usize>,
    /// Utterances eligible for train (and validation, unless `fixed_val` is given).
    pool: Vec<usize>,
    fixed_val: Option<Vec<usize>>,
}

impl Protocol {
    /// A short human description, e.g. `leave-one-group-out (5 folds)`.
    pub fn describe(&self) -> String {
        let kind = match &self.kind {
            ProtocolKind::LeaveOneGroupOut => "leave-one-session-out".to_owned(),
            ProtocolKind::SpeakerFolds { k } => {
                format!("folds of disjoint speakers (k = {k}, fewer if fewer speakers)")
            }
            ProtocolKind::FixedSplit { val, .. } if val.is_empty() => {
                "fixed split (validation speakers drawn from train)".to_owned()
            }
            ProtocolKind::FixedSplit { .. } => "fixed train/val/test split".to_owned(),
        };
        match self.evaluation {
            Evaluation::PerUtterance => kind,
            Evaluation::SpeakerMajorityVote => {
                format!("{kind}, scored per speaker by majority vote")
            }
        }
    }

    /// Builds the folds for `utterances` (the dataset `name` only labels errors). Errors when a
    /// fold would have an empty train or test set, or the grouping the protocol needs is absent.
    pub fn folds(&self, name: &str, utterances: &[Utterance]) -> Result<Vec<Fold>, DataError> {
        let fail = |reason: String| DataError::Protocol {
            dataset: name.to_owned(),
            reason,
        };
        if utterances.is_empty() {
            return Err(fail("the dataset has no usable utterances".to_owned()));
        }
        let splits = match &self.kind {
            ProtocolKind::LeaveOneGroupOut => leave_one_group_out(utterances).map_err(fail)?,
            ProtocolKind::SpeakerFolds { k } => speaker_folds(utterances, *k).map_err(fail)?,
            ProtocolKind::FixedSplit { train, val, test } => {
                vec![fixed_split(utterances, train, val, test)]
            }
        };
        let stratify = self.evaluation == Evaluation::SpeakerMajorityVote;
        let mut folds = Vec::with_capacity(splits.len());
        for (index, split) in splits.into_iter().enumerate() {
            let fold = finish_fold(utterances, split, index, stratify);
            if fold.test.is_empty() {
                return Err(fail(format!("fold `{}` has no test utterances", fold.name)));
            }
            if fold.train.is_empty() {
                return Err(fail(format!(
                    "fold `{}` has no training utterances",
                    fold.name
                )));
            }
            folds.push(fold);
        }
        Ok(folds)
    }
}

fn leave_one_group_out(utterances: &[Utterance]) -> Result<Vec<TestSplit>, String> {
    if let Some(u) = utterances.iter().find(|u| u.group.is_none()) {
        return Err(format!(
            "leave-one-session-out needs a session for every utterance, but `{}` has none",
            u.id
        ));
    }
    let groups: BTreeSet<&str> = utterances
        .iter()
        .filter_map(|u| u.group.as_deref())
        .collect();
    if groups.len() < 2 {
        return Err(format!(
            "leave-one-session-out needs at least 2 sessions, found {}",
            groups.len()
        ));
    }
    Ok(groups
        .into_iter()
        .map(|group| {
            let (test, pool) =
                (0..utterances.len()).partition(|&i| utterances[i].group.as_deref() == Some(group));
            TestSplit {
                name: group.to_owned(),
                test,
                pool,
                fixed_val: None,
            }
        })
        .collect())
}

fn speaker_folds(utterances: &[Utterance], k: usize) -> Result<Vec<TestSplit>, String> {
    let speakers: BTreeSet<&str> = utterances.iter().map(|u| u.speaker.as_str()).collect();
    if speakers.len() < 2 {
        return Err(format!(
            "speaker folds need at least 2 speakers, found {}",
            speakers.len()
        ));
    }
    let k = k.clamp(2, speakers.len());
    let fold_of: BTreeMap<&str, usize> = speakers
        .iter()
        .enumerate()
        .map(|(j, s)| (*s, j % k))
        .collect();
    Ok((0..k)
        .map(|fold| {
            let (test, pool) = (0..utterances.len())
                .partition(|&i| fold_of[utterances[i].speaker.as_str()] == fold);
            TestSplit {
                name: format!("fold{}", fold + 1),
                test,
                pool,
                fixed_val: None,
            }
        })
        .collect())
}

fn fixed_split(
    utterances: &[Utterance],
    train: &[String],
    val: &[String],
    test: &[String],
) -> TestSplit {
    let members = |names: &[String]| -> Vec<usize> {
        (0..utterances.len())
            .filter(|&i| {
                utterances[i]
                    .group
                    .as_ref()
                    .is_some_and(|g| names.contains(g))
            })
            .collect()
    };
    let name = if test.len() == 1 {
        test[0].clone()
    } else {
        "test".to_owned()
    };
    TestSplit {
        name,
        test: members(test),
        pool: members(train),
        fixed_val: (!val.is_empty()).then(|| members(val)),
    }
}

/// Removes test speakers from the training side and chooses validation (module doc).
fn finish_fold(
    utterances: &[Utterance],
    split: TestSplit,
    fold_index: usize,
    stratify: bool,
) -> Fold {
    let speaker = |i: usize| utterances[i].speaker.as_str();
    let test_speakers: BTreeSet<&str> = split.test.iter().map(|&i| speaker(i)).collect();
    let mut dropped_overlap = 0;
    let mut keep_apart = |indices: Vec<usize>, banned: &BTreeSet<&str>| -> Vec<usize> {
        let before = indices.len();
        let kept: Vec<usize> = indices
            .into_iter()
            .filter(|&i| !banned.contains(speaker(i)))
            .collect();
        dropped_overlap += before - kept.len();
        kept
    };
    let pool = keep_apart(split.pool, &test_speakers);
    let (train, val, val_speakers) = match split.fixed_val {
        Some(fixed_val) => {
            let val = keep_apart(fixed_val, &test_speakers);
            let val_speakers: BTreeSet<&str> = val.iter().map(|&i| speaker(i)).collect();
            (keep_apart(pool, &val_speakers), val, val_speakers)
        }
        None => {
            let val_speakers = pick_validation_speakers(utterances, &pool, fold_index, stratify);
            let (val, train) = pool
                .into_iter()
                .partition(|&i| val_speakers.contains(speaker(i)));
            (train, val, val_speakers)
        }
    };
    Fold {
        name: split.name,
        train,
        val,
        test: split.test,
        test_speakers: test_speakers.iter().map(|s| (*s).to_owned()).collect(),
        val_speakers: val_speakers.iter().map(|s| (*s).to_owned()).collect(),
        dropped_overlap,
    }
}

/// Evenly spaced, fold-rotated `VALIDATION_FRACTION` of the speakers in `pool` (module doc).
fn pick_validation_speakers<'a>(
    utterances: &'a [Utterance],
    pool: &[usize],
    fold_index: usize,
    stratify: bool,
) -> BTreeSet<&'a str> {
    // speaker → (first group it appears in, label votes); BTreeMap keeps the order stable.
    let mut speakers: BTreeMap<&str, (&str, BTreeMap<usize, usize>)> = BTreeMap::new();
    for &i in pool {
        let u = &utterances[i];
        let group = u.group.as_deref().unwrap_or("");
        let entry = speakers
            .entry(u.speaker.as_str())
            .or_insert((group, BTreeMap::new()));
        entry.0 = entry.0.min(group);
        *entry.1.entry(u.label).or_insert(0) += 1;
    }
    // Stratum = the speaker's most frequent label (lowest index on ties), or one stratum.
    let mut strata: BTreeMap<usize, Vec<(&str, &str)>> = BTreeMap::new();
    for (name, (group, votes)) in &speakers {
        let stratum = if stratify {
            votes
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(0, |(l, _)| *l)
        } else {
            0
        };
        strata.entry(stratum).or_default().push((group, name));
    }
    let total = speakers.len();
    let mut chosen = BTreeSet::new();
    for mut members in strata.into_values() {
        members.sort_unstable();
        let n = members.len();
        let wanted = (VALIDATION_FRACTION * n as f64).round() as usize;
        // At least one validation speaker overall, and never the last training speaker.
        let n_val = wanted
            .max(usize::from(chosen.is_empty() && total >= 2))
            .min(n.saturating_sub(1));
        for j in 0..n_val {
            let position = ((2 * j + 1) * n / (2 * n_val) + fold_index) % n;
            chosen.insert(members[position].1);
        }
    }
    chosen
}

/// DAIC-WOZ rebalancing: of `indices`, keeps each speaker's `per_speaker` longest utterances
/// (segment span, or 0 s for whole-file utterances, whose length is not known without reading
/// audio). Ties keep the earlier index. Returns sorted indices, so every speaker contributes at
/// most `per_speaker` training examples however long their interview.
pub fn keep_longest_segments(
    utterances: &[Utterance],
    indices: &[usize],
    per_speaker: usize,
) -> Vec<usize> {
    let mut by_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in indices {
        by_speaker
            .entry(utterances[i].speaker.as_str())
            .or_default()
            .push(i);
    }
    let length = |i: usize| utterances[i].segment.map_or(0.0, |s| s.duration());
    let mut kept: Vec<usize> = by_speaker
        .into_values()
        .flat_map(|mut own| {
            // Longest first; `sort_by` is stable, so equal lengths stay in index order.
            own.sort_by(|&a, &b| length(b).total_cmp(&length(a)));
            own.truncate(per_speaker);
            own
        })
        .collect();
    kept.sort_unstable();
    kept
}
