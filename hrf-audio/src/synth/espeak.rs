//! Synthetic corpus, synthesis side: locating espeak-ng, its private pruned data directory, and
//! one SSML clip → 22,050 Hz samples.
//!
//! espeak-ng reads voices from `<root>/espeak-ng-data`. We copy only what English synthesis
//! needs (phoneme tables, intonations, the English dictionary, the `gmw/en*` language voices) into
//! a private root and write our variant files there, so the variant files never mix with the
//! ~100 stock variants (espeak-ng loads at most ~350 voice files) and every worker reads the same
//! immutable files: nothing is written per clip.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::SynthError;

/// Data files every English voice needs, relative to `espeak-ng-data/`.
const DATA_FILES: [&str; 5] = ["phondata", "phonindex", "phontab", "intonations", "en_dict"];

/// The language-voice folder our speakers' base voices live in, relative to `espeak-ng-data/`.
const LANGUAGE_DIR: &str = "lang/gmw";

/// espeak-ng's amplitude (0..=200, default 100) before the SSML `volume` factor, for a clip's
/// first attempt. The default already peaks near full scale, so loud clips (volume up to 200%,
/// tense formants) would clip; 30 leaves about 10 dB of headroom, enough for all but the loudest
/// strong-anger takes of the highest voices, which [`quiet_enough`] sends back at a lower
/// amplitude ([`lower_amplitude`]).
pub(crate) const BASE_AMPLITUDE: u32 = 30;

/// The highest peak (fraction of full scale) a clip's espeak-ng output may reach. espeak-ng
/// saturates its 16-bit output internally, so a clipped waveform cannot be repaired afterwards;
/// 0.9 (−0.9 dBFS) also leaves room for the few percent a band-limited resampler can overshoot
/// a peak by.
pub(crate) const MAX_PEAK: f32 = 0.9;

/// Lowest amplitude tried; below it speech would sit near the 16-bit noise floor.
const MIN_AMPLITUDE: u32 = 5;

/// The largest |sample|, 0 for no samples.
pub(crate) fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// `true` when a clip synthesised at `amplitude` peaking at `peak` can be kept: below
/// [`MAX_PEAK`], or already at the lowest amplitude.
pub(crate) fn quiet_enough(peak: f32, amplitude: u32) -> bool {
    peak <= MAX_PEAK || amplitude <= MIN_AMPLITUDE
}

/// The amplitude for the next attempt after one at `amplitude` peaked at `peak` > [`MAX_PEAK`].
///
/// Below saturation espeak-ng's output scales linearly with the amplitude, so the target is
/// `amplitude · 0.95·MAX_PEAK / peak`; a peak at the rail (|x| ≥ 32767/32768) hides how far the
/// waveform went over, so the amplitude is only scaled by ¾ and checked again. Always at least
/// one step lower, never below [`MIN_AMPLITUDE`].
pub(crate) fn lower_amplitude(amplitude: u32, peak: f32) -> u32 {
    let rail = 32_767.0 / 32_768.0;
    let scaled = if peak >= rail {
        amplitude * 3 / 4
    } else {
        (f64::from(amplitude) * 0.95 * f64::from(MAX_PEAK) / f64::from(peak)).floor() as u32
    };
    scaled.min(amplitude.saturating_sub(1)).max(MIN_AMPLITUDE)
}

/// A working espeak-ng installation.
#[derive(Clone, Debug)]
pub struct EspeakInstall {
    /// The binary, as given (a name on `PATH` or a path).
    pub program: PathBuf,
    /// The version it reports, e.g. `1.51`.
    pub version: String,
    /// Its own `espeak-ng-data` directory.
    pub data_dir: PathBuf,
}

