//! Synthetic corpus, analysis side: an autocorrelation pitch tracker (Boersma 1993) for the
//! prosodic sanity check of `hrf synth --check`.
//!
//! Per frame `x` (mean removed, Hann-windowed `w`), the normalised autocorrelation is divided by
//! the window's own: `r(τ) = (r_xw(τ) / r_xw(0)) / (r_w(τ) / r_w(0))`, which undoes the window's
//! taper so a periodic frame scores ≈ 1 at its period. Both come from one zero-padded real FFT:
//! `r = IFFT(|FFT(x·w)|²)`. The period is the shortest-lag local maximum within 10% of the best
//! (avoiding sub-octave errors), refined by parabolic interpolation; the frame is voiced when that
//! peak reaches the voicing threshold and the frame is not silent.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Pitch-tracker settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PitchConfig {
    /// Samples per second of the input.
    pub sample_rate: u32,
    /// Analysis window in seconds (≥ 3 periods of `min_hz`, as Boersma recommends for Hann).
    pub frame_s: f64,
    /// Hop between frames in seconds.
    pub hop_s: f64,
    /// Lowest F0 searched, Hz.
    pub min_hz: f64,
    /// Highest F0 searched, Hz.
    pub max_hz: f64,
    /// Minimum normalised autocorrelation peak for a voiced frame (Praat's default 0.45).
    pub voicing_threshold: f64,
    /// A frame whose peak |x| is below this fraction of the signal's peak is silent (Praat 0.03).
    pub silence_threshold: f64,
}

impl PitchConfig {
    /// Speech defaults for 16 kHz: 40 ms frames, 10 ms hop, 60–600 Hz.
    pub fn speech(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            frame_s: 0.040,
            hop_s: 0.010,
            min_hz: 60.0,
            max_hz: 600.0,
            voicing_threshold: 0.45,
            silence_threshold: 0.03,
        }
    }

    fn frame_len(&self) -> usize {
        (self.frame_s * f64::from(self.sample_rate))
            .round()
            .max(2.0) as usize
    }

    fn hop_len(&self) -> usize {
        (self.hop_s * f64::from(self.sample_rate)).round().max(1.0) as usize
    }
}

/// The pitch contour of one signal.
#[derive(Clone, Debug, PartialEq)]
pub struct PitchTrack {
    /// (frames,) — F0 in Hz per frame; `None` where the frame is unvoiced or silent.
    pub f0_hz: Vec<Option<f64>>,
}

impl PitchTrack {
    /// The voiced frames' F0 values, in frame order.
    pub fn voiced(&self) -> impl Iterator<Item = f64> + '_ {
        self.f0_hz.iter().flatten().copied()
    }
}

/// A reusable tracker: FFT plans and the window's autocorrelation are computed once.
pub struct PitchTracker {
    config: PitchConfig,
    /// (frame_len,) — Hann window.
    window: Vec<f64>,
    /// (max_lag + 2,) — the window's normalised autocorrelation r_w(τ)/r_w(0).
    window_acf: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    fft_len: usize,
    min_lag: usize,
    max_lag: usize,
}

