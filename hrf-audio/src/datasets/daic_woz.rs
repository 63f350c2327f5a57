//! Data stage 0, DAIC-WOZ: AVEC2017 split CSVs + `<id>_P/<id>_TRANSCRIPT.csv` → participant
//! speech segments labelled PHQ8_Binary, train/dev split, scored per participant.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv_row::split_row;
use super::{
    DataError, Dataset, DatasetBuilder, Evaluation, Protocol, ProtocolKind, Segment, Utterance,
    read_text, require_dir,
};

/// PHQ8_Binary 0 and 1 (PHQ8_Score ≥ 10).
pub const DAIC_WOZ_CLASSES: [&str; 2] = ["not-depressed", "depressed"];

/// The split files and the group name each gives its participants.
const SPLIT_FILES: [(&str, &str); 2] = [
    ("train", "train_split_Depression_AVEC2017.csv"),
    ("dev", "dev_split_Depression_AVEC2017.csv"),
];

/// Loads DAIC-WOZ rooted at `root` (holding the split CSVs and the `<id>_P/` directories).
///
/// Every transcript row whose speaker is `Participant` becomes one utterance: the segment
/// `[start_time, stop_time]` of `<id>_AUDIO.wav`, speaker = participant id, group = `train` or
/// `dev`, label = PHQ8_Binary. `Ellie` (interviewer) rows are dropped; rows with another
/// speaker, bad times or too few fields are skipped with a reason. Participants without a
/// label, transcript or audio are skipped as a whole. Protocol: train → test on dev (papers
/// test on dev; the test split has no labels), validation participants drawn from train,
/// scored by per-participant majority vote.
pub fn load_daic_woz(root: &Path) -> Result<Dataset, DataError> {
    const KIND: &str = "daic-woz";
    require_dir(KIND, root)?;
    let mut builder = DatasetBuilder::new(KIND, root, &DAIC_WOZ_CLASSES);
    // participant id → (group, PHQ8_Binary)
    let mut labels: BTreeMap<u32, (&str, usize)> = BTreeMap::new();
    for (group, file) in SPLIT_FILES {
        let path = root.join(file);
        if !path.is_file() {
            return Err(DataError::Layout {
                kind: KIND,
                path: root.to_path_buf(),
                problem: format!("missing {file}"),
            });
        }
        read_split(&path, group, &mut labels, &mut builder)?;
    }

    for (&id, &(group, label)) in &labels {
        let dir = root.join(format!("{id}_P"));
        let transcript = dir.join(format!("{id}_TRANSCRIPT.csv"));
        let audio = dir.join(format!("{id}_AUDIO.wav"));
        let participant = format!("participant {id} ({group})");
        if !transcript.is_file() {
            builder.skip(
                participant,
                format!("missing transcript {}", transcript.display()),
            );
            continue;
        }
        if let Some(reason) = crate::wav::unusable_audio_file("audio", &audio) {
            builder.skip(participant, reason);
            continue;
        }
        let before = builder.utterances.len();
        read_transcript(&transcript, id, group, label, &audio, &mut builder)?;
        if builder.utterances.len() == before {
            builder.skip(
                participant,
                format!("no usable Participant rows in {}", transcript.display()),
            );
        }
    }
    unlabelled_directories(root, &labels, &mut builder)?;
    Ok(builder.finish(Protocol {
        kind: ProtocolKind::FixedSplit {
            train: vec!["train".to_owned()],
            val: Vec::new(),
            test: vec!["dev".to_owned()],
        },
        evaluation: Evaluation::SpeakerMajorityVote,
    }))
}

