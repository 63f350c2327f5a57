//! WAV input and output: the first stage of the front-end (file → mono f32 samples at 16 kHz).

use crate::AudioError;
use crate::resample::resample;
use std::io::{Cursor, Read};
use std::path::Path;

/// The rate every model in hrf consumes.
pub const TARGET_SAMPLE_RATE: u32 = 16_000;

/// Sample rates a WAV may declare: telephone-band 1 kHz to studio 384 kHz. A rate outside is
/// a corrupt header, and would make the resampler plan an FFT sized by the rate (a 4 GHz
/// header asks for tens of GB), or turn a few bytes at 1 Hz into hours of 16 kHz audio.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// The largest float-WAV sample magnitude accepted: 1000 × full scale (+60 dB). Past it a file
/// is corrupt (or written unnormalised), and its squares would overflow the power spectrum.
pub const MAX_FLOAT_SAMPLE: f32 = 1000.0;

/// The longest audio one file may hold: 10 minutes (a DAIC-WOZ interview is cut into
/// segments of one recording, each far shorter; its recordings run up to ~25 min, so they are
/// the exception that would need this raised).
pub const MAX_DURATION_SECONDS: u32 = 600;

/// Decoded audio, downmixed to mono.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// (frames,) — mono samples; full scale is ±1 (integer PCM is divided by 2^(bits−1), so it
    /// stays in [-1, 1]; float PCM is kept as stored, overs up to ±[`MAX_FLOAT_SAMPLE`] allowed).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reads a WAV file: PCM 8/16/24/32-bit integer or 32-bit IEEE float, any channel count and
/// sample rate. Channels are averaged into mono.
///
/// # Errors
/// [`AudioError::Io`], [`AudioError::NotAFile`] (a directory, FIFO or device: checked before
/// opening), [`AudioError::TooLarge`] (over [`MAX_WAV_BYTES`]: never read past that),
/// [`AudioError::EmptyFile`], [`AudioError::NotWav`],
/// [`AudioError::UnsupportedFormat`], [`AudioError::SampleRate`], [`AudioError::Truncated`],
/// [`AudioError::NoSamples`], [`AudioError::TooLong`] or [`AudioError::NonFiniteSample`], each
/// naming the file.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio, AudioError> {
    let path = path.as_ref();
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Checked before opening: opening a FIFO blocks, and a device like /dev/zero never ends.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(AudioError::NotAFile {
            path: path.to_path_buf(),
            what: non_regular_kind(&meta),
        });
    }
    let too_large = |bytes| AudioError::TooLarge {
        path: path.to_path_buf(),
        bytes,
        max_bytes: MAX_WAV_BYTES,
    };
    if meta.len() > MAX_WAV_BYTES {
        return Err(too_large(meta.len()));
    }
    // Bounded even if the file grows between the check and the read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_WAV_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_WAV_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    decode_wav(&bytes, path)
}

/// The largest WAV file [`read_wav`] reads: 1 GiB, above any 10-minute utterance
/// ([`MAX_DURATION_SECONDS`]) short of many-channel 32-bit studio audio (48 kHz × 32-bit × 8
/// channels × 600 s ≈ 0.92 GB). It bounds the memory one file can take.
pub const MAX_WAV_BYTES: u64 = 1 << 30;

/// What a path that is not a regular file is, for messages: "a directory", "a FIFO (named
/// pipe)", "a character device" (`/dev/zero`), "a block device", "a socket" or "not a
/// regular file".
pub fn non_regular_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Why `path` cannot be used as audio, checked without opening it: `None` for an existing
/// regular file, else a skip reason for dataset loaders naming the file as `noun`: `"missing
/// WAV <path>"`, `"WAV <path> is a directory, not a regular file; …"`.
pub fn unusable_audio_file(noun: &str, path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => None,
        Ok(meta) => Some(format!(
            "{noun} {} is {}, not a regular file; replace it with a RIFF/WAVE file",
            path.display(),
            non_regular_kind(&meta)
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("missing {noun} {}", path.display()))
        }
        Err(e) => Some(format!("{noun} {} cannot be read: {e}", path.display())),
    }
}

