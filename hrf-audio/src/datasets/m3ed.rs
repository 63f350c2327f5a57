//! Data stage 0, M3ED: `annotation.json` + `splitInfo/movie_list_*.txt` → 7-class utterances
//! grouped by TV series, with the official series-level train/val/test split.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{
    DataError, Dataset, DatasetBuilder, Evaluation, Protocol, ProtocolKind, Utterance, read_text,
    require_dir,
};

/// M3ED's 7 emotions (`final_main_emo`, lower-cased).
pub const M3ED_CLASSES: [&str; 7] = [
    "neutral", "happy", "surprise", "sad", "disgust", "anger", "fear",
];

const SPLITS: [&str; 3] = ["train", "val", "test"];

/// Loads M3ED rooted at `root` (holding `annotation.json`, `modality_speech/`, `splitInfo/`).
///
/// Utterance `U` of speaker `S` is `modality_speech/{S}_{U}.wav`. Speaker = `{series}_{S}`
/// (`A`/`B` are per-dialog roles; the series split keeps them disjoint across splits).
/// Group = series. Series in no split list, or in two, are skipped (reported once per series).
pub fn load_m3ed(root: &Path) -> Result<Dataset, DataError> {
    const KIND: &str = "m3ed";
    require_dir(KIND, root)?;
    let layout = |problem: String| DataError::Layout {
        kind: KIND,
        path: root.to_path_buf(),
        problem,
    };
    let annotation_path = root.join("annotation.json");
    if !annotation_path.is_file() {
        return Err(layout("missing annotation.json".to_owned()));
    }
    let mut builder = DatasetBuilder::new(KIND, root, &M3ED_CLASSES);

    // series → split name; a series in two lists maps to None.
    let mut split_of: BTreeMap<String, Option<&str>> = BTreeMap::new();
    for split in SPLITS {
        let list = root
            .join("splitInfo")
            .join(format!("movie_list_{split}.txt"));
        if !list.is_file() {
            return Err(layout(format!("missing splitInfo/movie_list_{split}.txt")));
        }
        for (line_index, series) in read_text(&list)?.lines().enumerate() {
            let series = series.trim();
            if series.is_empty() {
                continue;
            }
            match split_of.get(series) {
                Some(Some(other)) if *other != split => {
                    builder.skip(
                        format!("{}:{}", list.display(), line_index + 1),
                        format!("series `{series}` is also in the {other} list; series dropped"),
                    );
                    split_of.insert(series.to_owned(), None);
                }
                Some(_) => {}
                None => {
                    split_of.insert(series.to_owned(), Some(split));
                }
            }
        }
    }

    let text = read_text(&annotation_path)?;
    let annotation: Value = serde_json::from_str(&text).map_err(|source| DataError::Json {
        path: annotation_path.clone(),
        source,
    })?;
    let Some(all_series) = annotation.as_object() else {
        return Err(layout(
            "annotation.json must be an object {series: {clip: {\"Dialog\": …}}}".to_owned(),
        ));
    };
    let location = |key: &str| format!("{}: {key}", annotation_path.display());
    let speech = root.join("modality_speech");
    let mut groups: BTreeMap<&str, Vec<String>> = SPLITS.iter().map(|s| (*s, Vec::new())).collect();
    for (series, clips) in all_series {
        let split = match split_of.get(series.as_str()) {
            Some(Some(split)) => *split,
            Some(None) => continue,
            None => {
                builder.skip(
                    location(series),
                    "series is in no splitInfo/movie_list_*.txt; series dropped",
                );
                continue;
            }
        };
        groups.entry(split).or_default().push(series.clone());
        let Some(clips) = clips.as_object() else {
            builder.skip(location(series), "expected an object of clips");
            continue;
        };
        for (clip, content) in clips {
            let Some(dialog) = content.get("Dialog").and_then(Value::as_object) else {
                builder.skip(
                    location(&format!("{series}/{clip}")),
                    "missing \"Dialog\" object",
                );
                continue;
            };
            for (utt_id, entry) in dialog {
                let here = location(&format!("{series}/{clip}/{utt_id}"));
                let speaker = entry.get("Speaker").and_then(Value::as_str);
                let Some(speaker) = speaker.filter(|s| !s.is_empty()) else {
                    builder.skip(here, "missing \"Speaker\"");
                    continue;
                };
                let emotion = entry
                    .get("EmoAnnotation")
                    .and_then(|a| a.get("final_main_emo"))
                    .and_then(Value::as_str);
                let Some(emotion) = emotion else {
                    builder.skip(here, "missing \"EmoAnnotation\".\"final_main_emo\"");
                    continue;
                };
                let Some(label) = builder.class_index(&emotion.to_ascii_lowercase()) else {
                    builder.skip(
                        here,
                        format!(
                            "unknown emotion `{emotion}` (M3ED: {})",
                            M3ED_CLASSES.join(", ")
                        ),
                    );
                    continue;
                };
                let wav = speech.join(format!("{speaker}_{utt_id}.wav"));
                if let Some(reason) = crate::wav::unusable_audio_file("WAV", &wav) {
                    builder.skip(here, reason);
                    continue;
                }
                builder.push(Utterance {
                    id: utt_id.clone(),
                    path: wav,
                    label,
                    speaker: format!("{series}_{speaker}"),
                    group: Some(series.clone()),
                    segment: None,
                });
            }
        }
    }
    let mut take = |split: &str| groups.remove(split).unwrap_or_default();
    let (train, val, test) = (take("train"), take("val"), take("test"));
    Ok(builder.finish(Protocol {
        kind: ProtocolKind::FixedSplit { train, val, test },
        evaluation: Evaluation::PerUtterance,
    }))
}
