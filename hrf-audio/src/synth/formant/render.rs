//! Built-in synthesiser, signal side: parameter tracks (one [`Frame`] per 2 ms tick, as Klatt's
//! synthesiser reads one per 5 ms) → samples.
//!
//! Per sample: glottal flow → spectral tilt → plus pitch-synchronous aspiration → nasal
//! pole–zero pair → cascade formant resonators F1…F5 → radiation (first difference); in
//! parallel, white noise → frication resonator (fricatives and bursts). Coefficients change at
//! every tick; the resonators keep their state, so transitions are smooth.

use super::super::prosody::ClipRng;
use super::resonator::{AntiResonator, Resonator, Tilt};
use super::source::{GlottalSource, VoiceState, white};

/// Output sample rate of the built-in engine (the corpus's rate: no resampling).
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per parameter tick (2 ms at 16 kHz).
pub const TICK: usize = 32;

/// Nasal pole frequency and bandwidth (Klatt 1980's FNP, BNP). Oral sounds set the nasal zero
/// to the same frequency, which cancels the pair.
pub const NASAL_POLE_HZ: f64 = 270.0;
const NASAL_BANDWIDTH_HZ: f64 = 100.0;
/// Highest formant the cascade may hold (below Nyquist, with margin).
const MAX_FORMANT_HZ: f64 = 7200.0;

/// The synthesiser's controls at one tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// F1…F5, Hz.
    pub formants: [f64; 5],
    /// B1…B5, Hz.
    pub bandwidths: [f64; 5],
    /// Voicing amplitude (linear, 1 = a full vowel).
    pub voicing: f64,
    /// Aspiration amplitude through the cascade (h, plosive release), linear.
    pub aspiration: f64,
    /// Frication amplitude through the parallel resonator, linear.
    pub frication: f64,
    /// Frication resonance: centre and bandwidth, Hz.
    pub frication_hz: (f64, f64),
    /// Nasal zero, Hz (= [`NASAL_POLE_HZ`] for oral sounds).
    pub nasal_zero_hz: f64,
}

impl Frame {
    /// Silence (closure or pause) with the given vocal-tract shape.
    pub fn silent(formants: [f64; 5], bandwidths: [f64; 5]) -> Self {
        Frame {
            formants,
            bandwidths,
            voicing: 0.0,
            aspiration: 0.0,
            frication: 0.0,
            frication_hz: (4000.0, 2000.0),
            nasal_zero_hz: NASAL_POLE_HZ,
        }
    }

    /// `a + w·(b − a)`, field by field.
    pub fn lerp(&self, other: &Frame, w: f64) -> Frame {
        let mix = |a: f64, b: f64| a + w * (b - a);
        let mut out = *self;
        for k in 0..5 {
            out.formants[k] = mix(self.formants[k], other.formants[k]);
            out.bandwidths[k] = mix(self.bandwidths[k], other.bandwidths[k]);
        }
        out.voicing = mix(self.voicing, other.voicing);
        out.aspiration = mix(self.aspiration, other.aspiration);
        out.frication = mix(self.frication, other.frication);
        out.frication_hz = (
            mix(self.frication_hz.0, other.frication_hz.0),
            mix(self.frication_hz.1, other.frication_hz.1),
        );
        out.nasal_zero_hz = mix(self.nasal_zero_hz, other.nasal_zero_hz);
        out
    }
}

/// Per-tick tracks of one utterance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tracks {
    /// (ticks,) — vocal-tract and amplitude controls.
    pub frames: Vec<Frame>,
    /// (ticks,) — F0, Hz.
    pub f0_hz: Vec<f64>,
    /// (ticks,) — creak probability per period.
    pub creak: Vec<f64>,
}

/// The voice's constant settings over one utterance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Voice {
    pub open_quotient: f64,
    /// Pitch-synchronous aspiration relative to voicing.
    pub breathiness: f64,
    /// Source tilt, dB at 3 kHz.
    pub tilt_db: f64,
    pub jitter: f64,
    pub shimmer_db: f64,
    /// Output gain (linear).
    pub gain: f64,
}

/// Relative level of the parallel frication branch and of aspiration noise.
const FRICATION_GAIN: f64 = 0.02;
const ASPIRATION_GAIN: f64 = 0.08;

/// Renders `tracks` with `voice`; noise and jitter come from `rng`.
pub fn render(tracks: &Tracks, voice: &Voice, rng: &mut ClipRng) -> Vec<f32> {
    let sr = f64::from(SAMPLE_RATE);
    let ticks = tracks.frames.len();
    let mut out = Vec::with_capacity(ticks * TICK);
    let mut source = GlottalSource::new(sr);
    let mut tilt = Tilt::default();
    tilt.set(voice.tilt_db, sr);
    let mut nasal_pole = Resonator::default();
    nasal_pole.set(NASAL_POLE_HZ, NASAL_BANDWIDTH_HZ, sr);
    let mut nasal_zero = AntiResonator::default();
    let mut cascade = [Resonator::default(); 5];
    let mut frication = Resonator::default();
    let mut previous = 0.0f64;
    for tick in 0..ticks {
        let frame = &tracks.frames[tick];
        nasal_zero.set(frame.nasal_zero_hz, NASAL_BANDWIDTH_HZ, sr);
        for (k, resonator) in cascade.iter_mut().enumerate() {
            let f = frame.formants[k].clamp(50.0, MAX_FORMANT_HZ);
            resonator.set(f, frame.bandwidths[k].max(20.0), sr);
        }
        let (ff, bf) = frame.frication_hz;
        frication.set(ff.clamp(200.0, MAX_FORMANT_HZ), bf.max(100.0), sr);
        let state = VoiceState {
            f0: tracks.f0_hz[tick],
            open_quotient: voice.open_quotient,
            jitter: voice.jitter,
            shimmer_db: voice.shimmer_db,
            creak: tracks.creak[tick],
        };
        // The cascade's gain grows with F1 (about F1² for unit-DC resonators); real vowels
        // differ by ~6 dB between /a/ and /i/ (Peterson & Barney 1952), so undo most of it.
        // The flow's derivative (what the tract hears) scales with F0; the level is set by
        // `voicing` alone (as Klatt's AV), so normalise to 100 Hz.
        let f0 = tracks.f0_hz[tick].clamp(40.0, 1000.0);
        let level =
            frame.voicing * libm::pow(500.0 / frame.formants[0].max(150.0), 1.2) * (100.0 / f0);
        for _ in 0..TICK {
            let (flow, open) = source.step(&state, rng);
            let voiced = tilt.step(flow) * level;
            // Breathiness: turbulence while the glottis is open, scaled with voicing.
            let breath = voice.breathiness * frame.voicing * (0.25 + 0.75 * open);
            let noise = white(rng) * ASPIRATION_GAIN * (breath + frame.aspiration);
            let mut y = nasal_zero.step(nasal_pole.step(voiced + noise));
            for resonator in &mut cascade {
                y = resonator.step(y);
            }
            let radiated = y - previous;
            previous = y;
            let fric = frication.step(white(rng) * frame.frication) * FRICATION_GAIN;
            out.push((voice.gain * (radiated + fric)) as f32);
        }
    }
    out
}
