//! Front-end configuration: every choice that changes log-Mel values, hashed into the cache key.
//!
//! Reference front-ends disagree on window, spectrum, mel scale, filter normalisation, framing
//! and log compression (see ser-data.md). Each choice is a field here, so any of them can be
//! reproduced and the cache can never mix features computed under different choices.

use crate::AudioError;
use serde::{Deserialize, Serialize};

/// Version of the feature computation itself; bump it when a change alters output values for
/// an unchanged config, so old caches are invalidated.
pub const FEATURE_ALGORITHM_VERSION: u32 = 1;

/// Analysis window shape, applied to each frame of `win_length` samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// `w[i] = 0.5 − 0.5·cos(2πi/N)`.
    Hann,
    /// `w[i] = 0.54 − 0.46·cos(2πi/N)`.
    Hamming,
    /// Kaldi's default: `w[i] = (0.5 − 0.5·cos(2πi/N))^0.85`.
    Povey,
}

/// Which spectrum the mel filters integrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpectrumKind {
    /// `|X[k]|²` (librosa `power=2`, Kaldi `use_power`).
    Power,
    /// `|X[k]|` (librosa `power=1`).
    Magnitude,
}

/// Hz ↔ mel mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelScale {
    /// HTK: `m = 2595·log10(1 + f/700)` (librosa `htk=True`, torchaudio default).
    Htk,
    /// Kaldi: `m = 1127·ln(1 + f/700)` (the HTK curve with Kaldi's rounded constant).
    Kaldi,
    /// Slaney (Auditory Toolbox, librosa default): linear `f/(200/3)` below 1 kHz, then
    /// `15 + ln(f/1000)/(ln 6.4/27)`.
    Slaney,
}

/// Where the triangular filters are linear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriangleDomain {
    /// Triangles linear in Hz between mel-spaced edges (librosa, torchaudio).
    Hz,
    /// Triangles linear in mel (Kaldi, HTK).
    Mel,
}

/// Normalisation of each mel filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelNorm {
    /// Peak weight 1 (librosa `norm=None`, torchaudio, Kaldi).
    None,
    /// Slaney area normalisation: row `i` scaled by `2/(f[i+2] − f[i])` (librosa default).
    Slaney,
}

/// Padding outside the signal in centred framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Zeros (librosa ≥ 0.10 default, `pad_mode="constant"`).
    Constant,
    /// Mirror without repeating the edge sample (`numpy.pad` `reflect`, torchaudio default).
    Reflect,
}

/// How frames are cut from the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// librosa/torchaudio `center=True`: frame `t` is centred on sample `t·hop`, the signal is
    /// padded by `n_fft/2` on both sides, `1 + (len + 2·⌊n_fft/2⌋ − n_fft)/hop` frames.
    Centered(PadMode),
    /// Kaldi `snip_edges=true`: frame `t` covers samples `[t·hop, t·hop + win_length)`,
    /// `1 + (len − win_length)/hop` frames, no padding.
    SnipEdges,
    /// Kaldi `snip_edges=false`: `⌊(len + ⌊hop/2⌋)/hop⌋` frames; frame `t` starts at sample
    /// `t·hop + ⌊hop/2⌋ − ⌊win_length/2⌋`, and samples outside the signal mirror it with the
    /// edge sample repeated (`x1 x0 | x0 x1 … x(n−1) | x(n−1) x(n−2)`), as Kaldi's
    /// `ExtractWindow` does.
    KaldiCentered,
}

/// Compression applied to each mel energy `e`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogCompression {
    /// `ln(e + offset)` (e.g. 1e-6). Silent bins land on `ln(offset)`.
    Offset(f32),
    /// `ln(max(e, floor))` (Kaldi: `f32::EPSILON`).
    Floor(f32),
}

