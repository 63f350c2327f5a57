//! The built-in speech synthesiser (`hrf synth --engine builtin`, the default): a source-filter
//! formant synthesiser in pure Rust, byte-identical on every machine.
//!
//! It follows Klatt (1980, "Software for a cascade/parallel formant synthesizer", JASA 67) and
//! Klatt & Klatt (1990, "Analysis, synthesis, and perception of voice quality variations among
//! female and male talkers", JASA 87):
//! - **Source** ([`source`]): a Rosenberg (1971) glottal pulse driven by an F0 contour, with
//!   jitter, shimmer, creak, spectral tilt and pitch-synchronous aspiration (breathiness).
//! - **Filter** ([`resonator`], [`render`]): a nasal pole–zero pair and a cascade of five
//!   formant resonators for voiced sounds; noise through a parallel resonator for fricatives and
//!   plosive bursts; radiation as a first difference.
//! - **Coarticulation** ([`timeline`]): targets per segment (vowels, nasals, approximants,
//!   fricatives, closures, bursts, aspiration) joined by raised-cosine transitions.
//! - **Text** ([`grammar`]): seeded CV/CVC/CCVC syllables, words with lexical stress, phrases
//!   with pitch accents, pauses and F0 declination; syllable rates of about 3–7 Hz.
//! - **Speakers** ([`speakers`]) and **emotions** ([`emotion`], with the rule table and its
//!   sources).
//!
//! Determinism: every random draw comes from integer-seeded SplitMix64 streams keyed by the clip,
//! and every transcendental function from the `libm` crate, never the platform's C library, so
//! the same seed gives the same bytes on any machine, thread count and order.

pub mod emotion;
pub mod grammar;
pub mod phonemes;
pub mod render;
pub mod resonator;
pub mod source;
pub mod speakers;
pub mod timeline;

use super::prosody::{ClipRng, Emotion, Intensity};
pub use render::SAMPLE_RATE;
use speakers::VoiceSpeaker;

/// Version of the built-in engine's recipe, recorded in `corpus.json`: bumped whenever the same
/// seed would give other audio.
pub const ENGINE_VERSION: &str = "formant-1";

/// Largest |sample| of a clip (a clip that would exceed it is scaled down as a whole).
pub const PEAK_LIMIT: f32 = 0.95;

/// Half-width of the per-clip SNR draw around [`Degradation::noise_snr_db`].
pub const SNR_SPREAD_DB: f64 = 10.0;

/// Recording degradations applied after synthesis (the default corpus uses
/// [`Degradation::DEFAULT_CORPUS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Degradation {
    /// Additive white noise around this signal-to-noise ratio (dB, over the whole clip), if
    /// any: each clip draws its SNR uniformly within ±[`SNR_SPREAD_DB`] of it.
    pub noise_snr_db: Option<f64>,
    /// A random channel per clip: band-limiting (high-pass 60–300 Hz, low-pass 3–7 kHz) and a
    /// resonant coloration, as different microphones and rooms give.
    pub channel: bool,
}

impl Degradation {
    /// The default corpus's recordings: noise at 10–30 dB SNR and a random channel per clip.
    pub const DEFAULT_CORPUS: Degradation = Degradation {
        noise_snr_db: Some(20.0),
        channel: true,
    };
}

/// Synthesises one utterance of `sentence` by `speaker` in `emotion` at `intensity`; every
/// random draw (take, timing, noise) comes from `rng`.
pub fn utterance(
    sentence: &grammar::Sentence,
    speaker: &VoiceSpeaker,
    emotion: Emotion,
    intensity: Intensity,
    degradation: &Degradation,
    rng: &mut ClipRng,
) -> Vec<f32> {
    let take = emotion::take(emotion, intensity, rng);
    let (tracks, voice) = timeline::plan(sentence, speaker, &take, rng);
    let mut samples = render::render(&tracks, &voice, rng);
    degrade(&mut samples, degradation, rng);
    limit_peak(&mut samples);
    samples
}

/// Scales the clip down when its peak exceeds [`PEAK_LIMIT`].
fn limit_peak(samples: &mut [f32]) {
    let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak > PEAK_LIMIT {
        let gain = PEAK_LIMIT / peak;
        samples.iter_mut().for_each(|x| *x *= gain);
    }
}

fn degrade(samples: &mut [f32], d: &Degradation, rng: &mut ClipRng) {
    let sr = f64::from(SAMPLE_RATE);
    if d.channel {
        let mut high = resonator::Resonator::default();
        let mut low = resonator::Resonator::default();
        let mut colour = resonator::Resonator::default();
        let hp_hz = 60.0 + 240.0 * rng.uniform();
        let lp_hz = 3000.0 + 4000.0 * rng.uniform();
        // A second-order low-pass at lp_hz (a heavily damped resonator), a high-pass as input
        // minus a low-pass at hp_hz, and a mild resonance mixed in.
        low.set(lp_hz, lp_hz, sr);
        high.set(hp_hz, 2.0 * hp_hz, sr);
        let colour_hz = 500.0 + 2500.0 * rng.uniform();
        colour.set(colour_hz, 300.0, sr);
        let colour_mix = 0.3 * rng.uniform();
        for x in samples.iter_mut() {
            let v = f64::from(*x);
            let hp = v - high.step(v);
            let lp = low.step(hp);
            *x = (lp + colour_mix * (colour.step(lp) - lp)) as f32;
        }
    }
    if let Some(mean_snr_db) = d.noise_snr_db {
        let snr_db = mean_snr_db + SNR_SPREAD_DB * (2.0 * rng.uniform() - 1.0);
        let power = samples
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            / samples.len().max(1) as f64;
        // Uniform white noise has variance 1/3.
        let sigma = (power / libm::pow(10.0, snr_db / 10.0)).sqrt();
        let scale = sigma * 3f64.sqrt();
        for x in samples.iter_mut() {
            *x += (scale * source::white(rng)) as f32;
        }
    }
}

#[cfg(test)]
mod tests;
