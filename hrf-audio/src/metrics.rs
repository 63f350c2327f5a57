//! Evaluation stage: (true, predicted) class pairs → confusion matrix, WA, UA, macro-F1, and the
//! per-speaker majority vote used for DAIC-WOZ.
//!
//! 0/0 conventions (they match scikit-learn's `balanced_accuracy_score` and
//! `f1_score(average="macro", zero_division=0)` with the default label set):
//! - every whole-matrix metric is `None` when the matrix holds no sample;
//! - recall of a class with no true sample is undefined, and UA averages over the classes that
//!   occur in the truth;
//! - `F1_c = 2·TP / (2·TP + FP + FN)`, which is 0 when a class occurs in only one of truth and
//!   predictions; a class in neither is left out of the macro mean.

use std::collections::BTreeMap;

/// Inputs that do not fit the class count or each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("class index {index} at position {position} is out of range for {classes} classes")]
    ClassOutOfRange {
        index: usize,
        position: usize,
        classes: usize,
    },
    #[error("cannot merge a {other}-class confusion matrix into a {classes}-class one")]
    ClassCountMismatch { classes: usize, other: usize },
    #[error("{truth} true labels but {predicted} predictions; pass one prediction per label")]
    LengthMismatch { truth: usize, predicted: usize },
    #[error("{keys} speaker keys but {labels} labels; pass one key per utterance")]
    KeyCountMismatch { keys: usize, labels: usize },
    #[error(
        "speaker `{speaker}` has utterances labelled {first} and {second}; a speaker-level vote needs one label per speaker"
    )]
    MixedSpeakerLabel {
        speaker: String,
        first: usize,
        second: usize,
    },
}

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// (classes, classes) row-major: `counts[t * classes + p]` = samples of class `t` predicted `p`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// Builds the matrix from parallel `truth` / `predicted` class indices.
    pub fn from_labels(
        classes: usize,
        truth: &[usize],
        predicted: &[usize],
    ) -> Result<Self, MetricsError> {
        if truth.len() != predicted.len() {
            return Err(MetricsError::LengthMismatch {
                truth: truth.len(),
                predicted: predicted.len(),
            });
        }
        let mut matrix = Self::new(classes);
        for (position, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
            for index in [t, p] {
                if index >= classes {
                    return Err(MetricsError::ClassOutOfRange {
                        index,
                        position,
                        classes,
                    });
                }
            }
            matrix.counts[t * classes + p] += 1;
        }
        Ok(matrix)
    }

    /// Adds the counts of `other` (e.g. pooling folds). Errors on a different class count.
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<(), MetricsError> {
        if other.classes != self.classes {
            return Err(MetricsError::ClassCountMismatch {
                classes: self.classes,
                other: other.classes,
            });
        }
        self.counts
            .iter_mut()
            .zip(&other.counts)
            .for_each(|(a, b)| *a += b);
        Ok(())
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Samples of class `truth` predicted as `predicted`. Both must be `< classes()` (as for
    /// every per-class accessor below); out-of-range indices are a programming error and panic.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    /// One row per true class: `rows()[t][p]`.
    pub fn rows(&self) -> Vec<&[u64]> {
        self.counts
            .chunks(self.classes.max(1))
            .take(self.classes)
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn true_count(&self, class: usize) -> u64 {
        (0..self.classes).map(|p| self.count(class, p)).sum()
    }

    fn predicted_count(&self, class: usize) -> u64 {
        (0..self.classes).map(|t| self.count(t, class)).sum()
    }

    /// WA = Σ_c TP_c / N (overall accuracy).
    pub fn weighted_accuracy(&self) -> Option<f64> {
        let total = self.total();
        let correct: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        (total > 0).then(|| correct as f64 / total as f64)
    }

    /// Recall_c = TP_c / (TP_c + FN_c); `None` when class `c` has no true sample.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let support = self.true_count(class);
        (support > 0).then(|| self.count(class, class) as f64 / support as f64)
    }

    /// Precision_c = TP_c / (TP_c + FP_c); `None` when class `c` is never predicted.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted = self.predicted_count(class);
        (predicted > 0).then(|| self.count(class, class) as f64 / predicted as f64)
    }

    /// F1_c = 2·TP / (2·TP + FP + FN); `None` when class `c` is in neither truth nor predictions.
    pub fn f1(&self, class: usize) -> Option<f64> {
        let tp = self.count(class, class);
        let denominator = self.true_count(class) + self.predicted_count(class);
        (denominator > 0).then(|| 2.0 * tp as f64 / denominator as f64)
    }

    /// UA = mean over classes present in the truth of their recall (balanced accuracy).
    pub fn unweighted_accuracy(&self) -> Option<f64> {
        mean((0..self.classes).filter_map(|c| self.recall(c)))
    }

    /// Macro-F1 = mean of F1_c over classes present in truth or predictions.
    pub fn macro_f1(&self) -> Option<f64> {
        mean((0..self.classes).filter_map(|c| self.f1(c)))
    }
}

