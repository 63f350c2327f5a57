//! Corpus feature extraction: WAV files → log-Mel features in parallel, cached on disk by
//! file content and front-end config.
//!
//! Cache file `<blake3(wav bytes)>-<blake3(config)[..32 hex]>.hrffeat`, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `HRFFEAT\0` |
//! | 4 | format version (u32) |
//! | 4 | frames (u32) |
//! | 4 | bins (u32) |
//! | 32 | blake3 of the WAV bytes |
//! | 32 | config fingerprint ([`FrontendConfig::fingerprint`]) |
//! | 4·frames·bins | features, f32, row-major (frames, bins) |
//! | 32 | blake3 of everything above (detects truncation and bit rot) |
//!
//! A file that fails any check is treated as a miss and rewritten; writes go to a temporary
//! file in the same directory and are renamed into place, so readers never see half a file.

use super::Features;
use super::config::FrontendConfig;
use super::logmel::LogMelExtractor;
use crate::AudioError;
use crate::resample::resample;
use crate::wav::decode_wav;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const MAGIC: &[u8; 8] = b"HRFFEAT\0";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 32 + 32;
const CHECKSUM_LEN: usize = 32;

/// What the cache did for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheOutcome {
    /// Valid cache file found and used.
    Hit,
    /// No cache file: computed and stored.
    Computed,
    /// A cache file existed but failed validation: recomputed and overwritten.
    Repaired,
}

/// Features of a corpus: one result per input file, in the order of the paths given.
///
/// A file that cannot be read, decoded or analysed does not stop the others; its entry holds
/// an error naming the file and the reason, and the caller decides whether to skip it, report
/// it or fail ([`CorpusFeatures::into_complete`]).
#[derive(Debug)]
pub struct CorpusFeatures {
    /// (files,) — the features of file `i`, or why file `i` could not be extracted.
    pub per_file: Vec<Result<Features, AudioError>>,
    /// How many files were read from the cache rather than computed.
    pub cached: usize,
}

impl CorpusFeatures {
    /// `(index into the paths, error)` of every file that failed, in input order.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &AudioError)> {
        self.per_file
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
    }

    /// Number of files whose features were extracted (or read from the cache).
    pub fn extracted(&self) -> usize {
        self.per_file.iter().filter(|r| r.is_ok()).count()
    }

    /// Every file's features in input order, or the first failure when any file failed: for
    /// callers that need the whole corpus.
    ///
    /// # Errors
    /// The first failing file's error (it names the file).
    pub fn into_complete(self) -> Result<Vec<Features>, AudioError> {
        self.per_file.into_iter().collect()
    }
}

/// Extracts features for every file with a progress bar on stderr (hidden when stderr is not a
/// terminal), collecting each file's result in the order of `paths`.
///
/// Each file is resampled to `cfg.sample_rate` and analysed with `cfg`; results are cached in
/// `cache_dir` (created if missing) under a key made of the file's bytes and `cfg`, so editing
/// either never reuses stale features. A corrupt, truncated or unreadable file is recorded in
/// its entry of `CorpusFeatures::per_file` and the other files are still extracted.
///
/// # Errors
/// Only problems that concern every file: [`AudioError::InvalidConfig`] for a bad `cfg`,
/// [`AudioError::Cache`] if `cache_dir` cannot be created.
pub fn extract_all(
    paths: &[PathBuf],
    cfg: &FrontendConfig,
    cache_dir: &Path,
) -> Result<CorpusFeatures, AudioError> {
    let bar = ProgressBar::new(paths.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("features {bar:40} {pos}/{len} files {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    extract_all_with_progress(paths, cfg, cache_dir, &bar)
}

/// [`extract_all`] reporting to a caller-owned progress bar (one tick per file).
///
/// # Errors
/// As [`extract_all`].
pub fn extract_all_with_progress(
    paths: &[PathBuf],
    cfg: &FrontendConfig,
    cache_dir: &Path,
    bar: &ProgressBar,
) -> Result<CorpusFeatures, AudioError> {
    let extractor = LogMelExtractor::new(cfg)?;
    std::fs::create_dir_all(cache_dir).map_err(|e| AudioError::Cache {
        path: cache_dir.to_path_buf(),
        reason: format!("cannot create the directory: {e}"),
    })?;
    let config_fp = cfg.fingerprint();
    let hits = AtomicUsize::new(0);
    let per_file: Vec<Result<Features, AudioError>> = paths
        .par_iter()
        .map(|path| {
            let result = extract_one(path, &extractor, &config_fp, cache_dir);
            bar.inc(1);
            let (features, outcome) = result?;
            if outcome == CacheOutcome::Hit {
                hits.fetch_add(1, Ordering::Relaxed);
            }
            Ok(features)
        })
        .collect();
    let cached = hits.into_inner();
    let failed = per_file.iter().filter(|r| r.is_err()).count();
    bar.finish_with_message(format!(
        "{cached} cached, {} computed, {failed} failed",
        paths.len() - cached - failed
    ));
    Ok(CorpusFeatures { per_file, cached })
}

/// Features of one WAV file, from the cache when valid.
fn extract_one(
    path: &Path,
    extractor: &LogMelExtractor,
    config_fp: &[u8; 32],
    cache_dir: &Path,
) -> Result<(Features, CacheOutcome), AudioError> {
    let in_file = |source: AudioError| AudioError::InFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let bytes = std::fs::read(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let content = *blake3::hash(&bytes).as_bytes();
    let cache_path = cache_dir.join(cache_file_name(&content, config_fp));
    let existed = cache_path.exists();
    if existed && let Some(features) = read_cached(&cache_path, &content, config_fp) {
        return Ok((features, CacheOutcome::Hit));
    }
    let audio = decode_wav(&bytes, path)?;
    let rate = extractor.config().sample_rate;
    let samples = resample(&audio.samples, audio.sample_rate, rate).map_err(in_file)?;
    let features = extractor.compute(&samples).map_err(in_file)?;
    write_cached(&cache_path, &features, &content, config_fp)?;
    let outcome = if existed {
        CacheOutcome::Repaired
    } else {
        CacheOutcome::Computed
    };
    Ok((features, outcome))
}

fn cache_file_name(content: &[u8; 32], config_fp: &[u8; 32]) -> String {
    let config_hex = blake3::Hash::from(*config_fp).to_hex();
    format!(
        "{}-{}.hrffeat",
        blake3::Hash::from(*content).to_hex(),
        &config_hex[..32]
    )
}

/// Reads a cache file; `None` if it is missing, truncated, corrupted, of another format
/// version, or was written for other WAV bytes or another config.
pub(crate) fn read_cached(
    path: &Path,
    content: &[u8; 32],
    config_fp: &[u8; 32],
) -> Option<Features> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN || &bytes[..8] != MAGIC {
        return None;
    }
    let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if blake3::hash(body).as_bytes() != checksum {
        return None;
    }
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?))
    };
    let (version, frames, bins) = (u32_at(8)?, u32_at(12)? as usize, u32_at(16)? as usize);
    if version != FORMAT_VERSION || &body[20..52] != content || &body[52..84] != config_fp {
        return None;
    }
    let payload = &body[HEADER_LEN..];
    if payload.len() != frames.checked_mul(bins)?.checked_mul(4)? {
        return None;
    }
    let data = payload
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(Features { frames, bins, data })
}

