//! Run files: atomic writes (temporary file + fsync + rename) so that a crash or `kill -9` at
//! any point leaves either the previous file or the new one, never half of one.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::RunError;

/// Writes `bytes` to `path` atomically (see [`hrf_runtime::atomic_file::write_atomically`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    hrf_runtime::atomic_file::write_atomically(path, bytes).map_err(|source| RunError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// [`write_atomic`] for text.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), RunError> {
    write_atomic(path, text.as_bytes())
}

/// Creates `dir` (and its parents) and proves it is writable by writing and removing a probe
/// file, so that a command fails before any work instead of after an hour of training.
pub fn ensure_writable_dir(dir: &Path) -> Result<(), RunError> {
    if dir.exists() && !dir.is_dir() {
        return Err(RunError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| RunError::Unwritable {
        path: dir.to_path_buf(),
        source,
    })?;
    let probe = dir.join(format!(".hrf-write-probe-{}", std::process::id()));
    File::create(&probe)
        .and_then(|mut f| f.write_all(b"probe"))
        .map_err(|source| RunError::Unwritable {
            path: dir.to_path_buf(),
            source,
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Checks that the file `path` can be created: its directory is writable (see
/// [`ensure_writable_dir`]) and `path` is not a directory.
pub fn ensure_writable_file(path: &Path) -> Result<(), RunError> {
    if path.is_dir() {
        return Err(RunError::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    ensure_writable_dir(&parent_dir(path))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("hrf-atomic-{}", std::process::id()));
        ensure_writable_dir(&dir).unwrap();
        let path = dir.join("a.txt");
        write_text_atomic(&path, "one").unwrap();
        write_text_atomic(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt"]);
        assert!(matches!(
            ensure_writable_file(&dir),
            Err(RunError::IsADirectory { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
