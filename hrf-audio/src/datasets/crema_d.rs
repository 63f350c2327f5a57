//! Data stage 0, CREMA-D: `AudioWAV/AAAA_SSS_EEE_LL.wav` file names → 6-class utterances,
//! 5 folds of disjoint actors.

use std::path::Path;

use super::wav_listing::{FileVerdict, audio_dir_or_root, load_by_filename};
use super::{DataError, Dataset};

/// Emotion codes ANG DIS FEA HAP NEU SAD in order.
pub const CREMA_D_CLASSES: [&str; 6] = ["anger", "disgust", "fear", "happy", "neutral", "sad"];

const EMOTION_CODES: [&str; 6] = ["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"];
const SENTENCE_CODES: [&str; 12] = [
    "IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI",
];
const LEVEL_CODES: [&str; 4] = ["LO", "MD", "HI", "XX"];

/// Loads CREMA-D from `root/AudioWAV` (or `root` itself when it holds the WAVs). Speaker =
/// actor `1001`–`1091`. Names with the wrong shape or unknown codes are skipped.
pub fn load_crema_d(root: &Path) -> Result<Dataset, DataError> {
    load_by_filename(
        "crema-d",
        root,
        &audio_dir_or_root(root, "AudioWAV"),
        &CREMA_D_CLASSES,
        judge,
    )
}

fn judge(_path: &Path, stem: &str) -> FileVerdict {
    let fields: Vec<&str> = stem.split('_').collect();
    let [actor, sentence, emotion, level] = fields.as_slice() else {
        return FileVerdict::Reject(
            "name is not AAAA_SSS_EEE_LL (four `_`-separated fields)".to_owned(),
        );
    };
    match actor.parse::<u32>() {
        Ok(1001..=1091) if actor.len() == 4 => {}
        _ => return FileVerdict::Reject(format!("actor `{actor}` is not in 1001–1091")),
    }
    if !SENTENCE_CODES.contains(sentence) {
        return FileVerdict::Reject(format!(
            "sentence code `{sentence}` is not one of {}",
            SENTENCE_CODES.join(" ")
        ));
    }
    let Some(class) = EMOTION_CODES.iter().position(|e| e == emotion) else {
        return FileVerdict::Reject(format!(
            "emotion code `{emotion}` is not one of {}",
            EMOTION_CODES.join(" ")
        ));
    };
    if !LEVEL_CODES.contains(level) {
        return FileVerdict::Reject(format!(
            "level `{level}` is not one of {}",
            LEVEL_CODES.join(" ")
        ));
    }
    FileVerdict::Use {
        class: CREMA_D_CLASSES[class],
        speaker: (*actor).to_owned(),
    }
}
