//! Built-in synthesiser, emotion rules: per-emotion prosody (F0 level, range and contour shape,
//! rate, intensity, pauses), voice quality (tense, breathy, creaky, tremulous) and articulation,
//! relative to the speaker's neutral voice.
//!
//! The directions follow Murray & Arnott (1993, Table 1), Banse & Scherer (1996, Table 6: hot
//! anger and elation raise mean F0, F0 variability and energy; sadness lowers them and slows
//! down; panic fear raises F0 most) and Scherer (2003, Table 2: tense voice and steep falls for
//! anger, breathy or creaky lax voice and hypo-articulation for sadness, irregular voicing for
//! fear). At normal intensity (the values are doubled in the log or linear domain for strong
//! takes, exponent 1.8):
//!
//! | emotion | F0 level | F0 range | contour | rate | level | pauses | voice quality | articulation |
//! |---|---|---|---|---|---|---|---|---|
//! | neutral | 0 st | ×1 | declarative, declining | ×1 | 0 dB | ×1 | modal | 1 |
//! | angry | +2.5 st | ×1.35 | early peaks, steep falls | ×1.06 | +5 dB | ×0.7 | tense: OQ −0.10, tilt −5 dB, jitter ×1.3 | ×1.12 (hyper) |
//! | happy | +3.5 st | ×1.5 | late peaks, upward inflections | ×1.10 | +2.5 dB | ×0.85 | slightly breathy, tilt −2 dB | ×1.05 |
//! | sad | −1.5 st | ×0.6 | flat, falling ends, steeper declination | ×0.82 | −4.5 dB | ×1.5 | breathy and lax: OQ +0.10, aspiration +0.08, tilt +5 dB, creak +0.3 | ×0.8 (hypo) |
//! | fear | +5 st | ×1.15 | irregular, 6 Hz tremor 0.6 st | ×1.18 | 0 dB | ×1.2 | breathy, jitter ×1.8 | ×1.05 |
//! | disgust | −2 st | ×1.1 | wide terminal falls | ×0.8 | −1.5 dB | ×1.3 | creaky, grumbled: creak +0.25, jitter ×1.3 | ×0.95 |
//!
//! Each clip realises its emotion with a random expressiveness `e ∈ [E_MIN, E_MAX]` and
//! independent per-parameter noise, so classes overlap as they do in acted corpora: a mild take
//! of happy and an excited neutral one can sound alike.

use super::super::prosody::{ClipRng, Emotion, Intensity};
use super::source::gaussian;

/// One emotion's deviation from neutral (the table above). Additive fields are 0 for neutral,
/// multiplicative ones 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmotionRule {
    /// F0 level shift, semitones.
    pub f0_shift_st: f64,
    /// F0 range factor (accents and declination).
    pub range: f64,
    /// Accent shape: −1 early peak and steep fall … +1 late peak and rise.
    pub accent_shape: f64,
    /// Terminal movement at the sentence end, in units of the range (negative = fall).
    pub terminal: f64,
    /// Speaking-rate factor.
    pub rate: f64,
    /// Level change, dB.
    pub level_db: f64,
    /// Pause-duration factor.
    pub pauses: f64,
    /// Open-quotient change.
    pub open_quotient: f64,
    /// Aspiration change.
    pub breathiness: f64,
    /// Spectral-tilt change, dB at 3 kHz.
    pub tilt_db: f64,
    /// Jitter factor.
    pub jitter: f64,
    /// Creak-probability change.
    pub creak: f64,
    /// F0 tremor depth, semitones (about 6 Hz).
    pub tremor_st: f64,
    /// Articulation factor (vowel targets relative to the centre).
    pub articulation: f64,
}

/// The rules of the table in the module docs.
pub fn rule(emotion: Emotion) -> EmotionRule {
    let neutral = EmotionRule {
        f0_shift_st: 0.0,
        range: 1.0,
        accent_shape: 0.0,
        terminal: -0.3,
        rate: 1.0,
        level_db: 0.0,
        pauses: 1.0,
        open_quotient: 0.0,
        breathiness: 0.0,
        tilt_db: 0.0,
        jitter: 1.0,
        creak: 0.0,
        tremor_st: 0.0,
        articulation: 1.0,
    };
    match emotion {
        Emotion::Neutral => neutral,
        Emotion::Angry => EmotionRule {
            f0_shift_st: 2.5,
            range: 1.35,
            accent_shape: -0.7,
            terminal: -0.5,
            rate: 1.06,
            level_db: 5.0,
            pauses: 0.7,
            open_quotient: -0.10,
            tilt_db: -5.0,
            jitter: 1.3,
            articulation: 1.12,
            ..neutral
        },
        Emotion::Happy => EmotionRule {
            f0_shift_st: 3.5,
            range: 1.5,
            accent_shape: 0.7,
            terminal: -0.1,
            rate: 1.10,
            level_db: 2.5,
            pauses: 0.85,
            breathiness: 0.02,
            tilt_db: -2.0,
            articulation: 1.05,
            ..neutral
        },
        Emotion::Sad => EmotionRule {
            f0_shift_st: -1.5,
            range: 0.6,
            accent_shape: -0.2,
            terminal: -0.45,
            rate: 0.82,
            level_db: -4.5,
            pauses: 1.5,
            open_quotient: 0.10,
            breathiness: 0.08,
            tilt_db: 5.0,
            jitter: 1.2,
            creak: 0.3,
            articulation: 0.8,
            ..neutral
        },
        Emotion::Fear => EmotionRule {
            f0_shift_st: 5.0,
            range: 1.15,
            accent_shape: 0.2,
            terminal: 0.1,
            rate: 1.18,
            pauses: 1.2,
            open_quotient: 0.04,
            breathiness: 0.06,
            tilt_db: 1.0,
            jitter: 1.8,
            tremor_st: 0.6,
            articulation: 1.05,
            ..neutral
        },
        Emotion::Disgust => EmotionRule {
            f0_shift_st: -2.0,
            range: 1.1,
            accent_shape: -0.4,
            terminal: -0.8,
            rate: 0.8,
            level_db: -1.5,
            pauses: 1.3,
            open_quotient: -0.04,
            tilt_db: 1.0,
            jitter: 1.3,
            creak: 0.25,
            articulation: 0.95,
            ..neutral
        },
    }
}

