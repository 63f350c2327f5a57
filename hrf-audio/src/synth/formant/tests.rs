//! Signal tests of the built-in synthesiser: measured F0, formants, syllable rhythm, level.

use super::super::pitch::{PitchConfig, PitchTracker};
use super::*;

fn modal_voice() -> render::Voice {
    render::Voice {
        open_quotient: 0.6,
        breathiness: 0.0,
        tilt_db: 0.0,
        jitter: 0.0,
        shimmer_db: 0.0,
        gain: 0.5,
    }
}

/// Autocorrelation LPC (Levinson–Durbin) of a Hann-windowed, pre-emphasised frame; returns the
/// predictor `a` with `a[0] = 1`.
fn lpc(frame: &[f32], order: usize) -> Vec<f64> {
    let n = frame.len();
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let pre = f64::from(frame[i])
                - if i > 0 {
                    0.97 * f64::from(frame[i - 1])
                } else {
                    0.0
                };
            pre * (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        })
        .collect();
    let r: Vec<f64> = (0..=order)
        .map(|k| (k..n).map(|i| x[i] * x[i - k]).sum())
        .collect();
    let mut a = vec![0.0; order + 1];
    a[0] = 1.0;
    let mut err = r[0];
    for i in 1..=order {
        let acc: f64 = (1..i).map(|j| a[j] * r[i - j]).sum::<f64>() + r[i];
        let k = -acc / err;
        let prev = a.clone();
        for j in 1..i {
            a[j] = prev[j] + k * prev[i - j];
        }
        a[i] = k;
        err *= 1.0 - k * k;
    }
    a
}

/// Frequencies (Hz) of the local maxima of the LPC envelope `1/|A(e^{jω})|` below 5 kHz.
fn envelope_peaks(a: &[f64], sr: f64) -> Vec<f64> {
    let env: Vec<f64> = (0..5000)
        .map(|f| {
            let w = std::f64::consts::TAU * f as f64 / sr;
            let (re, im) = a.iter().enumerate().fold((0.0, 0.0), |(re, im), (k, c)| {
                (re + c * (w * k as f64).cos(), im - c * (w * k as f64).sin())
            });
            1.0 / (re * re + im * im).sqrt()
        })
        .collect();
    (1..env.len() - 1)
        .filter(|&i| env[i] > env[i - 1] && env[i] >= env[i + 1])
        .map(|i| i as f64)
        .collect()
}

#[test]
fn sustained_vowel_has_the_requested_f0_and_formants() {
    let tracker = PitchTracker::new(PitchConfig::speech(SAMPLE_RATE));
    // /aa/ and /iy/ of an adult male and /ae/ scaled to a shorter (female) tract.
    let cases = [
        ([730.0, 1090.0, 2440.0, 3300.0, 4300.0], 110.0),
        ([270.0, 2290.0, 3010.0, 3500.0, 4300.0], 100.0),
        ([770.0, 2010.0, 2820.0, 3860.0, 5000.0], 120.0),
    ];
    for (formants, f0) in cases {
        let tracks = timeline::sustained(formants, f0, 1.0);
        let mut rng = ClipRng::new(1, 1);
        let samples = render::render(&tracks, &modal_voice(), &mut rng);
        assert!(samples.iter().all(|x| x.is_finite()));
        let track = tracker.track(&samples[1600..]);
        let mut voiced: Vec<f64> = track.voiced().collect();
        voiced.sort_by(f64::total_cmp);
        assert!(voiced.len() > 50, "{} voiced frames", voiced.len());
        let median = voiced[voiced.len() / 2];
        assert!(
            (median - f0).abs() / f0 < 0.01,
            "F0 {median:.2} Hz for a requested {f0} Hz"
        );
        // 64 ms from the steady middle; LPC order 18 (2 + fs/1 kHz).
        let a = lpc(&samples[6000..7024], 18);
        let peaks = envelope_peaks(&a, f64::from(SAMPLE_RATE));
        for &target in &formants[..3] {
            let nearest = peaks
                .iter()
                .copied()
                .min_by(|x, y| (x - target).abs().total_cmp(&(y - target).abs()))
                .unwrap_or(0.0);
            assert!(
                (nearest - target).abs() / target < 0.10,
                "formant {target} Hz: nearest spectral peak {nearest} Hz (peaks {peaks:?})"
            );
        }
    }
}

