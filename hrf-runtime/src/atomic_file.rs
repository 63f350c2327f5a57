//! Files that must survive a crash (checkpoints, folded weights, run records): written whole or
//! not at all.

use std::format;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: `.<name>.tmp-<pid>` in the same directory is written,
/// flushed to disk (fsync) and renamed over `path`, so a crash or `kill -9` at any point leaves
/// either the previous file or the new one, never half of one. The directory is then synced
/// (best effort) so the rename itself survives a power cut. On error the temporary is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    // Best effort: some filesystems refuse to open directories for syncing.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
