//! Errors of the audio front-end (WAV I/O → resampling → log-Mel → feature cache → CMVN).

use std::path::PathBuf;

/// Everything that can go wrong between a WAV file on disk and normalised log-Mel features.
///
/// Every variant that concerns a file names it, says what was wrong and, where there is one,
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read at the OS level.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The path is a directory, FIFO, device or socket, checked before it is opened (reading a
    /// FIFO blocks forever and `/dev/zero` never ends).
    #[error(
        "{} is {what}, not a regular file; pass the path of a RIFF/WAVE file",
        .path.display()
    )]
    NotAFile { path: PathBuf, what: &'static str },
    /// The file is larger than [`crate::wav::MAX_WAV_BYTES`]; it is not read.
    #[error(
        "{} is {bytes} bytes, over the {max_bytes}-byte limit for one WAV file; cut it into \
         utterances (e.g. `ffmpeg -i <in> -f segment -segment_time 30 <out>%03d.wav`)",
        .path.display()
    )]
    TooLarge {
        path: PathBuf,
        bytes: u64,
        max_bytes: u64,
    },
    /// The file has zero bytes.
    #[error("{} is empty (0 bytes); expected a RIFF/WAVE file", .path.display())]
    EmptyFile { path: PathBuf },
    /// The WAV header is valid but the data chunk holds no complete frame.
    #[error("{} contains no audio samples; expected at least one frame", .path.display())]
    NoSamples { path: PathBuf },
    /// The bytes are not a RIFF/WAVE file at all.
    #[error(
        "{} is not a WAV file ({reason}); convert it to RIFF/WAVE PCM, \
         e.g. `ffmpeg -i <in> -ac 1 -ar 16000 <out>.wav`",
        .path.display()
    )]
    NotWav { path: PathBuf, reason: String },
    /// The file ends before the sample data its header declares.
    #[error("{} is truncated: {reason}; re-copy or re-export the file", .path.display())]
    Truncated { path: PathBuf, reason: String },
    /// A WAV encoding this crate does not decode (ADPCM, A-law, 64-bit float, …).
    #[error(
        "{} uses an unsupported WAV format ({reason}); supported are PCM 8/16/24/32-bit integer \
         and 32-bit IEEE float, any channel count and sample rate",
        .path.display()
    )]
    UnsupportedFormat { path: PathBuf, reason: String },
    /// The header's sample rate is outside [`crate::wav::SAMPLE_RATES`].
    #[error(
        "{} declares a sample rate of {rate} Hz, outside the supported 1000–384000 Hz; the \
         header is probably corrupt: re-export the file, e.g. `ffmpeg -i <in> -ac 1 -ar 16000 \
         <out>.wav`",
        .path.display()
    )]
    SampleRate { path: PathBuf, rate: u32 },
    /// The audio is longer than [`crate::wav::MAX_DURATION_SECONDS`].
    #[error(
        "{} holds {seconds:.1} s of audio, over the {max_seconds} s limit for one utterance; \
         cut it into utterances (e.g. `ffmpeg -i <in> -f segment -segment_time 30 <out>%03d.wav`) \
         or list segments in a manifest",
        .path.display()
    )]
    TooLong {
        path: PathBuf,
        seconds: f64,
        max_seconds: u32,
    },
    /// A 32-bit float WAV holds NaN or ±Inf.
    #[error(
        "{} holds a non-finite sample ({value}) at sample index {index} (interleaved, 0-based); \
         the file is corrupt: re-export it from the source audio",
        .path.display()
    )]
    NonFiniteSample {
        path: PathBuf,
        index: usize,
        value: f32,
    },
    /// A 32-bit float WAV holds a sample far past full scale (±1.0).
    #[error(
        "{} holds a sample of {value:e} at sample index {index} (interleaved, 0-based): a float \
         WAV's full scale is ±1.0 and anything past ±{max} (+60 dB) is not audio; the file is \
         corrupt or written with the wrong scale: re-export it normalised to ±1.0",
        .path.display()
    )]
    OutOfRangeSample {
        path: PathBuf,
        index: usize,
        value: f32,
        max: f32,
    },
    /// Writing a WAV file failed.
    #[error("cannot write {}: {reason}", .path.display())]
    Write { path: PathBuf, reason: String },
    /// The resampler rejected the rates or failed internally.
    #[error("cannot resample from {from_hz} Hz to {to_hz} Hz: {reason}")]
    Resample {
        from_hz: u32,
        to_hz: u32,
        reason: String,
    },
    /// A front-end configuration field is out of range or inconsistent with another field.
    #[error("invalid front-end config: `{field}` {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    /// The signal is too short to give a single frame (empty; shorter than one window with
    /// Kaldi snip-edges; shorter than half a hop with Kaldi framing without snip-edges).
    #[error(
        "signal of {samples} samples is too short for one frame (at least {needed} samples \
         needed); use centred framing or pad the audio"
    )]
    TooShort { samples: usize, needed: usize },
    /// Feature extraction failed for one file of a corpus.
    #[error("cannot extract features from {}: {source}", .path.display())]
    InFile {
        path: PathBuf,
        source: Box<AudioError>,
    },
    /// Global CMVN statistics could not be computed or applied.
    #[error("CMVN statistics: {reason}")]
    Cmvn { reason: String },
    /// The feature cache directory or a cache file could not be written.
    #[error("feature cache {}: {reason}", .path.display())]
    Cache { path: PathBuf, reason: String },
}
