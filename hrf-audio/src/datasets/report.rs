//! Data stage 0 report: a loaded corpus, its folds and durations → the text `hrf data` prints.

use std::fmt::Write as _;

use super::summary::{Counts, Durations, count};
use super::{DataError, Dataset, Fold, ProtocolKind};

/// Renders the full inspection report: counts per class, per group and per speaker, the folds of
/// the standard protocol (or why it cannot be built), the total duration (when measured),
/// labels outside the class set, and every skipped entry with its reason.
pub fn render(
    dataset: &Dataset,
    folds: &Result<Vec<Fold>, DataError>,
    durations: Option<&Durations>,
) -> String {
    let counts = count(dataset);
    let mut out = String::new();
    let (group, groups) = group_words(dataset);
    let _ = write!(
        out,
        "dataset {} at {}: {} classes, {} utterances, {} speakers",
        dataset.name,
        dataset.root.display(),
        dataset.classes.len(),
        dataset.utterances.len(),
        counts.per_speaker.len(),
    );
    if !counts.per_group.is_empty() {
        let _ = write!(out, ", {} {groups}", counts.per_group.len());
    }
    out.push('\n');

    out.push_str("\nper class\n");
    let total = dataset.utterances.len().max(1) as f64;
    let mut rows: Vec<Vec<String>> = dataset
        .classes
        .iter()
        .zip(&counts.per_class)
        .map(|(class, &n)| {
            vec![
                class.clone(),
                n.to_string(),
                format!("{:.1}%", 100.0 * n as f64 / total),
            ]
        })
        .collect();
    rows.push(vec![
        "total".to_owned(),
        dataset.utterances.len().to_string(),
        String::new(),
    ]);
    table(&mut out, &["class", "utterances", "share"], &rows);

    if !counts.per_group.is_empty() {
        let _ = writeln!(out, "\nper {group}");
        class_table(&mut out, group, &counts.per_group, dataset, &counts);
    }
    out.push_str("\nper speaker\n");
    class_table(&mut out, "speaker", &counts.per_speaker, dataset, &counts);

    let _ = write!(out, "\nprotocol: {}", describe(dataset));
    match folds {
        Ok(folds) => {
            let plural = if folds.len() == 1 { "" } else { "s" };
            let _ = writeln!(out, ": {} fold{plural}", folds.len());
        }
        Err(_) => out.push('\n'),
    }
    match folds {
        Ok(folds) => fold_table(&mut out, folds),
        Err(err) => {
            let _ = writeln!(out, "  cannot build the folds: {err}");
        }
    }

    if let Some(d) = durations {
        let mean = if d.measured > 0 {
            d.total_seconds / d.measured as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "\nduration: {} over {} utterances (mean {mean:.2} s, max {:.2} s)",
            clock(d.total_seconds),
            d.measured,
            d.max_seconds
        );
        if !d.problems.is_empty() {
            let _ = writeln!(out, "audio problems ({}):", d.problems.len());
            for p in &d.problems {
                let _ = writeln!(out, "  {}: {}", p.location, p.reason);
            }
        }
    }

    if !dataset.excluded_labels.is_empty() {
        let listed: Vec<String> = dataset
            .excluded_labels
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "\nexcluded, label outside the class set: {}",
            listed.join(", ")
        );
    }
    let _ = writeln!(out, "\nskipped entries: {}", dataset.skipped.len());
    for s in &dataset.skipped {
        let _ = writeln!(out, "  {}: {}", s.location, s.reason);
    }
    out
}

/// What `Utterance::group` means for this corpus: (singular, plural).
fn group_words(dataset: &Dataset) -> (&'static str, &'static str) {
    match dataset.name.as_str() {
        "m3ed" => ("series", "series"),
        "daic-woz" => ("split", "splits"),
        _ => ("session", "sessions"),
    }
}

fn describe(dataset: &Dataset) -> String {
    let scoring = match dataset.protocol.kind {
        ProtocolKind::FixedSplit { .. } => "metrics of the held-out split",
        _ => "report the mean of per-fold metrics",
    };
    format!("{} ({scoring})", dataset.protocol.describe())
}

/// One row per key with a column per class and a total.
fn class_table(
    out: &mut String,
    key: &str,
    rows: &std::collections::BTreeMap<String, Vec<usize>>,
    dataset: &Dataset,
    counts: &Counts,
) {
    let mut header: Vec<&str> = vec![key];
    header.extend(dataset.classes.iter().map(String::as_str));
    header.push("total");
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, per_class)| {
            let mut row = vec![name.clone()];
            row.extend(per_class.iter().map(usize::to_string));
            row.push(per_class.iter().sum::<usize>().to_string());
            row
        })
        .collect();
    let mut total = vec!["total".to_owned()];
    total.extend(counts.per_class.iter().map(usize::to_string));
    total.push(counts.per_class.iter().sum::<usize>().to_string());
    body.push(total);
    table(out, &header, &body);
}

fn fold_table(out: &mut String, folds: &[Fold]) {
    let rows: Vec<Vec<String>> = folds
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                f.train.len().to_string(),
                f.val.len().to_string(),
                f.test.len().to_string(),
                speakers(&f.test_speakers),
                speakers(&f.val_speakers),
            ]
        })
        .collect();
    table(
        out,
        &[
            "fold",
            "train",
            "val",
            "test",
            "test speakers",
            "val speakers",
        ],
        &rows,
    );
    let dropped: usize = folds.iter().map(|f| f.dropped_overlap).sum();
    if dropped > 0 {
        let _ = writeln!(
            out,
            "  {dropped} utterances left out of train/val because their speaker is also in the test set"
        );
    }
}

/// Up to 6 names, then a count of the rest.
fn speakers(names: &[String]) -> String {
    const SHOWN: usize = 6;
    if names.len() <= SHOWN {
        return if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(" ")
        };
    }
    format!(
        "{} … (+{} more)",
        names[..SHOWN].join(" "),
        names.len() - SHOWN
    )
}

/// Writes a table with a two-space indent and gutter. Numeric columns (every non-empty cell
/// starts with a digit) are right-aligned, the first column and text columns left-aligned.
fn table<S: AsRef<str>>(out: &mut String, header: &[S], rows: &[Vec<String>]) {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.as_ref().chars().count()).collect();
    let mut numeric = vec![true; columns];
    numeric[0] = false;
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
            numeric[i] &= cell.is_empty() || cell.starts_with(|c: char| c.is_ascii_digit());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.take(columns).enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            text.push_str("  ");
            if !numeric[i] {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().map(AsRef::as_ref));
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

/// `7h 03m 12s`, `4m 05s` or `12.5s`.
fn clock(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_formats() {
        assert_eq!(clock(12.49), "12.5s");
        assert_eq!(clock(245.0), "4m 05s");
        assert_eq!(clock(25_392.4), "7h 03m 12s");
    }
}
