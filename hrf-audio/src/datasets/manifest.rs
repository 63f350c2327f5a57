//! Data stage 0, generic manifest: CSV `path,label,speaker[,session]` (paths relative to the
//! manifest) → utterances; leave-one-session-out with a session column, else speaker folds.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::csv_row::split_row;
use super::{
    DataError, Dataset, DatasetBuilder, Evaluation, Protocol, ProtocolKind, SPEAKER_FOLDS,
    Utterance,
};

/// Loads the manifest at `path`. A first line `path,label,speaker[,session]` (any case) is a
/// header and optional; fields may be quoted. The column count (3 or 4) is fixed by the header
/// or the first row; rows with another count, empty fields, duplicate paths or missing WAVs
/// are skipped with a reason. `classes = None` uses the sorted distinct labels of the usable
/// rows; a given list keeps its order and counts other labels as excluded.
pub fn load_manifest(path: &Path, classes: Option<&[String]>) -> Result<Dataset, DataError> {
    load_manifest_as("manifest", path, classes, &[], "")
}

/// The longest field a manifest row may hold: 4096 bytes, Linux's PATH_MAX; a longer path could
/// not be opened, so the row is skipped before it is joined to the manifest's directory.
pub const MAX_FIELD_BYTES: usize = 4096;

/// The longest manifest line judged as a row (four maximal fields and their quoting); longer
/// lines are skipped without being split.
pub const MAX_LINE_BYTES: usize = 4 * (2 * MAX_FIELD_BYTES + 3);

/// The largest manifest file read: 256 MiB, over a million rows of maximal paths. A larger
/// file is refused from its metadata before any byte is read.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;

/// The manifest's text, refused when over [`MAX_MANIFEST_BYTES`] or not UTF-8 (a leading BOM
/// is dropped).
fn read_manifest_text(path: &Path) -> Result<String, DataError> {
    let bytes = super::read_capped(path, MAX_MANIFEST_BYTES).map_err(|e| match e {
        super::CappedError::TooLarge(size) => DataError::ManifestTooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_MANIFEST_BYTES,
        },
        super::CappedError::Io(source) => DataError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|e| DataError::ManifestNotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// One usable manifest row before labels are mapped to class indices.
struct Row {
    id: String,
    wav: PathBuf,
    label: String,
    speaker: String,
    session: Option<String>,
}

/// [`load_manifest`] under another dataset name (`synth`): without a class list, labels found
/// in `preferred_order` come first in that order, the rest sorted after them; `hint` is
/// appended to the missing-file error.
pub(crate) fn load_manifest_as(
    kind: &'static str,
    path: &Path,
    classes: Option<&[String]>,
    preferred_order: &[&str],
    hint: &'static str,
) -> Result<Dataset, DataError> {
    if !path.is_file() {
        return Err(DataError::MissingManifest {
            kind,
            path: path.to_path_buf(),
            hint,
        });
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let text = read_manifest_text(path)?;
    let mut builder = DatasetBuilder::with_classes(kind, path, Vec::new());
    // (column count, line that fixed it)
    let mut columns: Option<(usize, usize)> = None;
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::new();
    let mut header_line = None;
    let mut data_lines = 0usize;
    for (line_index, line) in text.lines().enumerate() {
        let line_number = line_index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("{}:{line_number}", path.display());
        data_lines += 1;
        // Judged before splitting, so a runaway line is never copied into fields.
        if line.len() > MAX_LINE_BYTES {
            builder.skip(
                location,
                format!(
                    "line is {} bytes, over the {MAX_LINE_BYTES}-byte limit for a row; a row is \
                     path,label,speaker[,session] (is a quote left open, or is this not a CSV?)",
                    line.len()
                ),
            );
            continue;
        }
        let fields = match split_row(line, ',') {
            Ok(fields) => fields,
            Err(reason) => {
                builder.skip(location, reason);
                continue;
            }
        };
        let is_header = columns.is_none()
            && fields.len() >= 2
            && fields[0].eq_ignore_ascii_case("path")
            && fields[1].eq_ignore_ascii_case("label");
        let expected = match columns {
            Some((count, _)) => count,
            None if matches!(fields.len(), 3 | 4) => {
                columns = Some((fields.len(), line_number));
                fields.len()
            }
            None => {
                builder.skip(
                    location,
                    format!(
                        "{} fields; a manifest row is path,label,speaker[,session]",
                        fields.len()
                    ),
                );
                continue;
            }
        };
        if is_header {
            header_line = Some(line_number);
            continue;
        }
        if let Some((name, value)) = ["path", "label", "speaker", "session"]
            .iter()
            .zip(&fields)
            .find(|(_, value)| value.len() > MAX_FIELD_BYTES)
        {
            builder.skip(
                location,
                format!(
                    "the {name} field is {} bytes, over the {MAX_FIELD_BYTES}-byte limit; \
                     shorten it (a path longer than PATH_MAX cannot be opened)",
                    value.len()
                ),
            );
            continue;
        }
        if fields.len() != expected {
            let since = columns.map_or(line_number, |(_, line)| line);
            builder.skip(
                location,
                format!(
                    "{} fields, expected {expected} as set by line {since}",
                    fields.len()
                ),
            );
            continue;
        }
        if let Some(empty) = ["path", "label", "speaker", "session"]
            .iter()
            .zip(&fields)
            .find(|(_, value)| value.is_empty())
        {
            builder.skip(location, format!("empty {} field", empty.0));
            continue;
        }
        if let Some(first) = first_line_of.get(&fields[0]) {
            builder.skip(
                location,
                format!("duplicate path `{}` (first on line {first})", fields[0]),
            );
            continue;
        }
        first_line_of.insert(fields[0].clone(), line_number);
        let wav = base.join(&fields[0]);
        if let Some(reason) = crate::wav::unusable_audio_file("WAV", &wav) {
            builder.skip(location, reason);
            continue;
        }
        let mut fields = fields.into_iter();
        let (id, label, speaker) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        rows.push(Row {
            id,
            wav,
            label,
            speaker,
            session: fields.next(),
        });
    }

    // Only blank lines, or only a header: nothing to load, and nothing to skip either.
    if data_lines == usize::from(header_line.is_some()) {
        return Err(DataError::Layout {
            kind,
            path: path.to_path_buf(),
            problem: format!(
                "{}; add one row per utterance, `path,label,speaker[,session]` with the path \
                 relative to the manifest, e.g. `audio/a01.wav,angry,spk01`",
                match header_line {
                    Some(line) => format!("only a header (line {line}), no rows"),
                    None => "the manifest is empty (no rows)".to_owned(),
                }
            ),
        });
    }
    builder.classes = match classes {
        Some(given) => given.to_vec(),
        None => {
            let mut found: Vec<String> = rows
                .iter()
                .map(|r| r.label.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            // Stable: labels outside `preferred_order` keep their sorted order at the end.
            found.sort_by_key(|label| {
                preferred_order
                    .iter()
                    .position(|p| p == label)
                    .unwrap_or(preferred_order.len())
            });
            found
        }
    };
    for row in rows {
        match builder.class_index(&row.label) {
            Some(label) => builder.push(Utterance {
                id: row.id,
                path: row.wav,
                label,
                speaker: row.speaker,
                group: row.session,
                segment: None,
            }),
            None => builder.exclude(&row.label),
        }
    }
    let kind = match columns {
        Some((4, _)) => ProtocolKind::LeaveOneGroupOut,
        _ => ProtocolKind::SpeakerFolds { k: SPEAKER_FOLDS },
    };
    Ok(builder.finish(Protocol {
        kind,
        evaluation: Evaluation::PerUtterance,
    }))
}
