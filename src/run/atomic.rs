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

/// Checks, without creating or writing anything, that [`ensure_writable_dir`] can succeed
/// later: `dir` is a directory the process may write in, or does not exist yet and its nearest
/// existing ancestor is one. Commands call it before their slow checks (data, options) and
/// create the directory only once those have passed, so that a refused command leaves nothing.
pub fn check_dir_creatable(dir: &Path) -> Result<(), RunError> {
    if dir.exists() && !dir.is_dir() {
        return Err(RunError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let unwritable = |source| RunError::Unwritable {
        path: dir.to_path_buf(),
        source,
    };
    let existing = dir
        .ancestors()
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(unwritable(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is a file", existing.display()),
        )));
    }
    may_write_in(existing).map_err(unwritable)
}

/// Whether the process may create entries in the directory `dir` (`access(2)`, W_OK | X_OK).
#[cfg(unix)]
fn may_write_in(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call; access only reads it.
    match unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(not(unix))]
fn may_write_in(dir: &Path) -> std::io::Result<()> {
    match std::fs::metadata(dir)?.permissions().readonly() {
        true => Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        false => Ok(()),
    }
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

    #[test]
    fn check_dir_creatable_creates_nothing_and_refuses_a_path_below_a_file() {
        let dir = std::env::temp_dir().join(format!("hrf-creatable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let deep = dir.join("a/b/c");
        check_dir_creatable(&deep).unwrap();
        assert!(
            !dir.exists(),
            "check_dir_creatable created {}",
            dir.display()
        );

        ensure_writable_dir(&dir).unwrap();
        let file = dir.join("file");
        write_text_atomic(&file, "x").unwrap();
        let below = file.join("run");
        assert_eq!(
            check_dir_creatable(&below).unwrap_err().to_string(),
            format!(
                "output directory {} is not writable ({} is a file); choose another --out or \
                 fix its permissions",
                below.display(),
                file.display()
            )
        );
        assert!(matches!(
            check_dir_creatable(&file),
            Err(RunError::NotADirectory { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
