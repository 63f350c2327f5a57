//! Reporting stage: predictions → scores (WA, UA, macro-F1, confusion, DAIC-WOZ speaker vote)
//! → `report.json` (machine-readable) and `report.md` (human-readable), plus plots.

pub mod plots;

use std::fmt::Write as _;

use hrf_audio::metrics::{ConfusionMatrix, MetricsError, Scores, majority_vote, vote_confusion};
use serde_json::{Value, json};

/// The scores of one evaluation.
#[derive(Clone, Debug)]
pub struct EvalScores {
    pub classes: Vec<String>,
    /// Per utterance.
    pub confusion: ConfusionMatrix,
    pub scores: Scores,
    /// Per speaker by majority vote (DAIC-WOZ): the figures that corpus is reported with.
    pub vote: Option<(ConfusionMatrix, Scores)>,
}

impl EvalScores {
    /// Scores `predicted` against `truth`; with `speakers`, also the per-speaker majority vote.
    pub fn new(
        classes: &[String],
        truth: &[usize],
        predicted: &[usize],
        speakers: Option<&[String]>,
    ) -> Result<EvalScores, String> {
        let n = classes.len();
        let confusion = ConfusionMatrix::from_labels(n, truth, predicted)
            .map_err(|e: MetricsError| e.to_string())?;
        let scores = confusion
            .scores()
            .ok_or_else(|| "nothing to score: no utterances were evaluated".to_owned())?;
        let vote = match speakers {
            Some(speakers) => {
                let votes =
                    majority_vote(n, speakers, truth, predicted).map_err(|e| e.to_string())?;
                let m = vote_confusion(n, &votes).map_err(|e| e.to_string())?;
                m.scores().map(|s| (m, s))
            }
            None => None,
        };
        Ok(EvalScores {
            classes: classes.to_vec(),
            confusion,
            scores,
            vote,
        })
    }

    /// `{wa, ua, macro_f1, confusion, classes, per_class, speaker_vote?}`.
    pub fn metrics_json(&self) -> Value {
        let mut metrics = scores_json(&self.scores, &self.confusion, &self.classes);
        if let Some((m, s)) = &self.vote {
            metrics["speaker_vote"] = scores_json(s, m, &self.classes);
        }
        metrics
    }

    /// Markdown: headline numbers, per-class table and the confusion matrix.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let s = &self.scores;
        let _ = writeln!(out, "| metric | value |\n|---|---|");
        let _ = writeln!(
            out,
            "| UA (mean per-class recall) | {:.2}% |",
            100.0 * s.unweighted_accuracy
        );
        let _ = writeln!(
            out,
            "| WA (accuracy) | {:.2}% |",
            100.0 * s.weighted_accuracy
        );
        let _ = writeln!(out, "| macro-F1 | {:.2}% |", 100.0 * s.macro_f1);
        let _ = writeln!(out, "| utterances | {} |", self.confusion.total());
        if let Some((m, v)) = &self.vote {
            let _ = writeln!(
                out,
                "| per-speaker vote: macro-F1 / UA / WA | {:.2}% / {:.2}% / {:.2}% ({} speakers) |",
                100.0 * v.macro_f1,
                100.0 * v.unweighted_accuracy,
                100.0 * v.weighted_accuracy,
                m.total()
            );
        }
        let _ = writeln!(
            out,
            "\n| class | recall | precision | F1 | utterances |\n|---|---|---|---|---|"
        );
        for (c, name) in self.classes.iter().enumerate() {
            let pct = |x: Option<f64>| x.map_or("–".to_owned(), |x| format!("{:.1}%", 100.0 * x));
            let support: u64 = (0..self.classes.len())
                .map(|p| self.confusion.count(c, p))
                .sum();
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {support} |",
                pct(self.confusion.recall(c)),
                pct(self.confusion.precision(c)),
                pct(self.confusion.f1(c))
            );
        }
        let _ = writeln!(
            out,
            "\nConfusion matrix (rows: truth, columns: predicted):\n\n```text\n{}```",
            self.confusion.render(&self.classes)
        );
        out
    }
}