/// Reads `Participant_ID`, `PHQ8_Binary` (and `PHQ8_Score` when present, to cross-check).
fn read_split<'g>(
    path: &Path,
    group: &'g str,
    labels: &mut BTreeMap<u32, (&'g str, usize)>,
    builder: &mut DatasetBuilder,
) -> Result<(), DataError> {
    let text = read_text(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let layout = |problem: String| DataError::Layout {
        kind: "daic-woz",
        path: path.to_path_buf(),
        problem,
    };
    let Some((_, header)) = lines.next() else {
        return Err(layout("empty split file".to_owned()));
    };
    let header = split_row(header, ',').map_err(|e| layout(format!("header: {e}")))?;
    let column = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (Some(id_col), Some(binary_col)) = (
        column(&["Participant_ID"]),
        column(&["PHQ8_Binary", "PHQ_Binary"]),
    ) else {
        return Err(layout(
            "header must name Participant_ID and PHQ8_Binary".to_owned(),
        ));
    };
    let score_col = column(&["PHQ8_Score", "PHQ_Score"]);
    for (line_index, line) in lines {
        let location = format!("{}:{}", path.display(), line_index + 1);
        let fields = match split_row(line, ',') {
            Ok(fields) => fields,
            Err(reason) => {
                builder.skip(location, reason);
                continue;
            }
        };
        let field = |col: usize| fields.get(col).map(String::as_str).unwrap_or("");
        let Ok(id) = field(id_col).parse::<u32>() else {
            builder.skip(
                location,
                format!("Participant_ID `{}` is not a number", field(id_col)),
            );
            continue;
        };
        let binary = match field(binary_col) {
            "0" => 0,
            "1" => 1,
            other => {
                builder.skip(location, format!("PHQ8_Binary `{other}` is not 0 or 1"));
                continue;
            }
        };
        if let Some(col) = score_col {
            match field(col).parse::<f64>() {
                Ok(score) if usize::from(score >= 10.0) != binary => {
                    builder.skip(
                        location,
                        format!("PHQ8_Binary {binary} disagrees with PHQ8_Score {score} (binary = score ≥ 10)"),
                    );
                    continue;
                }
                Ok(_) => {}
                Err(_) => {
                    builder.skip(
                        location,
                        format!("PHQ8_Score `{}` is not a number", field(col)),
                    );
                    continue;
                }
            }
        }
        if let Some((other, _)) = labels.get(&id) {
            builder.skip(
                location,
                format!("participant {id} is already listed in the {other} split"),
            );
            continue;
        }
        labels.insert(id, (group, binary));
    }
    Ok(())
}

/// Adds one utterance per `Participant` row of a tab-separated (or comma-separated) transcript.
fn read_transcript(
    path: &Path,
    id: u32,
    group: &str,
    label: usize,
    audio: &Path,
    builder: &mut DatasetBuilder,
) -> Result<(), DataError> {
    let text = read_text(path)?;
    let mut lines = text.lines().enumerate();
    let header_line = lines.next().map(|(_, l)| l).unwrap_or("");
    let delimiter = if header_line.contains('\t') {
        '\t'
    } else {
        ','
    };
    let header = split_row(header_line, delimiter).unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(start_col), Some(stop_col), Some(speaker_col)) =
        (column("start_time"), column("stop_time"), column("speaker"))
    else {
        builder.skip(
            format!("{}:1", path.display()),
            "header must name start_time, stop_time and speaker; transcript ignored",
        );
        return Ok(());
    };
    for (line_index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("{}:{}", path.display(), line_index + 1);
        // Tab-separated transcripts are not quoted (the spoken text may hold a lone `"`).
        let fields = if delimiter == '\t' {
            Ok(line.split('\t').map(|f| f.trim().to_owned()).collect())
        } else {
            split_row(line, delimiter)
        };
        let fields = match fields {
            Ok(fields) => fields,
            Err(reason) => {
                builder.skip(location, reason);
                continue;
            }
        };
        let needed = start_col.max(stop_col).max(speaker_col) + 1;
        if fields.len() < needed {
            builder.skip(
                location,
                format!("{} fields, expected at least {needed}", fields.len()),
            );
            continue;
        }
        match fields[speaker_col].as_str() {
            "Participant" => {}
            "Ellie" => continue,
            other => {
                builder.skip(
                    location,
                    format!("unknown speaker `{other}` (expected Ellie or Participant)"),
                );
                continue;
            }
        }
        let (Ok(start), Ok(end)) = (
            fields[start_col].parse::<f64>(),
            fields[stop_col].parse::<f64>(),
        ) else {
            builder.skip(
                location,
                format!("bad times `{}`–`{}`", fields[start_col], fields[stop_col]),
            );
            continue;
        };
        if !(start.is_finite() && end.is_finite() && start >= 0.0 && end > start) {
            builder.skip(
                location,
                format!("empty or reversed segment {start}–{end} s"),
            );
            continue;
        }
        builder.push(Utterance {
            id: format!("{id}_{}", line_index + 1),
            path: audio.to_path_buf(),
            label,
            speaker: id.to_string(),
            group: Some(group.to_owned()),
            segment: Some(Segment { start, end }),
        });
    }
    Ok(())
}

/// Reports `<id>_P` directories that no labelled split lists (e.g. the unlabelled test split).
fn unlabelled_directories(
    root: &Path,
    labels: &BTreeMap<u32, (&str, usize)>,
    builder: &mut DatasetBuilder,
) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        path: root.to_path_buf(),
        source,
    };
    let mut unlabelled = Vec::new();
    for entry in std::fs::read_dir(root).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix("_P"))
            .and_then(|n| n.parse::<u32>().ok());
        if let (Some(id), true) = (id, path.is_dir())
            && !labels.contains_key(&id)
        {
            unlabelled.push(path);
        }
    }
    unlabelled.sort();
    for path in unlabelled {
        builder.skip(
            path.display().to_string(),
            "participant is in neither the train nor the dev split (no label)",
        );
    }
    Ok(())
}