/// Every parameter of the log-Mel front-end.
///
/// The default is hrf's documented front-end (design.md §2): 16 kHz, a 25 ms periodic Hann
/// window (400 samples) zero-padded to a 512-point FFT, 10 ms hop (160), centred framing with
/// zero padding, power spectrum, 64 Slaney-scale mel filters over 0–8000 Hz with Slaney area
/// normalisation (librosa's defaults), `ln(e + 1e-6)`. It equals front-end B of
/// frontend-golden.md with 64 instead of 80 filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendConfig {
    /// Rate the audio is resampled to before analysis, in Hz.
    pub sample_rate: u32,
    /// Factor applied to the samples first (Kaldi expects int16 scale: 32768).
    pub input_gain: f32,
    /// Window length in samples.
    pub win_length: usize,
    /// Hop between frame starts in samples.
    pub hop_length: usize,
    /// FFT length (≥ `win_length`); the windowed frame is zero-padded to it.
    pub n_fft: usize,
    /// Window shape.
    pub window: WindowKind,
    /// `true`: denominator `N = win_length` (periodic, scipy `fftbins=True`, librosa/torch);
    /// `false`: `N = win_length − 1` (symmetric, Kaldi).
    pub periodic_window: bool,
    /// Frame placement and padding.
    pub framing: Framing,
    /// Subtract each frame's mean before pre-emphasis (Kaldi `remove_dc_offset`).
    pub remove_dc: bool,
    /// Per-frame pre-emphasis `y[i] = x[i] − c·x[i−1]`, `y[0] = x[0] − c·x[0]` (Kaldi 0.97); 0 = off.
    pub preemphasis: f32,
    /// Power or magnitude spectrum.
    pub spectrum: SpectrumKind,
    /// Number of mel filters (feature dimension).
    pub n_mels: usize,
    /// Lowest filter edge in Hz.
    pub f_min: f32,
    /// Highest filter edge in Hz (≤ `sample_rate / 2`).
    pub f_max: f32,
    /// Hz ↔ mel mapping that places the filter edges.
    pub mel_scale: MelScale,
    /// Whether triangles are linear in Hz or in mel.
    pub triangles: TriangleDomain,
    /// Filter normalisation.
    pub mel_norm: MelNorm,
    /// Log compression of the mel energies.
    pub log: LogCompression,
}

impl Default for FrontendConfig {
    fn default() -> Self {
        Self::librosa_slaney(64)
    }
}

impl FrontendConfig {
    /// librosa 0.11 `melspectrogram` defaults with a 400-sample Hann in a 512 FFT, hop 160,
    /// centred with zero padding, Slaney scale and norm, then `ln(e + 1e-6)`.
    pub fn librosa_slaney(n_mels: usize) -> Self {
        Self {
            sample_rate: 16_000,
            input_gain: 1.0,
            win_length: 400,
            hop_length: 160,
            n_fft: 512,
            window: WindowKind::Hann,
            periodic_window: true,
            framing: Framing::Centered(PadMode::Constant),
            remove_dc: false,
            preemphasis: 0.0,
            spectrum: SpectrumKind::Power,
            n_mels,
            f_min: 0.0,
            f_max: 8_000.0,
            mel_scale: MelScale::Slaney,
            triangles: TriangleDomain::Hz,
            mel_norm: MelNorm::Slaney,
            log: LogCompression::Offset(1e-6),
        }
    }

    /// torchaudio `MelSpectrogram(n_fft=400, hop_length=160)` style: periodic Hann over the
    /// whole 400-point FFT, centred with reflect padding, HTK scale, no norm, `ln(e + 1e-6)`.
    pub fn torchaudio_htk(n_mels: usize) -> Self {
        Self {
            n_fft: 400,
            framing: Framing::Centered(PadMode::Reflect),
            mel_scale: MelScale::Htk,
            mel_norm: MelNorm::None,
            ..Self::librosa_slaney(n_mels)
        }
    }

    /// Kaldi `compute-fbank-feats` defaults (dither 0): int16-scaled input, 25/10 ms symmetric
    /// Povey window padded to 512, snip edges, DC removal, pre-emphasis 0.97, Kaldi mel scale
    /// with triangles in mel from 20 Hz to Nyquist, `ln(max(e, f32::EPSILON))`.
    pub fn kaldi_fbank(n_mels: usize) -> Self {
        Self {
            sample_rate: 16_000,
            input_gain: 32_768.0,
            win_length: 400,
            hop_length: 160,
            n_fft: 512,
            window: WindowKind::Povey,
            periodic_window: false,
            framing: Framing::SnipEdges,
            remove_dc: true,
            preemphasis: 0.97,
            spectrum: SpectrumKind::Power,
            n_mels,
            f_min: 20.0,
            f_max: 8_000.0,
            mel_scale: MelScale::Kaldi,
            triangles: TriangleDomain::Mel,
            mel_norm: MelNorm::None,
            log: LogCompression::Floor(f32::EPSILON),
        }
    }