/// The three headline numbers of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub weighted_accuracy: f64,
    pub unweighted_accuracy: f64,
    pub macro_f1: f64,
}

impl ConfusionMatrix {
    /// WA, UA and macro-F1 together; `None` for an empty matrix.
    pub fn scores(&self) -> Option<Scores> {
        Some(Scores {
            weighted_accuracy: self.weighted_accuracy()?,
            unweighted_accuracy: self.unweighted_accuracy()?,
            macro_f1: self.macro_f1()?,
        })
    }

    /// The matrix as text: one row per true class, one column per predicted class, both labelled
    /// with `names` (`names.len()` must equal `classes()`; missing names print as indices).
    pub fn render(&self, names: &[String]) -> String {
        let name = |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());
        let label_width = (0..self.classes)
            .map(|c| name(c).chars().count())
            .max()
            .unwrap_or(0)
            .max("true\\pred".len());
        let cell_width = (0..self.classes)
            .map(|c| name(c).chars().count())
            .chain(self.counts.iter().map(|n| n.to_string().len()))
            .max()
            .unwrap_or(1);
        let mut out = format!("{:<label_width$}", "true\\pred");
        for c in 0..self.classes {
            out.push_str(&format!("  {:>cell_width$}", name(c)));
        }
        out.push('\n');
        for (t, row) in self.rows().into_iter().enumerate() {
            out.push_str(&format!("{:<label_width$}", name(t)));
            for n in row {
                out.push_str(&format!("  {n:>cell_width$}"));
            }
            out.push('\n');
        }
        out
    }
}

/// Mean of each score over folds (the cross-validation figure); `None` for no folds.
pub fn mean_over_folds(folds: &[Scores]) -> Option<Scores> {
    Some(Scores {
        weighted_accuracy: mean(folds.iter().map(|s| s.weighted_accuracy))?,
        unweighted_accuracy: mean(folds.iter().map(|s| s.unweighted_accuracy))?,
        macro_f1: mean(folds.iter().map(|s| s.macro_f1))?,
    })
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// One speaker's voted prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerVote {
    pub speaker: String,
    /// The speaker's label (all their utterances share it).
    pub truth: usize,
    /// The class with the most utterance votes; ties go to the lowest class index (for DAIC-WOZ
    /// class 0, not depressed, the majority class: a tie never counts as a detection).
    pub predicted: usize,
    /// (classes) — utterance votes per class.
    pub votes: Vec<u64>,
}