/// Runs `<program> --version` and reads the version and data directory from its one line,
/// `eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data`.
///
/// # Errors
/// [`SynthError::EspeakMissing`] if the program cannot be started (with install instructions),
/// [`SynthError::EspeakVersion`] if the line is not in that form.
pub fn locate(program: &Path) -> Result<EspeakInstall, SynthError> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|source| SynthError::EspeakMissing {
            program: program.to_path_buf(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let parsed = parse_version_line(&text);
    match parsed {
        Some((version, data_dir)) if output.status.success() => Ok(EspeakInstall {
            program: program.to_path_buf(),
            version,
            data_dir,
        }),
        _ => Err(SynthError::EspeakVersion {
            program: program.to_path_buf(),
            output: text,
        }),
    }
}

/// `(version, data directory)` from espeak-ng's `--version` output.
fn parse_version_line(text: &str) -> Option<(String, PathBuf)> {
    let (head, data) = text.split_once("Data at:")?;
    let version = head.rsplit_once(':')?.1.trim();
    let data = data.trim();
    if version.is_empty() || data.is_empty() {
        return None;
    }
    Some((version.to_owned(), PathBuf::from(data)))
}

/// A private espeak-ng data root (the directory holding `espeak-ng-data/`), deleted on drop.
#[derive(Debug)]
pub struct PrivateData {
    /// The directory passed as `--path`.
    root: PathBuf,
}

impl PrivateData {
    /// Builds `<root>/espeak-ng-data` from the installation's data and writes `variants`
    /// (`(name, file text)`) into its `voices/!v/`. An existing `root` is replaced.
    ///
    /// # Errors
    /// [`SynthError::EspeakData`] naming the file that could not be copied or written.
    pub fn create(
        install: &EspeakInstall,
        root: &Path,
        variants: &[(String, String)],
    ) -> Result<Self, SynthError> {
        if root.exists() {
            std::fs::remove_dir_all(root).map_err(|source| SynthError::EspeakData {
                from: install.data_dir.clone(),
                to: root.to_path_buf(),
                source,
            })?;
        }
        // From here on, dropping `data` removes the partial copy on error.
        let data = PrivateData {
            root: root.to_path_buf(),
        };
        let target = root.join("espeak-ng-data");
        let copy = |from: PathBuf, to: PathBuf| -> Result<(), SynthError> {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|source| SynthError::EspeakData {
                    from: from.clone(),
                    to: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::copy(&from, &to)
                .map(|_| ())
                .map_err(|source| SynthError::EspeakData { from, to, source })
        };
        for file in DATA_FILES {
            copy(install.data_dir.join(file), target.join(file))?;
        }
        let languages = install.data_dir.join(LANGUAGE_DIR);
        let entries = std::fs::read_dir(&languages).map_err(|source| SynthError::EspeakData {
            from: languages.clone(),
            to: target.join(LANGUAGE_DIR),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| SynthError::EspeakData {
                from: languages.clone(),
                to: target.join(LANGUAGE_DIR),
                source,
            })?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("en") {
                copy(entry.path(), target.join(LANGUAGE_DIR).join(&name))?;
            }
        }
        let variant_dir = target.join("voices").join("!v");
        std::fs::create_dir_all(&variant_dir).map_err(|source| SynthError::EspeakData {
            from: PathBuf::from("(variant files)"),
            to: variant_dir.clone(),
            source,
        })?;
        for (name, text) in variants {
            let path = variant_dir.join(name);
            std::fs::write(&path, text).map_err(|source| SynthError::EspeakData {
                from: PathBuf::from("(generated variant)"),
                to: path.clone(),
                source,
            })?;
        }
        Ok(data)
    }

    /// The directory to pass as `--path`.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for PrivateData {
    fn drop(&mut self) {
        // Best effort: a leftover copy is harmless and replaced by the next run.
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Synthesises one SSML clip with `voice` (`gmw/en-US+variant`) at espeak-ng `amplitude`
/// (0..=200) and returns `(sample rate, (samples,) mono in [-1, 1])`.
///
/// # Errors
/// [`SynthError::EspeakMissing`], [`SynthError::EspeakFailed`] (exit status and stderr) or
/// [`SynthError::EspeakOutput`], each naming `clip`.
pub fn synthesize(
    install: &EspeakInstall,
    data: &PrivateData,
    clip: &str,
    voice: &str,
    ssml: &str,
    amplitude: u32,
) -> Result<(u32, Vec<f32>), SynthError> {
    let mut path_arg = std::ffi::OsString::from("--path=");
    path_arg.push(data.root());
    let output = Command::new(&install.program)
        .arg(path_arg)
        .args([
            "-m",
            "-b",
            "1",
            "-a",
            &amplitude.to_string(),
            "-v",
            voice,
            "--stdout",
            ssml,
        ])
        .output()
        .map_err(|source| SynthError::EspeakMissing {
            program: install.program.clone(),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if !output.status.success() {
        return Err(SynthError::EspeakFailed {
            clip: clip.to_owned(),
            status: output.status.to_string(),
            stderr,
        });
    }
    parse_stream_wav(&output.stdout).map_err(|reason| SynthError::EspeakOutput {
        clip: clip.to_owned(),
        reason,
        stderr,
    })
}

/// Decodes the WAV espeak-ng writes to stdout: 16-bit mono PCM whose RIFF and data sizes are
/// placeholders (0x7FFFF000-ish, since a stream cannot seek back), so the data chunk is taken
/// to run to the end of the bytes. Returns `(sample rate, samples / 32768)`.
fn parse_stream_wav(bytes: &[u8]) -> Result<(u32, Vec<f32>), String> {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(format!(
            "stdout is not a RIFF/WAVE stream ({} bytes)",
            bytes.len()
        ));
    }
    let mut at = 12;
    let mut sample_rate = None;
    while let (Some(id), Some(size)) = (bytes.get(at..at + 4), u32_at(at + 4)) {
        let body = at + 8;
        match id {
            b"fmt " => {
                let (format, channels, rate, bits) = (
                    u16_at(body),
                    u16_at(body + 2),
                    u32_at(body + 4),
                    u16_at(body + 14),
                );
                if (format, channels, bits) != (Some(1), Some(1), Some(16)) {
                    return Err(format!(
                        "expected 16-bit mono PCM, got format {format:?}, {channels:?} channels, \
                         {bits:?} bits"
                    ));
                }
                sample_rate = rate;
            }
            b"data" => {
                let rate = sample_rate.ok_or("data chunk before fmt chunk")?;
                let end = body.saturating_add(size as usize).min(bytes.len());
                let pcm = bytes.get(body..end).unwrap_or(&[]);
                let samples: Vec<f32> = pcm
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                    .collect();
                if samples.is_empty() {
                    return Err("the data chunk holds no samples".to_owned());
                }
                return Ok((rate, samples));
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        at = body.saturating_add(size as usize + (size as usize & 1));
    }
    Err("no data chunk".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_amplitude_by_hand() {
        // Unclipped peak 0.97 at 30: 30 · 0.855 / 0.97 = 26.44 → 26.
        assert_eq!(lower_amplitude(30, 0.97), 26);
        // Just over the limit: the linear target 30 · 0.855 / 0.9001 = 28.49 → 28.
        assert_eq!(lower_amplitude(30, 0.9001), 28);
        // At the rail the true peak is unknown: ¾ · 30 = 22 (integer).
        assert_eq!(lower_amplitude(30, 1.0), 22);
        // Always a step down, never below the floor.
        assert_eq!(lower_amplitude(10, 0.9000001), 9);
        assert_eq!(lower_amplitude(6, 1.0), 5);
        assert_eq!(lower_amplitude(5, 1.0), 5);
        assert!(quiet_enough(0.9, 30) && !quiet_enough(0.91, 30) && quiet_enough(1.0, 5));
        assert_eq!(peak(&[0.25, -0.5, 0.125]), 0.5);
        assert_eq!(peak(&[]), 0.0);
    }

    #[test]
    fn version_line_gives_version_and_data_dir() {
        let line =
            "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data\n";
        assert_eq!(
            parse_version_line(line),
            Some((
                "1.51".to_owned(),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/espeak-ng-data")
            ))
        );
        assert_eq!(parse_version_line("espeak-ng: command not found"), None);
    }

    /// A stream header as espeak-ng writes it: placeholder sizes, then `samples`.
    fn stream_wav(rate: u32, samples: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&0x7fff_f024u32.to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&0x7fff_f000u32.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn stream_wav_with_placeholder_sizes_decodes_to_the_end() {
        let (rate, samples) =
            parse_stream_wav(&stream_wav(22_050, &[0, 16384, -32768, 32767])).expect("decodes");
        assert_eq!(rate, 22_050);
        assert_eq!(samples, vec![0.0, 0.5, -1.0, 32767.0 / 32768.0]);
    }

    #[test]
    fn stream_wav_rejects_garbage_and_empty_audio() {
        assert!(
            parse_stream_wav(b"not a wav at all")
                .unwrap_err()
                .contains("not a RIFF")
        );
        assert!(
            parse_stream_wav(&stream_wav(22_050, &[]))
                .unwrap_err()
                .contains("no samples")
        );
    }
}
