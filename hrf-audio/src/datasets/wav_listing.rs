//! Data stage 0 helper: a directory tree → its `.wav` files in sorted order (filename corpora).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{DataError, Skipped};

/// Deepest directory level searched below the root: a corpus keeps its audio a few levels
/// down (`AudioWAV/`, `Actor_01/`…), so anything deeper is reported as skipped, not searched.
pub(crate) const MAX_DEPTH: usize = 6;

/// What a directory walk found: the `.wav` files and the entries it did not follow, with why.
pub(crate) struct Listing {
    /// Sorted by path; each underlying file once, under the first path it was reached by.
    pub(crate) wavs: Vec<PathBuf>,
    pub(crate) skipped: Vec<Skipped>,
}

/// Every regular file under `root` (recursively, up to [`MAX_DEPTH`] levels) whose extension
/// is `wav` in any case, sorted by path so that loading is deterministic.
///
/// Directories are followed through symlinks but each canonical directory is walked once, so a
/// symlink loop (`a/loop -> ..`) ends; a file reached twice (two links to it) is listed once.
/// Entries that are not followed (already seen, too deep, unreadable, not a regular file) are
/// [`Listing::skipped`] with the reason. Only an unreadable `root` is an error.
pub(crate) fn list_wavs(root: &Path) -> Result<Listing, DataError> {
    let mut walk = Walk {
        listing: Listing {
            wavs: Vec::new(),
            skipped: Vec::new(),
        },
        seen_dirs: HashSet::new(),
        seen_files: HashMap::new(),
    };
    let entries = sorted_entries(root).map_err(|source| DataError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if let Ok(canonical) = std::fs::canonicalize(root) {
        walk.seen_dirs.insert(canonical);
    }
    walk.visit(entries, 0);
    walk.listing.wavs.sort();
    Ok(walk.listing)
}

struct Walk {
    listing: Listing,
    /// Canonical directories already walked.
    seen_dirs: HashSet<PathBuf>,
    /// Canonical file → the path it was first listed under.
    seen_files: HashMap<PathBuf, PathBuf>,
}

impl Walk {
    fn skip(&mut self, path: &Path, reason: String) {
        self.listing.skipped.push(Skipped {
            location: path.display().to_string(),
            reason,
        });
    }

    /// Walks `entries` (the sorted contents of a directory `depth` levels below the root).
    fn visit(&mut self, entries: Vec<PathBuf>, depth: usize) {
        for path in entries {
            // Follows symlinks; a dangling link or an unreadable entry is reported.
            let meta = match std::fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    let is_wav = has_wav_extension(&path);
                    if is_wav || path.is_symlink() {
                        self.skip(&path, format!("cannot be read ({e}); not searched"));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if self.seen_dirs.contains(&canonical) {
                    self.skip(
                        &path,
                        format!(
                            "directory {} was already searched (a symlink loop or a second \
                             link to it); not searched again",
                            canonical.display()
                        ),
                    );
                    continue;
                }
                if depth >= MAX_DEPTH {
                    self.skip(
                        &path,
                        format!(
                            "directory is more than {MAX_DEPTH} levels below the corpus root; \
                             not searched (move the audio up or pass a deeper root)"
                        ),
                    );
                    continue;
                }
                self.seen_dirs.insert(canonical);
                match sorted_entries(&path) {
                    Ok(children) => self.visit(children, depth + 1),
                    Err(e) => self.skip(&path, format!("directory cannot be read ({e})")),
                }
            } else if has_wav_extension(&path) {
                if !meta.is_file() {
                    let what = crate::wav::non_regular_kind(&meta);
                    self.skip(
                        &path,
                        format!("is {what}, not a regular file; expected a RIFF/WAVE file"),
                    );
                    continue;
                }
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if let Some(first) = self.seen_files.get(&canonical) {
                    let reason = format!(
                        "same file as {} (a second link to {}); listed once",
                        first.display(),
                        canonical.display()
                    );
                    self.skip(&path, reason);
                    continue;
                }
                self.seen_files.insert(canonical, path.clone());
                self.listing.wavs.push(path);
            }
        }
    }
}

fn has_wav_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// The paths in `dir`, sorted so that "first reached" is deterministic.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths)
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
    let Listing { wavs, skipped } = list_wavs(audio_dir)?;
    if wavs.is_empty() {
        return Err(DataError::Layout {
            kind,
            path: audio_dir.to_path_buf(),
            problem: match skipped.first() {
                None => "no .wav files found".to_owned(),
                Some(first) => format!(
                    "no usable .wav files found ({} entries skipped, first {}: {})",
                    skipped.len(),
                    first.location,
                    first.reason
                ),
            },
        });
    }
    let mut builder = DatasetBuilder::new(kind, root, classes);
    builder.skipped.extend(skipped);
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
