//! Data stage 0, RAVDESS: `Actor_NN/MM-VV-EE-II-SS-RR-AA.wav` file names → 8-class speech
//! utterances, 5 folds of disjoint actors.

use std::path::Path;

use super::wav_listing::{FileVerdict, load_by_filename};
use super::{DataError, Dataset};

/// Emotion codes 01–08 in order.
pub const RAVDESS_CLASSES: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];

/// Loads RAVDESS speech audio under `root` (searched recursively, e.g. the `Actor_01` …
/// `Actor_24` folders). Speaker = actor `AA` (`01`–`24`; odd = male). Song clips (vocal channel
/// 02) are counted as excluded; names that break the 7-field convention, non-audio modalities,
/// out-of-range codes and files whose `Actor_NN` folder disagrees with `AA` are skipped.
pub fn load_ravdess(root: &Path) -> Result<Dataset, DataError> {
    load_by_filename("ravdess", root, root, &RAVDESS_CLASSES, judge)
}

fn judge(path: &Path, stem: &str) -> FileVerdict {
    let fields: Vec<&str> = stem.split('-').collect();
    let numbers: Option<Vec<u8>> = fields
        .iter()
        .map(|f| {
            if f.len() == 2 {
                f.parse::<u8>().ok()
            } else {
                None
            }
        })
        .collect();
    let [
        modality,
        channel,
        emotion,
        intensity,
        statement,
        repetition,
        actor,
    ] = numbers.as_deref().unwrap_or(&[])
    else {
        return FileVerdict::Reject(
            "name is not MM-VV-EE-II-SS-RR-AA (seven 2-digit fields)".to_owned(),
        );
    };
    let bad = |what: &str, value: u8, allowed: &str| {
        FileVerdict::Reject(format!("{what} {value:02} is not {allowed}"))
    };
    if *modality != 3 {
        return bad("modality", *modality, "03 (audio-only)");
    }
    if !(1..=2).contains(channel) {
        return bad("vocal channel", *channel, "01 (speech) or 02 (song)");
    }
    if !(1..=8).contains(emotion) {
        return bad("emotion", *emotion, "in 01–08");
    }
    if !(1..=2).contains(intensity) {
        return bad("intensity", *intensity, "01 or 02");
    }
    if !(1..=2).contains(statement) {
        return bad("statement", *statement, "01 or 02");
    }
    if !(1..=2).contains(repetition) {
        return bad("repetition", *repetition, "01 or 02");
    }
    if !(1..=24).contains(actor) {
        return bad("actor", *actor, "in 01–24");
    }
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    if let Some(folder_actor) = folder.and_then(|n| n.strip_prefix("Actor_"))
        && folder_actor.parse::<u8>().ok() != Some(*actor)
    {
        return FileVerdict::Reject(format!(
            "actor {actor:02} is filed under folder Actor_{folder_actor}"
        ));
    }
    if *channel == 2 {
        return FileVerdict::Exclude("song (vocal channel 02)");
    }
    FileVerdict::Use {
        class: RAVDESS_CLASSES[usize::from(*emotion - 1)],
        speaker: format!("{actor:02}"),
    }
}
