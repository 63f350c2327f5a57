//! Data stage 0 errors: why a corpus could not be loaded or split, naming the path and the fix.

use std::path::PathBuf;

/// A corpus that cannot be loaded at all (individual bad entries are [`super::Skipped`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{kind} data directory {} does not exist; pass --data {kind}:<path to the corpus root>", path.display())]
    MissingRoot { kind: &'static str, path: PathBuf },

    #[error("{kind} data path {} is not a directory; pass the corpus root directory", path.display())]
    NotADirectory { kind: &'static str, path: PathBuf },

    #[error("manifest file {} does not exist; pass --data {kind}:<path to manifest.csv>{hint}", path.display())]
    MissingManifest {
        kind: &'static str,
        path: PathBuf,
        hint: &'static str,
    },

    #[error("{} does not have the {kind} layout: {problem}", path.display())]
    Layout {
        kind: &'static str,
        path: PathBuf,
        problem: String,
    },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "manifest {} is {size} bytes, over the {limit}-byte limit for a manifest; a manifest \
         holds one short CSV row per utterance (is this the right file?)",
        path.display()
    )]
    ManifestTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error(
        "{} is {size} bytes, over the {limit}-byte limit for a corpus list, label file or \
         transcript; check that the corpus layout points at the right file",
        path.display()
    )]
    TextTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error(
        "manifest {} is not UTF-8 text (invalid byte at offset {offset}); save it as UTF-8 CSV \
         rows path,label,speaker[,session]",
        path.display()
    )]
    ManifestNotUtf8 { path: PathBuf, offset: usize },

    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("unknown data kind `{given}`; valid kinds: {valid}")]
    UnknownKind { given: String, valid: String },

    #[error("invalid --data `{given}`: {reason}")]
    BadSource { given: String, reason: String },

    #[error("cannot build the {dataset} evaluation protocol: {reason}")]
    Protocol { dataset: String, reason: String },
}