/// Writes a cache file atomically (temporary file in the same directory, then rename).
pub(crate) fn write_cached(
    path: &Path,
    features: &Features,
    content: &[u8; 32],
    config_fp: &[u8; 32],
) -> Result<(), AudioError> {
    let cache_error = |reason: String| AudioError::Cache {
        path: path.to_path_buf(),
        reason,
    };
    let frames =
        u32::try_from(features.frames).map_err(|_| cache_error("too many frames".into()))?;
    let bins = u32::try_from(features.bins).map_err(|_| cache_error("too many bins".into()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + 4 * features.data.len() + CHECKSUM_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&frames.to_le_bytes());
    bytes.extend_from_slice(&bins.to_le_bytes());
    bytes.extend_from_slice(content);
    bytes.extend_from_slice(config_fp);
    for v in &features.data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let checksum = blake3::hash(&bytes);
    bytes.extend_from_slice(checksum.as_bytes());

    // Unique per process and thread, so parallel writers of the same key never share a temp file.
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("features");
    let tmp = path.with_file_name(format!(
        ".{file_name}.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&tmp, &bytes)
        .map_err(|e| cache_error(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        cache_error(format!("cannot move {} into place: {e}", tmp.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::config::LogCompression;
    use crate::wav::write_wav_16k;

    fn corpus(dir: &Path) -> Vec<PathBuf> {
        (0..3)
            .map(|i| {
                let path = dir.join(format!("utt{i}.wav"));
                let f = 300.0 + 200.0 * i as f32;
                let x: Vec<f32> = (0..3_200 + 800 * i)
                    .map(|n| 0.3 * (std::f32::consts::TAU * f * n as f32 / 16_000.0).sin())
                    .collect();
                write_wav_16k(&path, &x).expect("write wav");
                path
            })
            .collect()
    }

    fn cache_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn cache_hit_miss_config_change_and_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let paths = corpus(dir.path());
        let cfg = FrontendConfig::default();
        let extractor = LogMelExtractor::new(&cfg).expect("cfg");
        let fp = cfg.fingerprint();

        let (first, outcome) = extract_one(&paths[1], &extractor, &fp, &{
            std::fs::create_dir_all(&cache).expect("mkdir");
            cache.clone()
        })
        .expect("extract");
        assert_eq!(outcome, CacheOutcome::Computed);
        assert_eq!((first.frames, first.bins), (1 + 4_000 / 160, 64));
        let (again, outcome) = extract_one(&paths[1], &extractor, &fp, &cache).expect("extract");
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(again, first);

        // Flip one feature byte: the checksum catches it, the file is recomputed and rewritten.
        let file = cache_files(&cache).pop().expect("one cache file");
        let mut bytes = std::fs::read(&file).expect("read");
        bytes[HEADER_LEN + 5] ^= 0x40;
        std::fs::write(&file, &bytes).expect("write");
        let (repaired, outcome) = extract_one(&paths[1], &extractor, &fp, &cache).expect("extract");
        assert_eq!(outcome, CacheOutcome::Repaired);
        assert_eq!(repaired, first);
        // Truncated to a few bytes: same.
        std::fs::write(&file, &bytes[..10]).expect("write");
        let (_, outcome) = extract_one(&paths[1], &extractor, &fp, &cache).expect("extract");
        assert_eq!(outcome, CacheOutcome::Repaired);
        assert_eq!(
            extract_one(&paths[1], &extractor, &fp, &cache)
                .expect("x")
                .1,
            CacheOutcome::Hit
        );

        // A changed config gets its own key: recomputed, different values, the old file stays.
        let mut other = cfg.clone();
        other.log = LogCompression::Offset(1e-3);
        let other_extractor = LogMelExtractor::new(&other).expect("cfg");
        let (changed, outcome) =
            extract_one(&paths[1], &other_extractor, &other.fingerprint(), &cache).expect("x");
        assert_eq!(outcome, CacheOutcome::Computed);
        assert_ne!(changed, first);
        assert_eq!(cache_files(&cache).len(), 2);

        // Changing the WAV bytes changes the key too.
        write_wav_16k(&paths[1], &vec![0.1; 4_000]).expect("rewrite");
        let (_, outcome) = extract_one(&paths[1], &extractor, &fp, &cache).expect("extract");
        assert_eq!(outcome, CacheOutcome::Computed);
    }

    #[test]
    fn extract_all_keeps_order_and_matches_direct_computation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let paths = corpus(dir.path());
        let cfg = FrontendConfig::kaldi_fbank(40);
        let hidden = ProgressBar::hidden();
        let first = extract_all_with_progress(&paths, &cfg, &cache, &hidden).expect("extract");
        assert_eq!((first.cached, first.extracted()), (0, 3));
        let all = first.into_complete().expect("every file extracts");
        let extractor = LogMelExtractor::new(&cfg).expect("cfg");
        for (path, feats) in paths.iter().zip(&all) {
            let direct = extractor
                .compute(&crate::wav::load_mono_16k(path).expect("load"))
                .expect("compute");
            assert_eq!(&direct, feats);
        }
        let again = extract_all_with_progress(&paths, &cfg, &cache, &hidden).expect("extract");
        assert_eq!(again.cached, 3);
        assert_eq!(again.into_complete().expect("every file extracts"), all);
        // No temporary files are left behind.
        assert!(
            cache_files(&cache)
                .iter()
                .all(|p| p.extension().is_some_and(|e| e == "hrffeat"))
        );
    }

    #[test]
    fn corrupt_files_are_reported_with_path_and_reason_and_the_rest_extracted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = corpus(dir.path());
        let not_wav = dir.path().join("notes.wav");
        std::fs::write(&not_wav, b"not audio").expect("write");
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").expect("write");
        // A valid file cut in the middle of its data chunk.
        let truncated = dir.path().join("truncated.wav");
        let bytes = std::fs::read(&good[2]).expect("read");
        std::fs::write(&truncated, &bytes[..bytes.len() - 1001]).expect("write");
        let missing = dir.path().join("missing.wav");
        // Bad files first, between and last: order must be kept around them.
        let paths = vec![
            not_wav.clone(),
            good[0].clone(),
            empty.clone(),
            good[1].clone(),
            truncated.clone(),
            good[2].clone(),
            missing.clone(),
        ];
        let cfg = FrontendConfig::default();
        let corpus_features = extract_all_with_progress(
            &paths,
            &cfg,
            &dir.path().join("cache"),
            &ProgressBar::hidden(),
        )
        .expect("only per-file errors");
        assert_eq!(corpus_features.per_file.len(), 7);
        assert_eq!(corpus_features.extracted(), 3);

        let failures: Vec<(usize, String)> = corpus_features
            .failures()
            .map(|(i, e)| (i, e.to_string()))
            .collect();
        let indices: Vec<usize> = failures.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 2, 4, 6]);
        let expected_starts = [
            format!("{} is not a WAV file", not_wav.display()),
            format!("{} is empty (0 bytes)", empty.display()),
            format!("{} is truncated", truncated.display()),
            format!("cannot read {}", missing.display()),
        ];
        for ((_, message), start) in failures.iter().zip(&expected_starts) {
            assert!(message.starts_with(start.as_str()), "{message}");
        }

        // The good files carry exactly the features a direct computation gives.
        let extractor = LogMelExtractor::new(&cfg).expect("cfg");
        for (i, path) in [(1, &good[0]), (3, &good[1]), (5, &good[2])] {
            let direct = extractor
                .compute(&crate::wav::load_mono_16k(path).expect("load"))
                .expect("compute");
            match &corpus_features.per_file[i] {
                Ok(features) => assert_eq!(features, &direct),
                Err(e) => panic!("{} failed: {e}", path.display()),
            }
        }
        // A caller that needs every file gets the first failure, naming its file.
        let first = corpus_features
            .into_complete()
            .expect_err("four files fail");
        assert!(
            first.to_string().starts_with(&expected_starts[0]),
            "{first}"
        );
    }
}
