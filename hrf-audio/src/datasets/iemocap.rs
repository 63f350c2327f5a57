//! Data stage 0, IEMOCAP: `Session*/dialog/EmoEvaluation/*.txt` label lines → 4-class
//! utterances (exc merged into hap), one group per session, leave-one-session-out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{
    DataError, Dataset, DatasetBuilder, Evaluation, Protocol, ProtocolKind, Utterance, require_dir,
};

/// The 4-class protocol: `neu`, `ang`, `hap` + `exc`, `sad`.
pub const IEMOCAP_CLASSES: [&str; 4] = ["neutral", "angry", "happy", "sad"];

/// Codes that are valid IEMOCAP labels but outside the 4-class protocol.
const EXCLUDED_CODES: [&str; 6] = ["xxx", "fru", "sur", "fea", "oth", "dis"];

/// Loads an IEMOCAP release rooted at `root` (the directory holding `Session1` … `Session5`, or
/// the one holding `IEMOCAP_full_release/`).
///
/// Speaker = session + the gender letter of the utterance's last token
/// (`Ses01F_impro01_M012` → `Ses01_M`; `Ses01F` names the dialog lead, not the speaker).
/// Group = `Ses01`. Lines that are not `[START - END]` label lines (annotator `C-E1:` lines,
/// `%` headers, blanks) are ignored; malformed label lines, unknown codes, utterances whose id
/// does not match their session, duplicates and missing WAVs are skipped with a reason.
pub fn load_iemocap(root: &Path) -> Result<Dataset, DataError> {
    const KIND: &str = "iemocap";
    require_dir(KIND, root)?;
    let mut sessions = session_dirs(root)?;
    // Accept the directory the release archive was unpacked into, too.
    let release = root.join("IEMOCAP_full_release");
    if sessions.is_empty() && release.is_dir() {
        sessions = session_dirs(&release)?;
    }
    if sessions.is_empty() {
        return Err(DataError::Layout {
            kind: KIND,
            path: root.to_path_buf(),
            problem: "no Session1 … Session5 directories; pass the IEMOCAP_full_release directory"
                .to_owned(),
        });
    }
    let mut builder = DatasetBuilder::new(KIND, root, &IEMOCAP_CLASSES);
    // utterance id → where it was first seen
    let mut seen: HashMap<String, String> = HashMap::new();
    for (number, session_dir) in sessions {
        let eval_dir = session_dir.join("dialog").join("EmoEvaluation");
        if !eval_dir.is_dir() {
            builder.skip(
                eval_dir.display().to_string(),
                "missing dialog/EmoEvaluation directory: no labels for this session",
            );
            continue;
        }
        for label_file in label_files(&eval_dir, &mut builder)? {
            let text = match std::fs::read(&label_file).map(String::from_utf8) {
                Ok(Ok(text)) => text,
                Ok(Err(_)) => {
                    builder.skip(
                        label_file.display().to_string(),
                        "not UTF-8 text; file ignored",
                    );
                    continue;
                }
                Err(err) => {
                    builder.skip(
                        label_file.display().to_string(),
                        format!("unreadable: {err}"),
                    );
                    continue;
                }
            };
            for (line_index, line) in text.lines().enumerate() {
                let location = format!("{}:{}", label_file.display(), line_index + 1);
                parse_label_line(
                    &mut builder,
                    &mut seen,
                    &session_dir,
                    number,
                    line,
                    location,
                );
            }
        }
    }
    Ok(builder.finish(Protocol {
        kind: ProtocolKind::LeaveOneGroupOut,
        evaluation: Evaluation::PerUtterance,
    }))
}

/// `SessionN` directories under `root`, sorted by `N`.
fn session_dirs(root: &Path) -> Result<Vec<(u32, PathBuf)>, DataError> {
    let io = |source| DataError::Io {
        path: root.to_path_buf(),
        source,
    };
    let mut sessions = Vec::new();
    for entry in std::fs::read_dir(root).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("Session"))
            .and_then(|n| n.parse::<u32>().ok());
        if let (Some(number), true) = (number, path.is_dir()) {
            sessions.push((number, path));
        }
    }
    sessions.sort();
    Ok(sessions)
}