/// The first four bytes of a RIFF/WAVE file.
const RIFF_MAGIC: &[u8; 4] = b"RIFF";

/// Decodes WAV bytes already in memory; `path` is only used in error messages.
///
/// # Errors
/// As [`read_wav`], except [`AudioError::Io`].
pub fn decode_wav(bytes: &[u8], path: &Path) -> Result<Audio, AudioError> {
    let path_buf = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile { path: path_buf() });
    }
    // A file that does not even start like a RIFF file (text, MP3, FLAC…) is not a truncated
    // WAV, whatever its length.
    if !bytes.starts_with(RIFF_MAGIC) {
        return Err(AudioError::NotWav {
            path: path_buf(),
            reason: format!("no RIFF header; it starts with {}", describe_start(bytes)),
        });
    }
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| match e {
        hound::Error::FormatError(reason) => AudioError::NotWav {
            path: path_buf(),
            reason: reason.to_owned(),
        },
        // The bytes are in memory, so the only I/O failure is running out of them.
        hound::Error::IoError(_) => AudioError::Truncated {
            path: path_buf(),
            reason: "the file ends inside the RIFF header".to_owned(),
        },
        hound::Error::Unsupported => AudioError::UnsupportedFormat {
            path: path_buf(),
            reason: "format tag is not PCM or IEEE float".to_owned(),
        },
        other => AudioError::NotWav {
            path: path_buf(),
            reason: other.to_string(),
        },
    })?;
    let spec = reader.spec();
    let unsupported = |reason: String| AudioError::UnsupportedFormat {
        path: path_buf(),
        reason,
    };
    if spec.channels == 0 {
        return Err(unsupported("0 channels".to_owned()));
    }
    if !SAMPLE_RATES.contains(&spec.sample_rate) {
        return Err(AudioError::SampleRate {
            path: path_buf(),
            rate: spec.sample_rate,
        });
    }
    let channels = usize::from(spec.channels);
    let declared = reader.len() as usize;

    // (frames · channels,) — interleaved, scaled to [-1, 1].
    let interleaved: Result<Vec<f32>, hound::Error> =
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => reader.samples::<f32>().collect(),
            (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
                // Full scale is 2^(bits−1): i16 −32768 → −1.0. hound already maps unsigned 8-bit
                // PCM to signed by subtracting 128.
                let scale = 1.0 / f64::from(1u32 << (bits - 1)) as f32;
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect()
            }
            (format, bits) => {
                return Err(unsupported(format!("{bits}-bit {format:?}")));
            }
        };
    let interleaved = interleaved.map_err(|e| match e {
        hound::Error::IoError(_) => AudioError::Truncated {
            path: path_buf(),
            reason: format!("the header declares {declared} samples but the data chunk ends early"),
        },
        other => AudioError::UnsupportedFormat {
            path: path_buf(),
            reason: other.to_string(),
        },
    })?;
    let frames = interleaved.len() / channels;
    if frames == 0 {
        return Err(AudioError::NoSamples { path: path_buf() });
    }
    let seconds = frames as f64 / f64::from(spec.sample_rate);
    if seconds > f64::from(MAX_DURATION_SECONDS) {
        return Err(AudioError::TooLong {
            path: path_buf(),
            seconds,
            max_seconds: MAX_DURATION_SECONDS,
        });
    }
    // Integer PCM is finite by construction; a float file is checked where it enters.
    if let Some(index) = interleaved.iter().position(|x| !x.is_finite()) {
        return Err(AudioError::NonFiniteSample {
            path: path_buf(),
            index,
            value: interleaved[index],
        });
    }
    // Overs are legal in float WAVs (kept: clipping would distort), but magnitudes far past
    // full scale are corruption, and would overflow the power spectrum.
    if let Some(index) = interleaved.iter().position(|x| x.abs() > MAX_FLOAT_SAMPLE) {
        return Err(AudioError::OutOfRangeSample {
            path: path_buf(),
            index,
            value: interleaved[index],
            max: MAX_FLOAT_SAMPLE,
        });
    }
    Ok(Audio {
        samples: downmix(&interleaved[..frames * channels], channels),
        sample_rate: spec.sample_rate,
    })
}