    /// Checks every field; the error names the field and the allowed range.
    ///
    /// # Errors
    /// [`AudioError::InvalidConfig`].
    pub fn validate(&self) -> Result<(), AudioError> {
        let bad =
            |field: &'static str, reason: String| Err(AudioError::InvalidConfig { field, reason });
        if self.sample_rate == 0 {
            return bad("sample_rate", "must be positive".to_owned());
        }
        if !(self.input_gain.is_finite() && self.input_gain > 0.0) {
            return bad(
                "input_gain",
                format!("= {} must be finite and positive", self.input_gain),
            );
        }
        if self.win_length == 0 || self.hop_length == 0 || self.n_mels == 0 {
            return bad(
                "win_length/hop_length/n_mels",
                format!(
                    "= {}/{}/{} must all be positive",
                    self.win_length, self.hop_length, self.n_mels
                ),
            );
        }
        if self.n_fft < self.win_length {
            return bad(
                "n_fft",
                format!(
                    "= {} must be at least win_length = {}",
                    self.n_fft, self.win_length
                ),
            );
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        if !(self.f_min >= 0.0 && self.f_min < self.f_max && self.f_max <= nyquist) {
            return bad(
                "f_min/f_max",
                format!(
                    "= {}/{} Hz must satisfy 0 ≤ f_min < f_max ≤ sample_rate/2 = {nyquist}",
                    self.f_min, self.f_max
                ),
            );
        }
        if !(0.0..1.0).contains(&self.preemphasis) {
            return bad(
                "preemphasis",
                format!("= {} must be in [0, 1)", self.preemphasis),
            );
        }
        let (LogCompression::Offset(eps) | LogCompression::Floor(eps)) = self.log;
        if !(eps.is_finite() && eps > 0.0) {
            return bad(
                "log",
                format!("offset/floor = {eps} must be finite and positive"),
            );
        }
        Ok(())
    }

    /// blake3 of the canonical JSON of this config and [`FEATURE_ALGORITHM_VERSION`]: equal
    /// for equal configs, different as soon as any field changes.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"hrf-frontend-config");
        hasher.update(&FEATURE_ALGORITHM_VERSION.to_le_bytes());
        // Serialising plain fields and unit/newtype enums cannot fail; fall back to Debug anyway.
        match serde_json::to_vec(self) {
            Ok(json) => hasher.update(&json),
            Err(_) => hasher.update(format!("{self:?}").as_bytes()),
        };
        *hasher.finalize().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_documented_front_end_and_valid() {
        let cfg = FrontendConfig::default();
        assert_eq!(
            (cfg.sample_rate, cfg.win_length, cfg.hop_length, cfg.n_fft),
            (16_000, 400, 160, 512)
        );
        assert_eq!(cfg.n_mels, 64);
        assert_eq!(cfg.mel_scale, MelScale::Slaney);
        cfg.validate().expect("default valid");
        FrontendConfig::kaldi_fbank(80)
            .validate()
            .expect("kaldi valid");
        FrontendConfig::torchaudio_htk(80)
            .validate()
            .expect("torch valid");
    }

    #[test]
    fn fingerprint_changes_with_any_field_and_survives_json() {
        let a = FrontendConfig::default();
        let json = serde_json::to_string(&a).expect("json");
        let back: FrontendConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(a.fingerprint(), back.fingerprint());
        let mut b = a.clone();
        b.log = LogCompression::Offset(1e-5);
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.framing = Framing::Centered(PadMode::Reflect);
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn invalid_fields_are_named() {
        let cfg = FrontendConfig {
            f_max: 9_000.0,
            ..FrontendConfig::default()
        };
        assert_eq!(
            cfg.validate().expect_err("f_max").to_string(),
            "invalid front-end config: `f_min/f_max` = 0/9000 Hz must satisfy \
             0 ≤ f_min < f_max ≤ sample_rate/2 = 8000"
        );
        let cfg = FrontendConfig {
            n_fft: 256,
            ..FrontendConfig::default()
        };
        assert_eq!(
            cfg.validate().expect_err("n_fft").to_string(),
            "invalid front-end config: `n_fft` = 256 must be at least win_length = 400"
        );
    }
}