fn scores_json(s: &Scores, m: &ConfusionMatrix, classes: &[String]) -> Value {
    let per_class: Vec<Value> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            json!({
                "class": name,
                "recall": m.recall(c),
                "precision": m.precision(c),
                "f1": m.f1(c),
            })
        })
        .collect();
    json!({
        "wa": s.weighted_accuracy,
        "ua": s.unweighted_accuracy,
        "macro_f1": s.macro_f1,
        "confusion": m.rows(),
        "classes": classes,
        "per_class": per_class,
    })
}

/// Index of the largest logit (the first on ties).
pub fn argmax(logits: &[f32]) -> usize {
    logits
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 { (i, x) } else { best }
        })
        .0
}

/// The UTC date and time now, `2026-11-26 01:37 UTC` (civil-from-days, Howard Hinnant's
/// algorithm, so no date crate is needed).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

/// Appends an image line to `md` for every SVG plot among `files` (their PNG twins are for
/// viewers without SVG).
pub fn embed_svgs(md: &mut String, files: &[std::path::PathBuf]) {
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
    {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = write!(md, "\n![{name}]({name})\n");
    }
}

/// Writes `<stem>.json` (pretty-printed) and then `<stem>.md` into `out`, each atomically;
/// returns their paths, the Markdown first.
pub fn write_md_json(
    out: &std::path::Path,
    stem: &str,
    md: &str,
    json: &Value,
) -> Result<Vec<std::path::PathBuf>, crate::run::RunError> {
    let json_path = out.join(format!("{stem}.json"));
    let text = serde_json::to_string_pretty(json)
        .map_err(|e| crate::run::RunError::Encode(e.to_string()))?;
    crate::run::write_text_atomic(&json_path, &text)?;
    let md_path = out.join(format!("{stem}.md"));
    crate::run::write_text_atomic(&md_path, md)?;
    Ok(vec![md_path, json_path])
}

/// `nproc` and the CPU model (from /proc/cpuinfo).
pub fn machine() -> (usize, String) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    (cores, cpu)
}

/// `488196` → `488,196`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_json_of_a_hand_computed_case() {
        let classes: Vec<String> = ["a", "b"].map(String::from).to_vec();
        // truth a a a b; predicted a a b b → WA 3/4, recall a 2/3, b 1 → UA 5/6.
        let s = EvalScores::new(&classes, &[0, 0, 0, 1], &[0, 0, 1, 1], None).unwrap();
        let j = s.metrics_json();
        assert!((j["wa"].as_f64().unwrap() - 0.75).abs() < 1e-12);
        assert!((j["ua"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(j["confusion"], json!([[2, 1], [0, 1]]));
        assert!(
            s.markdown()
                .contains("| UA (mean per-class recall) | 83.33% |")
        );
        assert_eq!(argmax(&[0.1, 3.0, 3.0, -1.0]), 1);
    }

    #[test]
    fn speaker_vote_is_reported() {
        let classes: Vec<String> = ["no", "yes"].map(String::from).to_vec();
        let speakers: Vec<String> = ["p1", "p1", "p1", "p2"].map(String::from).to_vec();
        let s = EvalScores::new(&classes, &[1, 1, 1, 0], &[1, 1, 0, 0], Some(&speakers)).unwrap();
        let (m, v) = s.vote.as_ref().unwrap();
        assert_eq!(m.total(), 2);
        assert!((v.weighted_accuracy - 1.0).abs() < 1e-12);
        assert!(s.metrics_json()["speaker_vote"]["ua"].is_number());
    }

    #[test]
    fn utc_date_format() {
        let now = utc_now();
        assert_eq!(now.len(), "2026-11-26 01:37 UTC".len(), "{now}");
        assert!(now.starts_with("20"), "{now}");
    }
}
