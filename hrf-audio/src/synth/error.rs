//! Errors of the synthetic-corpus stage (`hrf synth`): espeak-ng, output files, checksums, check.

use std::path::PathBuf;

use crate::AudioError;

/// Everything that can go wrong while generating, verifying or checking the synthetic corpus.
/// Each message names the program, clip or file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The espeak-ng binary could not be started.
    #[error(
        "espeak-ng is not available (could not run `{}`: {source}); install it with \
         `apt-get install espeak-ng` (Debian/Ubuntu), or set HRF_ESPEAK_NG to the path of the \
         espeak-ng binary",
        .program.display()
    )]
    EspeakMissing {
        program: PathBuf,
        source: std::io::Error,
    },
    /// `espeak-ng --version` did not report a data directory.
    #[error(
        "`{} --version` did not report its data directory (output: {output:?}); \
         reinstall espeak-ng (`apt-get install --reinstall espeak-ng`)",
        .program.display()
    )]
    EspeakVersion { program: PathBuf, output: String },
    /// A file of espeak-ng's own data could not be copied into the private data directory.
    #[error(
        "cannot copy espeak-ng data file {} to {}: {source}; \
         reinstall espeak-ng or check that the output directory is writable",
        .from.display(), .to.display()
    )]
    EspeakData {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    /// espeak-ng exited with an error for one clip.
    #[error("espeak-ng failed on clip {clip} ({status}); its stderr: {stderr}")]
    EspeakFailed {
        clip: String,
        status: String,
        stderr: String,
    },
    /// espeak-ng exited successfully but its stdout is not the expected WAV stream.
    #[error("espeak-ng produced unusable audio for clip {clip}: {reason}; stderr: {stderr}")]
    EspeakOutput {
        clip: String,
        reason: String,
        stderr: String,
    },
    /// Resampling or writing one clip failed.
    #[error("clip {clip}: {source}")]
    Audio { clip: String, source: AudioError },
    /// A corpus file could not be read or written.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration asks for something impossible.
    #[error("invalid synth option `{field}`: {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    /// The checksum file lists a file whose content changed, or is malformed.
    #[error("checksum mismatch in {}: {detail}; regenerate with `hrf synth --force`", .path.display())]
    Checksum { path: PathBuf, detail: String },
    /// `--check` found no corpus or an unusable manifest.
    #[error("{}: {reason}", .path.display())]
    Corpus { path: PathBuf, reason: String },
    /// `--check` could not read one clip.
    #[error("cannot analyse {}: {source}", .path.display())]
    Analysis { path: PathBuf, source: AudioError },
}