/// Combines per-utterance predictions into one prediction per speaker by majority vote.
/// `speakers[i]`, `truth[i]`, `predicted[i]` describe utterance `i`. Speakers come out sorted.
/// Errors when lengths differ, an index is out of range or a speaker has two labels.
pub fn majority_vote<S: AsRef<str>>(
    classes: usize,
    speakers: &[S],
    truth: &[usize],
    predicted: &[usize],
) -> Result<Vec<SpeakerVote>, MetricsError> {
    if speakers.len() != truth.len() {
        return Err(MetricsError::KeyCountMismatch {
            keys: speakers.len(),
            labels: truth.len(),
        });
    }
    // Validates lengths and ranges once.
    ConfusionMatrix::from_labels(classes, truth, predicted)?;
    let mut by_speaker: BTreeMap<&str, (usize, Vec<u64>)> = BTreeMap::new();
    for ((speaker, &t), &p) in speakers.iter().zip(truth).zip(predicted) {
        let entry = by_speaker
            .entry(speaker.as_ref())
            .or_insert_with(|| (t, vec![0; classes]));
        if entry.0 != t {
            return Err(MetricsError::MixedSpeakerLabel {
                speaker: speaker.as_ref().to_owned(),
                first: entry.0,
                second: t,
            });
        }
        entry.1[p] += 1;
    }
    Ok(by_speaker
        .into_iter()
        .map(|(speaker, (truth, votes))| {
            // First maximum wins, i.e. the lowest class index on ties.
            let predicted = votes
                .iter()
                .enumerate()
                .fold(
                    (0, 0),
                    |best, (c, &v)| if v > best.1 { (c, v) } else { best },
                )
                .0;
            SpeakerVote {
                speaker: speaker.to_owned(),
                truth,
                predicted,
                votes,
            }
        })
        .collect())
}

