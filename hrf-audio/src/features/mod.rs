//! Log-Mel front-end: mono 16 kHz samples → (frames, mel bins) features, their on-disk cache
//! and CMVN statistics.
//!
//! The default ([`FrontendConfig::default`]) is hrf's documented front-end: 16 kHz, 25 ms
//! periodic Hann window (400 samples) in a 512-point FFT, 10 ms hop, centred framing with zero
//! padding, power spectrum, 64 Slaney-scale mel filters over 0–8000 Hz with Slaney area
//! normalisation, `ln(e + 1e-6)`. Presets reproduce librosa
//! ([`FrontendConfig::librosa_slaney`]), torchaudio ([`FrontendConfig::torchaudio_htk`]) and
//! Kaldi fbank ([`FrontendConfig::kaldi_fbank`]); tests check all three against golden values.

mod cache;
mod cmvn;
mod config;
mod framing;
mod logmel;
mod mel;
mod window;

pub use cache::{extract_all, extract_all_with_progress};
pub use cmvn::{FeatureStats, per_utterance_cmvn};
pub use config::{
    FEATURE_ALGORITHM_VERSION, Framing, FrontendConfig, LogCompression, MelNorm, MelScale, PadMode,
    SpectrumKind, TriangleDomain, WindowKind,
};
pub use framing::frame_count;
pub use logmel::LogMelExtractor;
pub use mel::{MelFilterbank, hz_to_mel, mel_to_hz};
pub use window::window;

/// A feature matrix of one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Number of frames (rows).
    pub frames: usize,
    /// Number of feature bins per frame (columns), e.g. mel filters.
    pub bins: usize,
    /// (frames, bins), row-major: frame `t` is `data[t·bins .. (t+1)·bins]`.
    pub data: Vec<f32>,
}

impl Features {
    /// Frame `t`, shape (bins,). Panics if `t ≥ frames` (an indexing bug, not user input).
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.bins..(t + 1) * self.bins]
    }

    /// Iterates over frames, each of shape (bins,).
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> {
        self.data.chunks_exact(self.bins.max(1)).take(self.frames)
    }
}