fn sentence_clip(seed: u64, key: u64, emotion: Emotion) -> (grammar::Sentence, Vec<f32>) {
    let sentence = grammar::sentence(&mut ClipRng::new(seed, key));
    let speaker = VoiceSpeaker::draw(seed, key as usize);
    let samples = utterance(
        &sentence,
        &speaker,
        emotion,
        Intensity::Normal,
        &Degradation::default(),
        &mut ClipRng::new(seed, 1000 + key),
    );
    (sentence, samples)
}

/// Frame energies (10 ms hop, 25 ms frames), dB.
fn envelope_db(samples: &[f32]) -> Vec<f64> {
    let (n, hop) = (400, 160);
    (0..samples.len().saturating_sub(n) / hop)
        .map(|t| {
            let frame = &samples[t * hop..t * hop + n];
            let power = frame.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n as f64;
            10.0 * (power + 1e-10).log10()
        })
        .collect()
}

/// The peak (Hz) of the energy envelope's modulation spectrum over 0.5–20 Hz.
///
/// Envelope: frame dB (25 ms, 10 ms hop), floored 30 dB below its peak, leading and trailing
/// silence trimmed. Phrase-level structure (pauses, declination) lives below ~1.5 Hz, so a 0.6 s
/// moving average is subtracted, as envelope-based syllable-rate estimators do. Spectrum: a DFT
/// on a 0.1 Hz grid.
fn modulation_peak_hz(samples: &[f32]) -> f64 {
    let db = envelope_db(samples);
    let top = db.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first = db.iter().position(|&d| d > top - 30.0).unwrap_or(0);
    let last = db
        .iter()
        .rposition(|&d| d > top - 30.0)
        .unwrap_or(db.len() - 1);
    let env: Vec<f64> = db[first..=last]
        .iter()
        .map(|&d| d.max(top - 30.0))
        .collect();
    let x: Vec<f64> = (0..env.len())
        .map(|t| {
            let (lo, hi) = (t.saturating_sub(30), (t + 30).min(env.len() - 1));
            env[t] - env[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
        })
        .collect();
    let power = |hz: f64| {
        let (re, im) = x.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, v)| {
            let w = std::f64::consts::TAU * hz * t as f64 / 100.0;
            (re + v * w.cos(), im + v * w.sin())
        });
        re * re + im * im
    };
    (5..=200)
        .map(|i| f64::from(i) * 0.1)
        .max_by(|a, b| power(*a).total_cmp(&power(*b)))
        .unwrap_or(0.0)
}

#[test]
fn sentences_have_a_syllable_rhythm_of_2_to_8_hz() {
    // Per sentence the peak is the syllable rate (4–6 Hz) or, in sentences made of three-syllable
    // words stressed on the first, the stress-foot rate (1.5–2 Hz, as in natural speech): at
    // least 35 of 40 must lie in 2–8 Hz, and the median in 3–7 Hz.
    let mut peaks = Vec::new();
    let mut outside = Vec::new();
    for key in 0..40 {
        let (sentence, samples) = sentence_clip(3, key, Emotion::Neutral);
        let peak = modulation_peak_hz(&samples);
        if !(2.0..=8.0).contains(&peak) {
            outside.push(format!("{peak:.1} Hz: {}", sentence.transcription()));
        }
        peaks.push(peak);
    }
    peaks.sort_by(f64::total_cmp);
    let median = peaks[peaks.len() / 2];
    assert!(
        outside.len() <= 5,
        "{} of 40 outside 2–8 Hz: {outside:#?}",
        outside.len()
    );
    assert!(
        (3.0..=7.0).contains(&median),
        "median modulation peak {median:.1} Hz"
    );
}

#[test]
fn clips_are_finite_and_never_clip() {
    for emotion in Emotion::ALL_SIX {
        for key in 0..4 {
            let (_, samples) = sentence_clip(11, key, emotion);
            assert!(samples.iter().all(|x| x.is_finite()), "{emotion:?}");
            let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(peak <= PEAK_LIMIT && peak > 0.01, "{emotion:?} peak {peak}");
            let seconds = samples.len() as f64 / 16_000.0;
            assert!((0.8..8.0).contains(&seconds), "{emotion:?} {seconds} s");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_samples() {
    let (_, a) = sentence_clip(5, 2, Emotion::Happy);
    let (_, b) = sentence_clip(5, 2, Emotion::Happy);
    assert_eq!(a, b);
    let (_, c) = sentence_clip(6, 2, Emotion::Happy);
    assert_ne!(a, c);
}