/// The speaker-level confusion matrix of `votes`.
pub fn vote_confusion(
    classes: usize,
    votes: &[SpeakerVote],
) -> Result<ConfusionMatrix, MetricsError> {
    let truth: Vec<usize> = votes.iter().map(|v| v.truth).collect();
    let predicted: Vec<usize> = votes.iter().map(|v| v.predicted).collect();
    ConfusionMatrix::from_labels(classes, &truth, &predicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn close(got: Option<f64>, want: f64) {
        let got = got.expect("metric defined");
        assert!((got - want).abs() < EPS, "got {got}, want {want}");
    }

    #[test]
    fn three_class_case_computed_by_hand() {
        // truth 0 → predicted 0 0 1 2; truth 1 → 1 1 0; truth 2 → 2 2 1.
        let truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
        let predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
        let m = ConfusionMatrix::from_labels(3, &truth, &predicted).unwrap();
        assert_eq!(m.rows(), [&[2, 1, 1][..], &[1, 2, 0][..], &[0, 1, 2][..]]);
        assert_eq!(m.total(), 10);
        // WA = (2 + 2 + 2) / 10
        close(m.weighted_accuracy(), 0.6);
        // recalls 2/4, 2/3, 2/3 → UA = 11/18
        close(m.recall(0), 0.5);
        close(m.unweighted_accuracy(), 11.0 / 18.0);
        // precisions 2/3, 2/4, 2/3; F1 = 2TP/(2TP+FP+FN) = 4/7, 4/7, 4/6 → macro 38/63
        close(m.precision(1), 0.5);
        close(m.f1(0), 4.0 / 7.0);
        close(m.f1(2), 2.0 / 3.0);
        close(m.macro_f1(), 38.0 / 63.0);
    }

    #[test]
    fn zero_over_zero_conventions() {
        // Class 2 is in neither truth nor predictions: left out of UA and macro-F1.
        let m = ConfusionMatrix::from_labels(3, &[0, 0, 1], &[0, 1, 1]).unwrap();
        assert_eq!((m.recall(2), m.precision(2), m.f1(2)), (None, None, None));
        close(m.unweighted_accuracy(), 0.75);
        close(m.macro_f1(), 2.0 / 3.0);
        close(m.weighted_accuracy(), 2.0 / 3.0);

        // Class 2 only predicted: no recall (not in UA) but F1 = 0 counts in macro-F1
        // (scikit-learn: balanced_accuracy 0.5, f1 macro 1/3).
        let m = ConfusionMatrix::from_labels(3, &[0, 0], &[0, 2]).unwrap();
        assert_eq!(m.recall(2), None);
        close(m.precision(2), 0.0);
        close(m.f1(2), 0.0);
        close(m.unweighted_accuracy(), 0.5);
        close(m.macro_f1(), 1.0 / 3.0);

        let empty = ConfusionMatrix::new(4);
        assert_eq!(
            (
                empty.weighted_accuracy(),
                empty.unweighted_accuracy(),
                empty.macro_f1()
            ),
            (None, None, None)
        );
    }

    #[test]
    fn fold_means_and_rendering() {
        // Fold 1: WA 0.6, UA 11/18, F1 38/63 (case above); fold 2: all correct.
        let first = ConfusionMatrix::from_labels(
            3,
            &[0, 0, 0, 0, 1, 1, 1, 2, 2, 2],
            &[0, 0, 1, 2, 1, 1, 0, 2, 2, 1],
        )
        .unwrap()
        .scores()
        .unwrap();
        let second = ConfusionMatrix::from_labels(3, &[0, 1, 2], &[0, 1, 2])
            .unwrap()
            .scores()
            .unwrap();
        let mean = mean_over_folds(&[first, second]).unwrap();
        close(Some(mean.weighted_accuracy), 0.8);
        close(Some(mean.unweighted_accuracy), (11.0 / 18.0 + 1.0) / 2.0);
        close(Some(mean.macro_f1), (38.0 / 63.0 + 1.0) / 2.0);
        assert_eq!(mean_over_folds(&[]), None);
        assert_eq!(ConfusionMatrix::new(2).scores(), None);

        let m = ConfusionMatrix::from_labels(2, &[0, 0, 1], &[0, 1, 1]).unwrap();
        let names = ["neutral".to_owned(), "sad".to_owned()];
        assert_eq!(
            m.render(&names),
            "true\\pred  neutral      sad\nneutral          1        1\nsad              0        1\n"
        );
    }

    #[test]
    fn merging_pools_counts() {
        let mut a = ConfusionMatrix::from_labels(2, &[0, 1], &[0, 0]).unwrap();
        let b = ConfusionMatrix::from_labels(2, &[1, 1], &[1, 0]).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.rows(), [&[1, 0][..], &[2, 1][..]]);
        assert_eq!(
            a.merge(&ConfusionMatrix::new(3)).unwrap_err().to_string(),
            "cannot merge a 3-class confusion matrix into a 2-class one"
        );
        close(a.weighted_accuracy(), 0.5);
    }

    #[test]
    fn majority_vote_per_speaker_with_ties_to_the_lowest_class() {
        let speakers = ["p2", "p1", "p1", "p2", "p1", "p3", "p3"];
        let truth = [1, 0, 0, 1, 0, 1, 1];
        let predicted = [1, 0, 1, 0, 0, 1, 1];
        let votes = majority_vote(2, &speakers, &truth, &predicted).unwrap();
        let got: Vec<(&str, usize, usize, &[u64])> = votes
            .iter()
            .map(|v| (v.speaker.as_str(), v.truth, v.predicted, &v.votes[..]))
            .collect();
        assert_eq!(
            got,
            [
                ("p1", 0, 0, &[2, 1][..]),
                // 1 vote each: the tie goes to class 0.
                ("p2", 1, 0, &[1, 1][..]),
                ("p3", 1, 1, &[0, 2][..]),
            ]
        );
        let m = vote_confusion(2, &votes).unwrap();
        assert_eq!(m.rows(), [&[1, 0][..], &[1, 1][..]]);
        // F1_0 = 2/(2+1), F1_1 = 2/(2+1)
        close(m.macro_f1(), 2.0 / 3.0);
    }

    #[test]
    fn bad_inputs_are_explained() {
        assert_eq!(
            ConfusionMatrix::from_labels(2, &[0, 1], &[0])
                .unwrap_err()
                .to_string(),
            "2 true labels but 1 predictions; pass one prediction per label"
        );
        assert_eq!(
            ConfusionMatrix::from_labels(2, &[0, 1], &[0, 2])
                .unwrap_err()
                .to_string(),
            "class index 2 at position 1 is out of range for 2 classes"
        );
        assert_eq!(
            majority_vote(2, &["a", "a"], &[0, 1], &[0, 0])
                .unwrap_err()
                .to_string(),
            "speaker `a` has utterances labelled 0 and 1; a speaker-level vote needs one label per speaker"
        );
        assert_eq!(
            majority_vote(2, &["a"], &[0, 1], &[0, 0])
                .unwrap_err()
                .to_string(),
            "1 speaker keys but 2 labels; pass one key per utterance"
        );
    }
}