/// Expressiveness bounds: a take realises between 20% and 130% of its emotion's rule.
pub const E_MIN: f64 = 0.20;
pub const E_MAX: f64 = 1.30;

/// How strongly strong takes exaggerate (the exponent on multiplicative factors, the factor on
/// additive ones).
fn strength(intensity: Intensity) -> f64 {
    match intensity {
        Intensity::Normal => 1.0,
        Intensity::Strong => 1.8,
    }
}

/// One clip's realised rule: the emotion's at the take's strength, with per-parameter noise.
pub fn take(emotion: Emotion, intensity: Intensity, rng: &mut ClipRng) -> EmotionRule {
    let r = rule(emotion);
    let s = strength(intensity) * (E_MIN + (E_MAX - E_MIN) * rng.uniform());
    let mut add = |value: f64, sigma: f64| s * value + sigma * gaussian(rng);
    let f0_shift_st = add(r.f0_shift_st, 1.0);
    let accent_shape = add(r.accent_shape, 0.25).clamp(-1.0, 1.0);
    let terminal = add(r.terminal, 0.1);
    let level_db = add(r.level_db, 2.0);
    let open_quotient = add(r.open_quotient, 0.03);
    let breathiness = add(r.breathiness, 0.02);
    let tilt_db = add(r.tilt_db, 1.5);
    let creak = add(r.creak, 0.03).max(0.0);
    let tremor_st = add(r.tremor_st, 0.05).max(0.0);
    let mut mul = |value: f64, sigma: f64| libm::exp(s * libm::log(value) + sigma * gaussian(rng));
    EmotionRule {
        f0_shift_st,
        range: mul(r.range, 0.15),
        accent_shape,
        terminal,
        rate: mul(r.rate, 0.06),
        level_db,
        pauses: mul(r.pauses, 0.2),
        open_quotient,
        breathiness,
        tilt_db,
        jitter: mul(r.jitter, 0.15),
        creak,
        tremor_st,
        articulation: mul(r.articulation, 0.04),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_average_to_the_rule_at_the_mean_expressiveness() {
        let mean_e = (E_MIN + E_MAX) / 2.0;
        for emotion in Emotion::ALL_SIX {
            let mut rng = ClipRng::new(2, emotion as u64);
            let n = 4000;
            let (mut f0, mut rate) = (0.0, 0.0);
            for _ in 0..n {
                let t = take(emotion, Intensity::Normal, &mut rng);
                f0 += t.f0_shift_st / n as f64;
                rate += libm::log(t.rate) / n as f64;
            }
            let r = rule(emotion);
            assert!(
                (f0 - mean_e * r.f0_shift_st).abs() < 0.06,
                "{emotion:?} f0 {f0}"
            );
            assert!(
                (rate - mean_e * libm::log(r.rate)).abs() < 0.01,
                "{emotion:?} rate {rate}"
            );
        }
    }

    #[test]
    fn rules_follow_the_literature_directions() {
        let (n, a, h, s, f, d) = (
            rule(Emotion::Neutral),
            rule(Emotion::Angry),
            rule(Emotion::Happy),
            rule(Emotion::Sad),
            rule(Emotion::Fear),
            rule(Emotion::Disgust),
        );
        assert!(a.f0_shift_st > 0.0 && h.f0_shift_st > 0.0 && f.f0_shift_st > h.f0_shift_st);
        assert!(s.f0_shift_st < 0.0 && d.f0_shift_st < s.f0_shift_st);
        assert!(a.level_db > h.level_db && h.level_db > n.level_db && s.level_db < n.level_db);
        assert!(s.rate < 1.0 && d.rate < 1.0 && f.rate > a.rate);
        assert!(s.range < 1.0 && h.range > a.range);
        assert!(a.open_quotient < 0.0 && s.open_quotient > 0.0 && s.creak > 0.0);
    }
}
