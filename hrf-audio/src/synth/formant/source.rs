//! Built-in synthesiser, excitation: a Rosenberg (1971) glottal-flow pulse train driven by an F0
//! contour, with per-period jitter and shimmer, creak (irregular, alternating long periods),
//! pitch-synchronous aspiration noise (breathiness), and white noise for frication.
//!
//! One period of the flow, with open quotient `OQ` split into opening `Tp = OQ·s/(1+s)` and
//! closing `Tn = OQ/(1+s)` (speed quotient `s`), at phase `τ ∈ [0, 1)`:
//! `g = ½(1 − cos(πτ/Tp))` while opening, `g = cos(π(τ − Tp)/(2Tn))` while closing, `0` closed.
//! The abrupt closure is what excites the vocal tract; a shorter `OQ` (tense voice) sharpens
//! it and raises the high harmonics, a longer one (breathy voice) softens them.

use core::f64::consts::PI;

use super::super::prosody::ClipRng;

/// What the voice does in one period (sampled at the period's start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoiceState {
    /// Fundamental frequency, Hz.
    pub f0: f64,
    /// Open quotient of the glottal cycle, 0.3..0.9.
    pub open_quotient: f64,
    /// Jitter: relative standard deviation of consecutive periods (0.01 = 1%).
    pub jitter: f64,
    /// Shimmer: standard deviation of period amplitudes, dB.
    pub shimmer_db: f64,
    /// Probability, per period, of a creaky (long, weak, irregular) period.
    pub creak: f64,
}

/// Speed quotient (opening / closing duration) of the Rosenberg pulse.
const SPEED_QUOTIENT: f64 = 2.5;

/// The glottal source: produces the flow sample by sample and reports the open phase (for
/// pitch-synchronous aspiration).
#[derive(Clone, Debug)]
pub struct GlottalSource {
    sample_rate: f64,
    /// Position inside the current period, in samples.
    t: f64,
    /// Current period, samples.
    period: f64,
    /// Current period's amplitude factor (shimmer, creak).
    amplitude: f64,
    open_quotient: f64,
    /// Whether the last period was creaky (creak alternates strong and weak periods).
    creaky: bool,
}

impl GlottalSource {
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            t: 0.0,
            period: 0.0,
            amplitude: 1.0,
            open_quotient: 0.6,
            creaky: false,
        }
    }

    /// The next flow sample and the openness of the glottis (0 closed … 1 open); `state` is read
    /// only when a new period begins.
    pub fn step(&mut self, state: &VoiceState, rng: &mut ClipRng) -> (f64, f64) {
        if self.t >= self.period {
            self.t -= self.period.max(0.0);
            self.begin_period(state, rng);
        }
        let tau = self.t / self.period;
        self.t += 1.0;
        let oq = self.open_quotient;
        let tp = oq * SPEED_QUOTIENT / (1.0 + SPEED_QUOTIENT);
        let tn = oq / (1.0 + SPEED_QUOTIENT);
        let flow = if tau < tp {
            0.5 * (1.0 - libm::cos(PI * tau / tp))
        } else if tau < tp + tn {
            libm::cos(PI * (tau - tp) / (2.0 * tn))
        } else {
            0.0
        };
        (self.amplitude * flow, flow)
    }

    fn begin_period(&mut self, state: &VoiceState, rng: &mut ClipRng) {
        let f0 = state.f0.clamp(40.0, 1000.0);
        let jitter = (state.jitter * gaussian(rng)).clamp(-3.0 * state.jitter, 3.0 * state.jitter);
        let shimmer_db = state.shimmer_db * gaussian(rng);
        let mut period = self.sample_rate / f0 * (1.0 + jitter);
        let mut amplitude = libm::pow(10.0, shimmer_db / 20.0);
        let mut oq = state.open_quotient.clamp(0.25, 0.95);
        // Creak (vocal fry): long, irregular periods with alternating weak pulses and a short
        // open phase.
        if rng.uniform() < state.creak {
            period *= 1.4 + 0.9 * rng.uniform();
            amplitude *= if self.creaky { 0.35 } else { 0.8 };
            oq = oq.min(0.35);
            self.creaky = !self.creaky;
        } else {
            self.creaky = false;
        }
        self.period = period.max(2.0);
        self.amplitude = amplitude;
        self.open_quotient = oq;
    }
}

/// Approximately standard normal: the sum of four uniforms, centred and scaled (variance 1).
pub fn gaussian(rng: &mut ClipRng) -> f64 {
    let s = rng.uniform() + rng.uniform() + rng.uniform() + rng.uniform();
    (s - 2.0) * 3f64.sqrt()
}

/// White noise, uniform in [−1, 1).
#[inline]
pub fn white(rng: &mut ClipRng) -> f64 {
    2.0 * rng.uniform() - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modal(f0: f64) -> VoiceState {
        VoiceState {
            f0,
            open_quotient: 0.6,
            jitter: 0.0,
            shimmer_db: 0.0,
            creak: 0.0,
        }
    }

    #[test]
    fn pulse_train_has_the_requested_period_and_open_phase() {
        let mut source = GlottalSource::new(16_000.0);
        let mut rng = ClipRng::new(1, 1);
        let state = modal(100.0);
        let flow: Vec<f64> = (0..1600).map(|_| source.step(&state, &mut rng).0).collect();
        // Period 160 samples: the flow repeats exactly.
        for n in 200..1400 {
            assert!((flow[n] - flow[n + 160]).abs() < 1e-9, "sample {n}");
        }
        // Open for OQ = 60% of the period (96 samples), closed (0) for the rest.
        let open = flow[160..320].iter().filter(|&&g| g > 0.0).count();
        assert!((94..=97).contains(&open), "open for {open} samples");
        let peak = flow.iter().copied().fold(0.0, f64::max);
        assert!((peak - 1.0).abs() < 1e-3);
    }

    #[test]
    fn jitter_spreads_periods_and_creak_lengthens_them() {
        let periods = |state: VoiceState| {
            let mut source = GlottalSource::new(16_000.0);
            let mut rng = ClipRng::new(3, 9);
            let flow: Vec<f64> = (0..64_000)
                .map(|_| source.step(&state, &mut rng).0)
                .collect();
            // Period starts: flow leaves 0 again after a closed phase.
            let starts: Vec<usize> = (1..flow.len())
                .filter(|&n| flow[n - 1] == 0.0 && flow[n] > 0.0)
                .collect();
            starts
                .windows(2)
                .map(|w| (w[1] - w[0]) as f64)
                .collect::<Vec<f64>>()
        };
        let jittered = periods(VoiceState {
            jitter: 0.02,
            ..modal(100.0)
        });
        let mean = jittered.iter().sum::<f64>() / jittered.len() as f64;
        let sd = (jittered.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / jittered.len() as f64)
            .sqrt();
        assert!((mean - 160.0).abs() < 2.0, "mean period {mean}");
        assert!((sd / mean - 0.02).abs() < 0.006, "jitter {}", sd / mean);

        let creaky = periods(VoiceState {
            creak: 0.5,
            ..modal(100.0)
        });
        let mean_creaky = creaky.iter().sum::<f64>() / creaky.len() as f64;
        assert!(
            mean_creaky > 1.2 * 160.0,
            "creaky mean period {mean_creaky}"
        );
    }

    #[test]
    fn gaussian_has_unit_variance() {
        let mut rng = ClipRng::new(5, 5);
        let z: Vec<f64> = (0..40_000).map(|_| gaussian(&mut rng)).collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }
}
