//! hrf audio: WAV → mono 16 kHz → log-Mel features; dataset loaders, protocols and metrics; the
//! synthetic corpus.

mod audio_error;
pub mod datasets;
pub mod features;
pub mod metrics;
pub mod resample;
pub mod synth;
pub mod wav;

pub use audio_error::AudioError;
