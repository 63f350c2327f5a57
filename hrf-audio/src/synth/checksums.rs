//! Synthetic corpus, integrity: the blake3 checksum file (`checksums.b3`, `b3sum` format) that
//! makes two generations comparable and lets an existing corpus be reused safely.

use std::path::Path;

use rayon::prelude::*;

use super::error::SynthError;

/// blake3 of a file's bytes, as 64 lowercase hex digits.
pub fn hash_file(path: &Path) -> Result<String, SynthError> {
    let bytes = std::fs::read(path).map_err(|source| SynthError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

/// Writes `(relative path, hex)` entries sorted by path, one `<hex>  <path>` line each (the
/// format `b3sum --check` reads, so the file can also be verified without hrf).
pub fn write(path: &Path, mut entries: Vec<(String, String)>) -> Result<(), SynthError> {
    entries.sort();
    let text: String = entries
        .iter()
        .map(|(file, hash)| format!("{hash}  {file}\n"))
        .collect();
    std::fs::write(path, text).map_err(|source| SynthError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a checksum file into `(relative path, hex)` entries.
///
/// # Errors
/// [`SynthError::Checksum`] naming the first malformed line.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, SynthError> {
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses checksum-file text (`path` names it in errors).
///
/// # Errors
/// [`SynthError::Checksum`] naming the first malformed line.
pub fn parse(text: &str, path: &Path) -> Result<Vec<(String, String)>, SynthError> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let malformed = || SynthError::Checksum {
                path: path.to_path_buf(),
                detail: format!("line {} is not `<64 hex digits>  <path>`: {line:?}", i + 1),
            };
            let (hash, file) = line.split_once("  ").ok_or_else(malformed)?;
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || file.is_empty() {
                return Err(malformed());
            }
            Ok((file.to_owned(), hash.to_owned()))
        })
        .collect()
}

/// Re-hashes every file the checksum file in `dir` lists (in parallel) and compares.
/// Returns the number of files verified.
///
/// # Errors
/// [`SynthError::Checksum`] naming the first file that is missing or differs, or
/// [`SynthError::Io`] if the checksum file itself cannot be read.
pub fn verify(dir: &Path, checksum_file: &str) -> Result<usize, SynthError> {
    let path = dir.join(checksum_file);
    let entries = read(&path)?;
    verify_entries(dir, &entries, &path, "expected", "the checksum file")
}

/// Re-hashes every `(relative path, hex)` of `entries` under `dir` (in parallel) and compares.
/// Errors name `list` (where the entries come from): a file that differs "has blake3 …,
/// `{expected}` …"; one that cannot be read is one `{lister}` lists.
pub fn verify_entries(
    dir: &Path,
    entries: &[(String, String)],
    list: &Path,
    expected: &str,
    lister: &str,
) -> Result<usize, SynthError> {
    entries.par_iter().try_for_each(|(file, hash)| {
        let found = hash_file(&dir.join(file)).map_err(|e| SynthError::Checksum {
            path: list.to_path_buf(),
            detail: format!("{file} cannot be read ({e}); {lister} lists it"),
        })?;
        if &found != hash {
            return Err(SynthError::Checksum {
                path: list.to_path_buf(),
                detail: format!("{file} has blake3 {found}, {expected} {hash}"),
            });
        }
        Ok(())
    })?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_of_known_input_matches_blake3_reference() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("abc");
        std::fs::write(&file, b"abc").expect("write");
        // BLAKE3 test vector: blake3("abc").
        assert_eq!(
            hash_file(&file).expect("hash"),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
    }

    #[test]
    fn verify_accepts_intact_files_and_names_a_changed_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("wav")).expect("mkdir");
        std::fs::write(dir.path().join("wav/b.wav"), b"bbb").expect("write");
        std::fs::write(dir.path().join("a.csv"), b"aaa").expect("write");
        let entries = ["wav/b.wav", "a.csv"]
            .iter()
            .map(|f| (f.to_string(), hash_file(&dir.path().join(f)).expect("hash")))
            .collect();
        write(&dir.path().join("sums.b3"), entries).expect("write sums");
        let text = std::fs::read_to_string(dir.path().join("sums.b3")).expect("read");
        assert!(
            text.lines().next().is_some_and(|l| l.ends_with("  a.csv")),
            "sorted: {text}"
        );
        assert_eq!(verify(dir.path(), "sums.b3").expect("verifies"), 2);

        std::fs::write(dir.path().join("wav/b.wav"), b"bbc").expect("write");
        let message = verify(dir.path(), "sums.b3").unwrap_err().to_string();
        assert!(message.contains("wav/b.wav has blake3"), "{message}");
        assert!(message.contains("hrf synth --force"), "{message}");
    }

    #[test]
    fn malformed_checksum_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sums = dir.path().join("sums.b3");
        std::fs::write(
            &sums,
            format!("{}  ok.wav\nnot a checksum\n", "0".repeat(64)),
        )
        .expect("write");
        let message = read(&sums).unwrap_err().to_string();
        assert!(message.contains("line 2"), "{message}");
    }
}