/// The `.txt` files directly in `EmoEvaluation/` (its subdirectories `Categorical/`,
/// `Attribute/`… hold per-annotator files and are not read). Hidden files (`._x.txt` from macOS
/// archives) are reported and skipped.
fn label_files(eval_dir: &Path, builder: &mut DatasetBuilder) -> Result<Vec<PathBuf>, DataError> {
    let io = |source| DataError::Io {
        path: eval_dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(eval_dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !path.is_file() || !name.ends_with(".txt") {
            continue;
        }
        if name.starts_with('.') {
            builder.skip(path.display().to_string(), "hidden file, not a label file");
            continue;
        }
        files.push(path);
    }
    files.sort();
    Ok(files)
}

fn parse_label_line(
    builder: &mut DatasetBuilder,
    seen: &mut HashMap<String, String>,
    session_dir: &Path,
    session_number: u32,
    line: &str,
    location: String,
) {
    let line = line.trim();
    if !line.starts_with('[') {
        return;
    }
    let label = match parse_fields(line) {
        Ok(label) => label,
        Err(reason) => return builder.skip(location, reason),
    };
    let expected_session = format!("Ses{session_number:02}");
    if label.session != expected_session {
        return builder.skip(
            location,
            format!(
                "utterance `{}` belongs to {} but is listed under Session{session_number}",
                label.id, label.session
            ),
        );
    }
    let class = match label.code {
        "hap" | "exc" => "happy",
        "neu" => "neutral",
        "ang" => "angry",
        "sad" => "sad",
        code if EXCLUDED_CODES.contains(&code) => return builder.exclude(code),
        code => {
            return builder.skip(
                location,
                format!(
                    "unknown emotion code `{code}` (IEMOCAP codes: neu ang sad hap exc fru sur fea dis oth xxx)"
                ),
            );
        }
    };
    if let Some(first) = seen.get(label.id) {
        return builder.skip(
            location,
            format!("duplicate utterance `{}` (first at {first})", label.id),
        );
    }
    seen.insert(label.id.to_owned(), location.clone());
    let wav = session_dir
        .join("sentences")
        .join("wav")
        .join(label.dialog)
        .join(format!("{}.wav", label.id));
    if let Some(reason) = crate::wav::unusable_audio_file("WAV", &wav) {
        return builder.skip(location, reason);
    }
    let Some(class) = builder.class_index(class) else {
        return builder.skip(
            location,
            format!("class `{class}` is not in the class list"),
        );
    };
    builder.push(Utterance {
        id: label.id.to_owned(),
        path: wav,
        label: class,
        speaker: format!("{}_{}", label.session, label.gender),
        group: Some(label.session.to_owned()),
        segment: None,
    });
}

/// The fields of one `[START - END]<TAB>UTT_ID<TAB>EMO<TAB>[V, A, D]` line.
struct LabelLine<'a> {
    id: &'a str,
    /// `id` without its last `_F000` token: the `sentences/wav/` subdirectory.
    dialog: &'a str,
    /// `Ses01`.
    session: &'a str,
    /// `F` or `M`: the actual speaker's gender.
    gender: char,
    code: &'a str,
}

fn parse_fields(line: &str) -> Result<LabelLine<'_>, String> {
    let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
    if fields.len() < 3 {
        return Err(format!(
            "malformed label line (expected `[START - END]<TAB>UTT_ID<TAB>EMO<TAB>[V, A, D]`): `{line}`"
        ));
    }
    let span = fields[0]
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'));
    let times = span
        .and_then(|s| s.split_once(" - "))
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
    match times {
        Some((start, end)) if start.is_finite() && end.is_finite() && start <= end => {}
        _ => {
            return Err(format!(
                "malformed time span `{}` (expected `[START - END]`)",
                fields[0]
            ));
        }
    }
    let id = fields[1];
    let Some((dialog, last)) = id.rsplit_once('_') else {
        return Err(format!(
            "utterance id `{id}` has no `_F000`-style speaker token"
        ));
    };
    let mut last_chars = last.chars();
    let gender = last_chars.next().filter(|g| *g == 'F' || *g == 'M');
    let Some(gender) = gender.filter(|_| {
        let digits = last_chars.as_str();
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }) else {
        return Err(format!(
            "utterance id `{id}`: last token `{last}` is not F/M followed by digits"
        ));
    };
    let session = id
        .get(..5)
        .filter(|s| s.starts_with("Ses") && s[3..].bytes().all(|b| b.is_ascii_digit()));
    let Some(session) = session else {
        return Err(format!("utterance id `{id}` does not start with `SesNN`"));
    };
    let code = fields[2];
    if code.is_empty() {
        return Err(format!("empty emotion code for `{id}`"));
    }
    Ok(LabelLine {
        id,
        dialog,
        session,
        gender,
        code,
    })
}
