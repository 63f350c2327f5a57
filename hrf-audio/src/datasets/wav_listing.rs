//! Data stage 0 helper: a directory tree → its `.wav` files in sorted order (filename corpora).

use std::path::{Path, PathBuf};

use super::DataError;

/// Deepest directory level searched below the root (guards against symlink cycles).
const MAX_DEPTH: usize = 6;

/// Every file under `root` (recursively, up to [`MAX_DEPTH`] levels) whose extension is `wav`
/// in any case, sorted by path so that loading is deterministic.
pub(crate) fn list_wavs(root: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut found = Vec::new();
    collect(root, 0, &mut found)?;
    found.sort();
    Ok(found)
}

fn collect(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect(&path, depth + 1, found)?;
            }
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// The file name without its extension, or `None` when it is not valid UTF-8.
pub(crate) fn file_stem(path: &Path) -> Option<&str> {
    path.file_stem().and_then(|s| s.to_str())
}

/// What a filename corpus makes of one file name.
pub(crate) enum FileVerdict {
    /// A usable utterance: class name (must be in the class list) and speaker.
    Use {
        class: &'static str,
        speaker: String,
    },
    /// Well-formed but outside the protocol (counted under this label).
    Exclude(&'static str),
    /// Malformed; the reason is reported.
    Reject(String),
}

/// Loads a corpus whose labels live in its file names (RAVDESS, CREMA-D, EmoDB): every `.wav`
/// under `audio_dir` is judged by `judge(path, stem)`; the protocol is speaker folds.
pub(crate) fn load_by_filename(
    kind: &'static str,
    root: &Path,
    audio_dir: &Path,
    classes: &[&str],
    judge: impl Fn(&Path, &str) -> FileVerdict,
) -> Result<super::Dataset, DataError> {
    use super::{DatasetBuilder, Evaluation, Protocol, ProtocolKind, SPEAKER_FOLDS, Utterance};
    super::require_dir(kind, root)?;
    let wavs = list_wavs(audio_dir)?;
    if wavs.is_empty() {
        return Err(DataError::Layout {
            kind,
            path: audio_dir.to_path_buf(),
            problem: "no .wav files found".to_owned(),
        });
    }
    let mut builder = DatasetBuilder::new(kind, root, classes);
    for path in wavs {
        let location = path.display().to_string();
        let Some(stem) = file_stem(&path) else {
            builder.skip(location, "file name is not valid UTF-8");
            continue;
        };
        match judge(&path, stem) {
            FileVerdict::Use { class, speaker } => match builder.class_index(class) {
                Some(label) => builder.push(Utterance {
                    id: stem.to_owned(),
                    path,
                    label,
                    speaker,
                    group: None,
                    segment: None,
                }),
                None => builder.skip(
                    location,
                    format!("class `{class}` is not in the class list"),
                ),
            },
            FileVerdict::Exclude(label) => builder.exclude(label),
            FileVerdict::Reject(reason) => builder.skip(location, reason),
        }
    }
    Ok(builder.finish(Protocol {
        kind: ProtocolKind::SpeakerFolds { k: SPEAKER_FOLDS },
        evaluation: Evaluation::PerUtterance,
    }))
}

/// `root/sub` when that directory exists (the corpus's usual audio folder), else `root`.
pub(crate) fn audio_dir_or_root(root: &Path, sub: &str) -> PathBuf {
    let dir = root.join(sub);
    if dir.is_dir() {
        dir
    } else {
        root.to_path_buf()
    }
}
