//! Data stage 0 entry: the `--data <kind>:<path>` syntax → the matching loader.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::manifest::load_manifest_as;
use super::{
    DataError, Dataset, load_crema_d, load_daic_woz, load_emodb, load_iemocap, load_m3ed,
    load_manifest, load_ravdess,
};

/// Where `--data synth` looks, relative to the working directory: the manifest `hrf synth`
/// writes by default.
pub const DEFAULT_SYNTH_MANIFEST: &str = "hrf-data/synth/manifest.csv";

/// Class order of the synthetic corpus (`hrf synth` labels): IEMOCAP's four, then the two
/// optional ones.
const SYNTH_CLASS_ORDER: [&str; 6] = ["neutral", "angry", "happy", "sad", "fear", "disgust"];

/// A corpus layout the loaders understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Iemocap,
    M3ed,
    DaicWoz,
    Ravdess,
    CremaD,
    Emodb,
    Manifest,
    Synth,
}

impl DataKind {
    pub const ALL: [DataKind; 8] = [
        DataKind::Iemocap,
        DataKind::M3ed,
        DataKind::DaicWoz,
        DataKind::Ravdess,
        DataKind::CremaD,
        DataKind::Emodb,
        DataKind::Manifest,
        DataKind::Synth,
    ];

    /// The prefix used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Iemocap => "iemocap",
            DataKind::M3ed => "m3ed",
            DataKind::DaicWoz => "daic-woz",
            DataKind::Ravdess => "ravdess",
            DataKind::CremaD => "crema-d",
            DataKind::Emodb => "emodb",
            DataKind::Manifest => "manifest",
            DataKind::Synth => "synth",
        }
    }
}

/// A parsed `--data` value: a corpus kind and its root directory (or manifest file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    pub kind: DataKind,
    /// Corpus root directory; for `manifest` and `synth`, the manifest CSV.
    pub path: PathBuf,
}

impl DataSource {
    /// Parses `kind:path` (`iemocap:/data/IEMOCAP_full_release`, `manifest:data/m.csv`), or
    /// `synth` for the default synthetic corpus ([`DEFAULT_SYNTH_MANIFEST`]). `synth:<dir>` reads
    /// `<dir>/manifest.csv` and `synth:<file.csv>` that file.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        let valid = || {
            let mut kinds: Vec<String> = DataKind::ALL[..7]
                .iter()
                .map(|k| format!("{}:<path>", k.name()))
                .collect();
            kinds.push("synth".to_owned());
            kinds.join(", ")
        };
        let (kind_text, path) = match text.split_once(':') {
            Some((kind, path)) => (kind, Some(path)),
            None => (text, None),
        };
        let Some(kind) = DataKind::ALL
            .into_iter()
            .find(|k| k.name() == kind_text.trim())
        else {
            return Err(DataError::UnknownKind {
                given: kind_text.to_owned(),
                valid: valid(),
            });
        };
        let path = match (kind, path.map(str::trim)) {
            (DataKind::Synth, None | Some("")) => PathBuf::from(DEFAULT_SYNTH_MANIFEST),
            (DataKind::Synth, Some(p)) if !p.ends_with(".csv") => Path::new(p).join("manifest.csv"),
            (_, Some(p)) if !p.is_empty() => PathBuf::from(p),
            _ => {
                return Err(DataError::BadSource {
                    given: text.to_owned(),
                    reason: format!(
                        "`{}` needs a path: --data {}:<path>",
                        kind.name(),
                        kind.name()
                    ),
                });
            }
        };
        Ok(Self { kind, path })
    }

    /// Loads the corpus with its default class set.
    pub fn load(&self) -> Result<Dataset, DataError> {
        self.load_with_classes(None)
    }

    /// Loads the corpus; `classes` fixes the class list (and its order) of a manifest or the
    /// synthetic corpus. The built-in corpora have fixed classes, so `classes` must be `None`.
    pub fn load_with_classes(&self, classes: Option<&[String]>) -> Result<Dataset, DataError> {
        let path = self.path.as_path();
        if classes.is_some() && !matches!(self.kind, DataKind::Manifest | DataKind::Synth) {
            return Err(DataError::BadSource {
                given: self.to_string(),
                reason: format!(
                    "the {} class set is fixed; a class list applies only to manifest and synth",
                    self.kind.name()
                ),
            });
        }
        match self.kind {
            DataKind::Iemocap => load_iemocap(path),
            DataKind::M3ed => load_m3ed(path),
            DataKind::DaicWoz => load_daic_woz(path),
            DataKind::Ravdess => load_ravdess(path),
            DataKind::CremaD => load_crema_d(path),
            DataKind::Emodb => load_emodb(path),
            DataKind::Manifest => load_manifest(path, classes),
            DataKind::Synth => load_manifest_as(
                "synth",
                path,
                classes,
                &SYNTH_CLASS_ORDER,
                " (generate it with `hrf synth`)",
            ),
        }
    }
}

impl FromStr for DataSource {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, DataError> {
        Self::parse(text)
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.name(), self.path.display())
    }
}