impl PitchTracker {
    pub fn new(config: PitchConfig) -> Self {
        let n = config.frame_len();
        let sr = f64::from(config.sample_rate);
        let min_lag = ((sr / config.max_hz).floor() as usize).max(2);
        // The window's autocorrelation vanishes at lag n; stay well inside it.
        let max_lag = ((sr / config.min_hz).ceil() as usize)
            .min(n * 3 / 4)
            .max(min_lag + 2);
        // Zero-padding to ≥ n + max_lag keeps the circular autocorrelation linear up to max_lag.
        let fft_len = (n + max_lag + 2).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(fft_len);
        let inverse = planner.plan_fft_inverse(fft_len);
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / n as f64).cos())
            .collect();
        let mut tracker = Self {
            config,
            window: window.clone(),
            window_acf: Vec::new(),
            forward,
            inverse,
            fft_len,
            min_lag,
            max_lag,
        };
        let acf = tracker.autocorrelation(&window);
        tracker.window_acf = acf;
        tracker
    }

    /// r(τ)/r(0) for τ in 0..=max_lag+1, via `IFFT(|FFT(x)|²)` (zero r(0) gives all zeros).
    fn autocorrelation(&self, frame: &[f64]) -> Vec<f64> {
        let mut input = vec![0.0; self.fft_len];
        input[..frame.len()].copy_from_slice(frame);
        let mut spectrum = self.forward.make_output_vec();
        // Lengths match the plans by construction, so the FFT cannot fail.
        if self.forward.process(&mut input, &mut spectrum).is_err() {
            return vec![0.0; self.max_lag + 2];
        }
        for bin in spectrum.iter_mut() {
            *bin = realfft::num_complex::Complex::new(bin.norm_sqr(), 0.0);
        }
        let mut acf = vec![0.0; self.fft_len];
        if self.inverse.process(&mut spectrum, &mut acf).is_err() || acf[0] <= 0.0 {
            return vec![0.0; self.max_lag + 2];
        }
        let r0 = acf[0];
        acf.truncate(self.max_lag + 2);
        acf.iter_mut().for_each(|r| *r /= r0);
        acf
    }

    /// Tracks F0 over `samples` (at `config.sample_rate`). Frame `t` covers
    /// `[t·hop, t·hop + frame_len)`; a signal shorter than one frame has no frames.
    pub fn track(&self, samples: &[f32]) -> PitchTrack {
        let n = self.window.len();
        let hop = self.config.hop_len();
        if samples.len() < n {
            return PitchTrack { f0_hz: Vec::new() };
        }
        let frames = 1 + (samples.len() - n) / hop;
        let global_peak = samples.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
        let silence = f64::from(global_peak) * self.config.silence_threshold;
        let mut frame = vec![0.0f64; n];
        let f0_hz = (0..frames)
            .map(|t| {
                let raw = &samples[t * hop..t * hop + n];
                let local_peak = raw.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
                if global_peak == 0.0 || f64::from(local_peak) < silence {
                    return None;
                }
                let mean = raw.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
                for ((f, &x), &w) in frame.iter_mut().zip(raw).zip(&self.window) {
                    *f = (f64::from(x) - mean) * w;
                }
                self.frame_f0(&self.autocorrelation(&frame))
            })
            .collect();
        PitchTrack { f0_hz }
    }

    /// F0 of one frame from its normalised autocorrelation, or `None` if unvoiced.
    fn frame_f0(&self, acf: &[f64]) -> Option<f64> {
        // r(τ) = r_xw(τ)/r_w(τ), both already divided by their lag-0 values.
        let r = |lag: usize| acf[lag] / self.window_acf[lag].max(1e-9);
        let is_peak = |lag: usize| r(lag) >= r(lag - 1) && r(lag) > r(lag + 1);
        let peaks: Vec<usize> = (self.min_lag..=self.max_lag)
            .filter(|&lag| is_peak(lag))
            .collect();
        let best = peaks
            .iter()
            .map(|&lag| r(lag))
            .fold(f64::NEG_INFINITY, f64::max);
        if best < self.config.voicing_threshold {
            return None;
        }
        let lag = *peaks.iter().find(|&&lag| r(lag) >= 0.9 * best)?;
        // Parabola through (−1, a), (0, b), (1, c): vertex at δ = (a − c) / (2(a − 2b + c)).
        let (a, b, c) = (r(lag - 1), r(lag), r(lag + 1));
        let curvature = a - 2.0 * b + c;
        let delta = if curvature < 0.0 {
            (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        Some(f64::from(self.config.sample_rate) / (lag as f64 + delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, harmonics: &[f64], seconds: f64, sr: u32) -> Vec<f32> {
        let n = (seconds * f64::from(sr)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(sr);
                let x: f64 = harmonics
                    .iter()
                    .enumerate()
                    .map(|(k, &a)| a * (std::f64::consts::TAU * hz * (k + 1) as f64 * t).sin())
                    .sum();
                (0.3 * x) as f32
            })
            .collect()
    }

    #[test]
    fn sine_pitch_is_recovered_within_a_quarter_hertz() {
        for hz in [95.0, 200.0, 347.5] {
            let tracker = PitchTracker::new(PitchConfig::speech(16_000));
            let track = tracker.track(&tone(hz, &[1.0], 1.0, 16_000));
            // 1 s, 40 ms frames, 10 ms hop: 1 + (16000 − 640) / 160 = 97 frames, all voiced.
            assert_eq!(track.f0_hz.len(), 97);
            for f0 in &track.f0_hz {
                let f0 = f0.expect("every frame of a sine is voiced");
                assert!((f0 - hz).abs() < 0.25, "{f0} Hz for a {hz} Hz sine");
            }
        }
    }

    #[test]
    fn harmonic_tone_with_weak_fundamental_gives_no_octave_error() {
        // 150 Hz with a fundamental weaker than its 2nd and 3rd harmonics (a vowel-like source):
        // the lag-T peak and the lag-2T peak are both ≈ 1; the shortest one must win.
        let tracker = PitchTracker::new(PitchConfig::speech(16_000));
        let track = tracker.track(&tone(150.0, &[0.3, 1.0, 0.8, 0.4], 0.5, 16_000));
        let voiced: Vec<f64> = track.voiced().collect();
        assert_eq!(voiced.len(), track.f0_hz.len());
        assert!(
            voiced.iter().all(|f0| (f0 - 150.0).abs() < 0.5),
            "{voiced:?}"
        );
    }

    #[test]
    fn silence_and_noise_are_unvoiced() {
        let tracker = PitchTracker::new(PitchConfig::speech(16_000));
        assert!(tracker.track(&vec![0.0; 8000]).voiced().next().is_none());
        // Seeded uniform white noise (64-bit LCG, Knuth's MMIX constants).
        let mut state = 42u64;
        let noise: Vec<f32> = (0..16_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        let track = tracker.track(&noise);
        let voiced = track.voiced().count();
        assert!(
            voiced * 10 < track.f0_hz.len(),
            "{voiced} of {} noise frames voiced",
            track.f0_hz.len()
        );
    }

    #[test]
    fn short_signal_has_no_frames() {
        let tracker = PitchTracker::new(PitchConfig::speech(16_000));
        assert!(tracker.track(&[0.1; 100]).f0_hz.is_empty());
    }
}
