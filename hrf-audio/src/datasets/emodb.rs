//! Data stage 0, EmoDB: `wav/SSTTTEv.wav` file names → 7-class utterances, 5 folds of disjoint
//! speakers.

use std::path::Path;

use super::wav_listing::{FileVerdict, audio_dir_or_root, load_by_filename};
use super::{DataError, Dataset};

/// Emotion letters W L E A F T N in order (German initials).
pub const EMODB_CLASSES: [&str; 7] = [
    "anger",
    "boredom",
    "disgust",
    "fear",
    "happiness",
    "sadness",
    "neutral",
];

const EMOTION_LETTERS: [char; 7] = ['W', 'L', 'E', 'A', 'F', 'T', 'N'];

/// Loads EmoDB from `root/wav` (or `root` itself when it holds the WAVs). Name `SSTTTEv`:
/// speaker `SS` (2 digits), text `TTT` (`a01`…`b10`), emotion letter `E` (6th character),
/// version `v`. Speaker = `SS`. Other names and unknown letters are skipped.
pub fn load_emodb(root: &Path) -> Result<Dataset, DataError> {
    load_by_filename(
        "emodb",
        root,
        &audio_dir_or_root(root, "wav"),
        &EMODB_CLASSES,
        judge,
    )
}

fn judge(_path: &Path, stem: &str) -> FileVerdict {
    let chars: Vec<char> = stem.chars().collect();
    let [s1, s2, t1, t2, t3, emotion, version] = chars.as_slice() else {
        return FileVerdict::Reject("name is not SSTTTEv (7 characters)".to_owned());
    };
    if !(s1.is_ascii_digit() && s2.is_ascii_digit()) {
        return FileVerdict::Reject(format!("speaker `{s1}{s2}` is not two digits"));
    }
    if !(matches!(t1, 'a' | 'b') && t2.is_ascii_digit() && t3.is_ascii_digit()) {
        return FileVerdict::Reject(format!("text code `{t1}{t2}{t3}` is not a/b + two digits"));
    }
    let Some(class) = EMOTION_LETTERS.iter().position(|e| e == emotion) else {
        return FileVerdict::Reject(format!(
            "emotion letter `{emotion}` is not one of W L E A F T N"
        ));
    };
    if !version.is_ascii_lowercase() {
        return FileVerdict::Reject(format!("version `{version}` is not a lower-case letter"));
    }
    FileVerdict::Use {
        class: EMODB_CLASSES[class],
        speaker: format!("{s1}{s2}"),
    }
}