/// The first (up to 8) bytes of a file, as hex and as text in the manner of `hexdump -C`
/// (`.` for anything but printable ASCII): `68 65 6c 6c 6f 0a |hello.|`.
fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = head
        .iter()
        .map(|&b| {
            if b == b' ' || b.is_ascii_graphic() {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{} |{text}|", hex.join(" "))
}

/// Averages interleaved channels: `mono[t] = (1/C) Σ_c x[t·C + c]`.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}

/// Reads a WAV file and returns it as mono 16 kHz samples (resampling if needed).
///
/// # Errors
/// As [`read_wav`], plus [`AudioError::Resample`] wrapped in [`AudioError::InFile`].
pub fn load_mono_16k(path: impl AsRef<Path>) -> Result<Vec<f32>, AudioError> {
    let path = path.as_ref();
    let audio = read_wav(path)?;
    resample(&audio.samples, audio.sample_rate, TARGET_SAMPLE_RATE).map_err(|e| {
        AudioError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        }
    })
}

/// Writes mono samples as a 16 kHz, 16-bit PCM WAV file (the bytes of [`encode_wav_16k`]).
///
/// # Errors
/// [`AudioError::Write`] naming the file if it cannot be created or written.
pub fn write_wav_16k(path: impl AsRef<Path>, samples: &[f32]) -> Result<(), AudioError> {
    let path = path.as_ref();
    let bytes = encode_wav_16k(samples, path)?;
    std::fs::write(path, bytes).map_err(|e| AudioError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Mono samples as the bytes of a 16 kHz, 16-bit PCM WAV file (`path` names it in errors).
///
/// Each sample is clipped to [-1, 1], scaled by 32767 and rounded to nearest (so ±1.0 maps to
/// ±32767 and the encoding is symmetric); NaN is written as 0. Reading the file back with
/// [`read_wav`] divides by 32768, so a round trip scales by 32767/32768 and quantises to 2⁻¹⁵.
///
/// # Errors
/// [`AudioError::Write`] if the samples do not fit a WAV file (over 2³¹ samples).
pub fn encode_wav_16k(samples: &[f32], path: &Path) -> Result<Vec<u8>, AudioError> {
    let write_error = |e: hound::Error| AudioError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: TARGET_SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut writer = hound::WavWriter::new(&mut bytes, spec).map_err(write_error)?;
    for &x in samples {
        // `as` saturates and maps NaN to 0.
        let pcm = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        writer.write_sample(pcm).map_err(write_error)?;
    }
    writer.finalize().map_err(write_error)?;
    Ok(bytes.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_int(path: &Path, bits: u16, channels: u16, rate: u32, frames: &[Vec<i32>]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for frame in frames {
            for &s in frame {
                match bits {
                    8 => w.write_sample(s as i8).expect("write"),
                    16 => w.write_sample(s as i16).expect("write"),
                    _ => w.write_sample(s).expect("write"),
                }
            }
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn reads_every_integer_depth_with_full_scale_mapping() {
        let dir = tempfile::tempdir().expect("tempdir");
        for bits in [8u16, 16, 24, 32] {
            let full = 1i64 << (bits - 1);
            let path = dir.path().join(format!("i{bits}.wav"));
            // −full scale, half scale, zero.
            let frames = vec![vec![(-full) as i32], vec![(full / 2) as i32], vec![0]];
            write_int(&path, bits, 1, 8_000, &frames);
            let audio = read_wav(&path).expect("read");
            assert_eq!(audio.sample_rate, 8_000);
            assert_eq!(audio.samples, vec![-1.0, 0.5, 0.0], "{bits}-bit");
        }
    }

    #[test]
    fn reads_float_and_downmixes_channels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f32_3ch.wav");
        let spec = hound::WavSpec {
            channels: 3,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("create");
        for s in [0.3f32, 0.6, -0.3, 1.0, -1.0, 0.0] {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
        let audio = read_wav(&path).expect("read");
        assert_eq!(audio.sample_rate, 48_000);
        assert_eq!(audio.samples.len(), 2);
        assert!((audio.samples[0] - 0.2).abs() < 1e-7);
        assert!(audio.samples[1].abs() < 1e-7);

        let stereo = dir.path().join("i16_2ch.wav");
        write_int(
            &stereo,
            16,
            2,
            16_000,
            &[vec![16_384, -16_384], vec![8_192, 8_192]],
        );
        assert_eq!(read_wav(&stereo).expect("read").samples, vec![0.0, 0.25]);
    }

    #[test]
    fn load_mono_16k_resamples() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("22k.wav");
        let frames: Vec<Vec<i32>> = (0..2_205).map(|n| vec![(n % 50) * 100]).collect();
        write_int(&path, 16, 1, 22_050, &frames);
        assert_eq!(load_mono_16k(&path).expect("load").len(), 1_600);
    }

    #[test]
    fn write_then_read_round_trips_and_clips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.wav");
        write_wav_16k(&path, &[0.0, 0.5, -0.5, 1.5, -2.0, f32::NAN]).expect("write");
        let audio = read_wav(&path).expect("read");
        assert_eq!(audio.sample_rate, 16_000);
        let s = 32_767.0 / 32_768.0;
        let want = [0.0, 16_384.0 / 32_768.0, -16_384.0 / 32_768.0, s, -s, 0.0];
        assert_eq!(audio.samples, want);
    }

    #[test]
    fn bad_files_name_the_file_and_the_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |name: &str| dir.path().join(name);

        std::fs::write(at("empty.wav"), b"").expect("write");
        let e = read_wav(at("empty.wav")).expect_err("empty");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is empty (0 bytes); expected a RIFF/WAVE file",
                at("empty.wav").display()
            )
        );

        std::fs::write(at("text.wav"), b"path,label\nfoo.wav,neu\n").expect("write");
        let e = read_wav(at("text.wav")).expect_err("not wav");
        assert!(matches!(e, AudioError::NotWav { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("{} is not a WAV file (", at("text.wav").display()))
        );

        // A valid 16-bit file cut in the middle of its data chunk.
        let full = at("full.wav");
        write_int(&full, 16, 1, 16_000, &vec![vec![1]; 1_000]);
        let bytes = std::fs::read(&full).expect("read");
        std::fs::write(at("cut.wav"), &bytes[..bytes.len() - 500]).expect("write");
        let e = read_wav(at("cut.wav")).expect_err("truncated");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is truncated: the header declares 1000 samples but the data chunk ends early; \
                 re-copy or re-export the file",
                at("cut.wav").display()
            )
        );
        std::fs::write(at("header.wav"), &bytes[..30]).expect("write");
        assert!(matches!(
            read_wav(at("header.wav")),
            Err(AudioError::Truncated { .. })
        ));

        // Format tag 2 (MS ADPCM) is not decoded.
        let mut adpcm = bytes.clone();
        adpcm[20] = 2;
        std::fs::write(at("adpcm.wav"), &adpcm).expect("write");
        let e = read_wav(at("adpcm.wav")).expect_err("unsupported");
        assert!(matches!(e, AudioError::UnsupportedFormat { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("adpcm.wav uses an unsupported WAV format")
        );

        // A header with an empty data chunk.
        write_int(&at("silent.wav"), 16, 2, 16_000, &[]);
        let e = read_wav(at("silent.wav")).expect_err("no samples");
        assert!(matches!(e, AudioError::NoSamples { .. }), "{e}");

        let e = read_wav(at("missing.wav")).expect_err("missing");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read {}: ", at("missing.wav").display()))
        );
    }

    #[test]
    fn rates_durations_and_samples_that_cannot_be_audio_are_typed_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |name: &str| dir.path().join(name);

        // A short text file is not a WAV, not a truncated one.
        std::fs::write(at("short.wav"), b"hello\n").expect("write");
        assert_eq!(
            read_wav(at("short.wav")).expect_err("text").to_string(),
            format!(
                "{} is not a WAV file (no RIFF header; it starts with 68 65 6c 6c 6f 0a \
                 |hello.|); convert it to RIFF/WAVE PCM, e.g. `ffmpeg -i <in> -ac 1 -ar \
                 16000 <out>.wav`",
                at("short.wav").display()
            )
        );

        // Sample rates outside 1 kHz – 384 kHz, written by hound or patched into the header.
        // (8-bit mono: one byte per frame, so the byte rate hound checks equals the rate.)
        write_int(&at("1hz.wav"), 8, 1, 1, &vec![vec![1]; 3_000]);
        let mut huge = std::fs::read(at("1hz.wav")).expect("read");
        huge[24..28].copy_from_slice(&4_294_967_291u32.to_le_bytes());
        huge[28..32].copy_from_slice(&4_294_967_291u32.to_le_bytes());
        std::fs::write(at("4ghz.wav"), &huge).expect("write");
        write_int(&at("999hz.wav"), 16, 1, 999, &[vec![1]]);
        for (name, rate) in [
            ("1hz.wav", 1u32),
            ("4ghz.wav", 4_294_967_291),
            ("999hz.wav", 999),
        ] {
            let e = read_wav(at(name)).expect_err(name);
            assert!(
                matches!(e, AudioError::SampleRate { rate: r, .. } if r == rate),
                "{e}"
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "{} declares a sample rate of {rate} Hz, outside the supported 1000–384000 Hz; \
                     the header is probably corrupt: re-export the file, e.g. `ffmpeg -i <in> -ac \
                     1 -ar 16000 <out>.wav`",
                    at(name).display()
                )
            );
        }
        for rate in [*SAMPLE_RATES.start(), *SAMPLE_RATES.end()] {
            write_int(&at("edge.wav"), 16, 1, rate, &[vec![1]]);
            assert_eq!(
                read_wav(at("edge.wav")).expect("edge rate").sample_rate,
                rate
            );
        }

        // 601 s at 1 kHz is over the 600 s bound; exactly 600 s is accepted.
        let frames = |seconds: usize| vec![vec![0]; seconds * 1_000];
        write_int(&at("long.wav"), 8, 1, 1_000, &frames(601));
        assert_eq!(
            read_wav(at("long.wav")).expect_err("too long").to_string(),
            format!(
                "{} holds 601.0 s of audio, over the 600 s limit for one utterance; cut it into \
                 utterances (e.g. `ffmpeg -i <in> -f segment -segment_time 30 <out>%03d.wav`) or \
                 list segments in a manifest",
                at("long.wav").display()
            )
        );
        write_int(&at("600s.wav"), 8, 1, 1_000, &frames(600));
        assert_eq!(
            read_wav(at("600s.wav")).expect("600 s").samples.len(),
            600_000
        );

        // NaN and ±Inf in 32-bit float files: the first bad sample is named.
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        for (name, bad) in [
            ("nan.wav", f32::NAN),
            ("inf.wav", f32::INFINITY),
            ("ninf.wav", f32::NEG_INFINITY),
        ] {
            let mut w = hound::WavWriter::create(at(name), spec).expect("create");
            for s in [0.1f32, 0.2, 0.3, bad, bad, 0.0] {
                w.write_sample(s).expect("write");
            }
            w.finalize().expect("finalize");
            let e = read_wav(at(name)).expect_err(name);
            assert!(
                matches!(e, AudioError::NonFiniteSample { index: 3, .. }),
                "{e}"
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "{} holds a non-finite sample ({bad}) at sample index 3 (interleaved, 0-based); \
                     the file is corrupt: re-export it from the source audio",
                    at(name).display()
                )
            );
        }
        // Overs are kept; magnitudes past ±1000 are refused with the sample named.
        let mut w = hound::WavWriter::create(at("over.wav"), spec).expect("create");
        for s in [1.5f32, -2.0, 0.5, 0.25] {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
        let over = read_wav(at("over.wav")).expect("overs are audio");
        assert_eq!(over.samples, vec![-0.25, 0.375]);
        let mut w = hound::WavWriter::create(at("huge.wav"), spec).expect("create");
        for s in [0.1f32, 1e30, 0.0, 0.0] {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
        assert_eq!(
            read_wav(at("huge.wav")).expect_err("1e30").to_string(),
            format!(
                "{} holds a sample of 1e30 at sample index 1 (interleaved, 0-based): a float WAV's \
                 full scale is ±1.0 and anything past ±1000 (+60 dB) is not audio; the file is \
                 corrupt or written with the wrong scale: re-export it normalised to ±1.0",
                at("huge.wav").display()
            )
        );
    }

    #[test]
    fn paths_that_are_not_regular_files_are_refused_before_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |name: &str| dir.path().join(name);

        std::fs::create_dir(at("x.wav")).expect("mkdir");
        let e = read_wav(at("x.wav")).expect_err("directory");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a directory, not a regular file; pass the path of a RIFF/WAVE file",
                at("x.wav").display()
            )
        );
        assert_eq!(
            unusable_audio_file("WAV", &at("x.wav")).expect("directory"),
            format!(
                "WAV {} is a directory, not a regular file; replace it with a RIFF/WAVE file",
                at("x.wav").display()
            )
        );
        assert_eq!(
            unusable_audio_file("WAV", &at("none.wav")).expect("missing"),
            format!("missing WAV {}", at("none.wav").display())
        );

        #[cfg(unix)]
        {
            // Reading /dev/zero would never end; a FIFO with no writer would block forever.
            let e = read_wav("/dev/zero").expect_err("char device");
            assert_eq!(
                e.to_string(),
                "/dev/zero is a character device, not a regular file; pass the path of a \
                 RIFF/WAVE file"
            );
            let fifo = at("pipe.wav");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success());
            if made {
                let e = read_wav(&fifo).expect_err("fifo");
                assert!(matches!(e, AudioError::NotAFile { .. }), "{e}");
                assert_eq!(
                    e.to_string(),
                    format!(
                        "{} is a FIFO (named pipe), not a regular file; pass the path of a \
                         RIFF/WAVE file",
                        fifo.display()
                    )
                );
            }
        }
    }

    #[test]
    fn a_huge_declared_data_chunk_is_truncated_not_an_allocation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("huge.wav");
        write_int(&path, 16, 1, 16_000, &vec![vec![1]; 10]);
        let mut bytes = std::fs::read(&path).expect("read");
        // RIFF size and data size (bytes 4..8 and 40..44) claim ~4 GB.
        bytes[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        bytes[40..44].copy_from_slice(&0xFFFF_FFE0u32.to_le_bytes());
        let e = decode_wav(&bytes, &path).expect_err("huge declared");
        assert!(matches!(e, AudioError::Truncated { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is truncated: the header declares 2147483632 samples but the data chunk \
                 ends early; re-copy or re-export the file",
                path.display()
            )
        );
        let e = AudioError::TooLarge {
            path: path.clone(),
            bytes: MAX_WAV_BYTES + 1,
            max_bytes: MAX_WAV_BYTES,
        };
        assert!(e.to_string().starts_with(&format!(
            "{} is 1073741825 bytes, over the 1073741824-byte limit for one WAV file; cut it",
            path.display()
        )));
    }
}
