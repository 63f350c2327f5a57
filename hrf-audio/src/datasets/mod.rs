//! Data stage 0: corpus layouts on disk → labelled utterances, skip reports and the corpus's
//! standard speaker-independent evaluation protocol.
//!
//! Every loader returns a [`Dataset`]: utterances (path, class index, speaker, group, optional
//! segment), the class names, every entry it could not use with the reason ([`Skipped`]), counts
//! of labels that are valid in the corpus but outside the chosen class set (`excluded_labels`),
//! and the [`Protocol`] whose [`Protocol::folds`] gives train/validation/test indices.
//! Loaders only check that audio files exist; they never decode audio (see [`summary`] for
//! header-only durations).

mod crema_d;
mod csv_row;
mod daic_woz;
mod emodb;
mod error;
mod iemocap;
mod m3ed;
mod manifest;
mod protocol;
mod ravdess;
pub mod report;
mod source;
pub mod summary;
mod wav_listing;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crema_d::{CREMA_D_CLASSES, load_crema_d};
pub use daic_woz::{DAIC_WOZ_CLASSES, load_daic_woz};
pub use emodb::{EMODB_CLASSES, load_emodb};
pub use error::DataError;
pub use iemocap::{IEMOCAP_CLASSES, load_iemocap};
pub use m3ed::{M3ED_CLASSES, load_m3ed};
pub use manifest::{MAX_FIELD_BYTES, MAX_LINE_BYTES, MAX_MANIFEST_BYTES, load_manifest};
pub use protocol::{
    Evaluation, Fold, Protocol, ProtocolKind, SPEAKER_FOLDS, VALIDATION_FRACTION,
    keep_longest_segments,
};
pub use ravdess::{RAVDESS_CLASSES, load_ravdess};
pub use source::{DEFAULT_SYNTH_MANIFEST, DataKind, DataSource};

/// A time span inside a longer recording, in seconds from its start (DAIC-WOZ segments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
}

impl Segment {
    /// `end − start` in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// One labelled training/evaluation example.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// Corpus-unique id (`Ses01F_impro01_M012`, `03-01-05-01-02-01-12`, `300_s17`…).
    pub id: String,
    /// Audio file; for segments, the whole recording the segment is cut from.
    pub path: PathBuf,
    /// Index into [`Dataset::classes`].
    pub label: usize,
    /// The person speaking (`Ses01_M`, actor `12`, participant `300`…): the unit that must never
    /// appear on both sides of a split.
    pub speaker: String,
    /// Recording session (IEMOCAP, manifest), TV series (M3ED) or official split (DAIC-WOZ);
    /// `None` when the corpus has no such grouping (RAVDESS, CREMA-D, EmoDB).
    pub group: Option<String>,
    /// The part of `path` this utterance covers; `None` = the whole file.
    pub segment: Option<Segment>,
}

/// An entry a loader could not use: where it is and why, shown to the user by `hrf data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `file`, `file:line` or `file: key` naming the entry.
    pub location: String,
    pub reason: String,
}

/// A loaded corpus.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Corpus kind (`iemocap`, `manifest`…).
    pub name: String,
    /// The directory or manifest file it was loaded from.
    pub root: PathBuf,
    /// Class names; `Utterance::label` indexes this.
    pub classes: Vec<String>,
    pub utterances: Vec<Utterance>,
    /// Malformed or unusable entries, each with its reason (never dropped silently).
    pub skipped: Vec<Skipped>,
    /// Well-formed entries whose label is outside the class set (IEMOCAP `fru`, `xxx`…), counted
    /// per raw label.
    pub excluded_labels: BTreeMap<String, usize>,
    /// The corpus's standard evaluation protocol.
    pub protocol: Protocol,
}

impl Dataset {
    /// The standard protocol's folds (see [`Protocol::folds`]).
    pub fn folds(&self) -> Result<Vec<Fold>, DataError> {
        self.protocol.folds(&self.name, &self.utterances)
    }
}

/// Collects utterances, skips and exclusions while a loader walks a corpus.
pub(crate) struct DatasetBuilder {
    name: &'static str,
    root: PathBuf,
    classes: Vec<String>,
    utterances: Vec<Utterance>,
    skipped: Vec<Skipped>,
    excluded_labels: BTreeMap<String, usize>,
}

impl DatasetBuilder {
    pub(crate) fn new(name: &'static str, root: &Path, classes: &[&str]) -> Self {
        Self {
            name,
            root: root.to_path_buf(),
            classes: classes.iter().map(|c| (*c).to_owned()).collect(),
            utterances: Vec::new(),
            skipped: Vec::new(),
            excluded_labels: BTreeMap::new(),
        }
    }

    pub(crate) fn with_classes(name: &'static str, root: &Path, classes: Vec<String>) -> Self {
        let mut builder = Self::new(name, root, &[]);
        builder.classes = classes;
        builder
    }

    /// Index of `class` in the class list, if present.
    pub(crate) fn class_index(&self, class: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == class)
    }

    pub(crate) fn push(&mut self, utterance: Utterance) {
        self.utterances.push(utterance);
    }

    pub(crate) fn skip(&mut self, location: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            location: location.into(),
            reason: reason.into(),
        });
    }

    pub(crate) fn exclude(&mut self, raw_label: &str) {
        *self
            .excluded_labels
            .entry(raw_label.to_owned())
            .or_insert(0) += 1;
    }

    pub(crate) fn finish(self, protocol: Protocol) -> Dataset {
        Dataset {
            name: self.name.to_owned(),
            root: self.root,
            classes: self.classes,
            utterances: self.utterances,
            skipped: self.skipped,
            excluded_labels: self.excluded_labels,
            protocol,
        }
    }
}

/// Fails with [`DataError::MissingRoot`] / [`DataError::NotADirectory`] unless `root` is a
/// directory.
pub(crate) fn require_dir(kind: &'static str, root: &Path) -> Result<(), DataError> {
    if !root.exists() {
        return Err(DataError::MissingRoot {
            kind,
            path: root.to_path_buf(),
        });
    }
    if !root.is_dir() {
        return Err(DataError::NotADirectory {
            kind,
            path: root.to_path_buf(),
        });
    }
    Ok(())
}

/// The largest corpus list, label file or transcript read: 64 MiB (the largest DAIC-WOZ
/// transcript is well under 1 MiB, M3ED's annotation file a few MiB).
pub const MAX_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// Why [`read_capped`] returned no bytes.
pub(crate) enum CappedError {
    /// The file holds more than the limit (at least this many bytes).
    TooLarge(u64),
    Io(std::io::Error),
}

/// The bytes of `path`, refused when it holds more than `limit` bytes: from its metadata, and,
/// for a file that grows or lies about its size, after reading one byte past the limit. Shared
/// by the manifest and text readers.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, CappedError> {
    use std::io::Read;
    let size = std::fs::metadata(path).map_err(CappedError::Io)?.len();
    if size > limit {
        return Err(CappedError::TooLarge(size));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(CappedError::Io)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(CappedError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(CappedError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a whole text file (at most [`MAX_TEXT_BYTES`]), naming it in the error. A leading
/// UTF-8 byte-order mark (written by spreadsheet exports) is dropped so that header names still
/// match.
pub(crate) fn read_text(path: &Path) -> Result<String, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = read_capped(path, MAX_TEXT_BYTES).map_err(|e| match e {
        CappedError::TooLarge(size) => DataError::TextTooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_TEXT_BYTES,
        },
        CappedError::Io(source) => io(source),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}
