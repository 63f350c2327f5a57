//! Built-in synthesiser, speakers: each speaker is drawn from a seeded distribution of
//! vocal-tract length (formant scaling), F0 floor and range, voice quality (open quotient,
//! breathiness, spectral tilt, jitter, shimmer, creak), speaking rate, articulation and level.
//! Female and male speakers have their own ranges (Peterson & Barney 1952; Hillenbrand et al.
//! 1995; Klatt & Klatt 1990 for the voice-quality differences), and the ranges overlap, so no
//! single measure identifies the sex.

use super::super::prosody::ClipRng;
use super::source::gaussian;

/// One parametric speaker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoiceSpeaker {
    pub female: bool,
    /// Formant frequencies relative to the adult-male targets (shorter tract → larger).
    pub formant_scale: f64,
    /// F0 floor of the neutral intonation contour, Hz.
    pub f0_floor_hz: f64,
    /// Span of the neutral contour above the floor, semitones.
    pub f0_range_st: f64,
    /// Glottal open quotient (modal ≈ 0.55; breathier voices are more open).
    pub open_quotient: f64,
    /// Aspiration noise relative to voicing (0 = none).
    pub breathiness: f64,
    /// Source spectral tilt, dB of attenuation at 3 kHz.
    pub tilt_db: f64,
    /// Relative period jitter.
    pub jitter: f64,
    /// Period-amplitude shimmer, dB.
    pub shimmer_db: f64,
    /// Tendency to creak at phrase ends (probability per period there).
    pub creak: f64,
    /// Speaking-rate factor (1 = the inventory's durations).
    pub rate: f64,
    /// Vowel articulation: 1 reaches the targets, < 1 undershoots towards the centre.
    pub articulation: f64,
    /// Recording level (speaker loudness and microphone distance), dB.
    pub level_db: f64,
}

/// Uniform in [lo, hi).
fn between(rng: &mut ClipRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

impl VoiceSpeaker {
    /// Speaker `index`'s sex: even indices are female, odd ones male.
    pub fn is_female(index: usize) -> bool {
        index.is_multiple_of(2)
    }

    /// Draws speaker `index` of a corpus seeded with `seed`; the sex alternates with the index
    /// (even female, odd male), so every session of two or more speakers has both.
    pub fn draw(seed: u64, index: usize) -> Self {
        let mut rng = ClipRng::new(seed ^ 0x5EED_5EA4_E700_0000, index as u64);
        let female = Self::is_female(index);
        // Log-normal around the sex's median: σ 0.045 (tract), 0.13 (F0 ≈ ±2.2 semitones).
        let (scale_median, f0_median) = if female { (1.17, 195.0) } else { (1.0, 105.0) };
        let formant_scale = scale_median * libm::exp(0.045 * gaussian(&mut rng));
        let f0_floor_hz = f0_median * libm::exp(0.13 * gaussian(&mut rng));
        let f0_range_st = (9.0 + 2.0 * gaussian(&mut rng)).clamp(5.0, 14.0);
        let (oq, breath) = if female {
            (between(&mut rng, 0.58, 0.72), between(&mut rng, 0.04, 0.20))
        } else {
            (between(&mut rng, 0.48, 0.62), between(&mut rng, 0.01, 0.12))
        };
        let tilt_db = (8.0 + 3.0 * gaussian(&mut rng)).clamp(2.0, 16.0);
        let jitter = between(&mut rng, 0.004, 0.012);
        let shimmer_db = between(&mut rng, 0.2, 0.5);
        let creak = if female {
            between(&mut rng, 0.0, 0.06)
        } else {
            between(&mut rng, 0.02, 0.12)
        };
        let rate = libm::exp(0.10 * gaussian(&mut rng));
        let articulation = between(&mut rng, 0.85, 1.05);
        let level_db = between(&mut rng, -3.0, 3.0);
        Self {
            female,
            formant_scale,
            f0_floor_hz,
            f0_range_st,
            open_quotient: oq,
            breathiness: breath,
            tilt_db,
            jitter,
            shimmer_db,
            creak,
            rate,
            articulation,
            level_db,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speakers_are_seeded_and_sexes_differ_on_average() {
        assert_eq!(VoiceSpeaker::draw(1, 3), VoiceSpeaker::draw(1, 3));
        assert_ne!(VoiceSpeaker::draw(1, 3), VoiceSpeaker::draw(2, 3));
        let speakers: Vec<VoiceSpeaker> = (0..200).map(|i| VoiceSpeaker::draw(7, i)).collect();
        let mean = |female: bool, f: fn(&VoiceSpeaker) -> f64| {
            let v: Vec<f64> = speakers
                .iter()
                .filter(|s| s.female == female)
                .map(f)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean(true, |s| s.f0_floor_hz) > 1.6 * mean(false, |s| s.f0_floor_hz));
        assert!(mean(true, |s| s.formant_scale) > 1.1 * mean(false, |s| s.formant_scale));
        // The ranges overlap: the lowest female floor is below the highest male floor.
        let lowest_female = speakers
            .iter()
            .filter(|s| s.female)
            .map(|s| s.f0_floor_hz)
            .fold(f64::INFINITY, f64::min);
        let highest_male = speakers
            .iter()
            .filter(|s| !s.female)
            .map(|s| s.f0_floor_hz)
            .fold(0.0, f64::max);
        assert!(
            lowest_female < highest_male,
            "{lowest_female} vs {highest_male}"
        );
    }
}
