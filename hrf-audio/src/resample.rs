//! Sample-rate conversion (WAV samples at any rate → 16 kHz) with rubato's synchronous FFT resampler.
//!
//! rubato's `Fft` resampler filters with a windowed sinc (Blackman–Harris², anti-aliasing cutoff
//! just below the lower Nyquist frequency) applied by overlap-add FFT convolution, so it is
//! band-limited and, unlike linear interpolation, does not alias. It is fully deterministic:
//! the same input, rates and CPU feature set give the same output bits.

use crate::AudioError;
use crate::wav::SAMPLE_RATES;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// Nominal chunk length (input frames) of one FFT block. rubato rounds it to a multiple of the
/// reduced rate ratio. Longer blocks give a sharper anti-aliasing filter; the delay they add is
/// trimmed by `process_all`, so offline it costs nothing.
const CHUNK_FRAMES: usize = 2048;

/// Resamples a mono signal from `from_hz` to `to_hz`.
///
/// The output has exactly `round(len · to_hz / from_hz)` samples and is time-aligned with the
/// input (output sample `k` sits at input time `k · from_hz / to_hz`) to within one input
/// sample: rubato trims its start-up delay in whole output frames, which leaves a constant
/// sub-sample lag (measured: +1 input sample at 48 kHz → 16 kHz, −½ at 22.05 and 44.1 kHz,
/// 0 at 8 kHz). The tail is flushed with zeros, so no samples are lost at either end; the last
/// few output samples (about one filter half-length) see that zero padding, as any band-limited
/// resampler's would.
///
/// Equal rates return a copy; an empty input returns an empty output. The arithmetic runs in
/// f64 and is rounded once to f32.
///
/// # Errors
/// [`AudioError::Resample`] if a rate is outside [`SAMPLE_RATES`] or rubato rejects the
/// conversion.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, AudioError> {
    let error = |reason: String| AudioError::Resample {
        from_hz,
        to_hz,
        reason,
    };
    // rubato's FFT lengths grow with the reduced rate ratio (up to the rates themselves when
    // they are coprime): the range bounds the plan to a few MB.
    if !(SAMPLE_RATES.contains(&from_hz) && SAMPLE_RATES.contains(&to_hz)) {
        return Err(error(format!(
            "sample rates must lie in {}–{} Hz",
            SAMPLE_RATES.start(),
            SAMPLE_RATES.end()
        )));
    }
    if from_hz == to_hz || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let out_len = resampled_len(samples.len(), from_hz, to_hz);

    let input: Vec<f64> = samples.iter().map(|&x| f64::from(x)).collect();
    let mono = InterleavedSlice::new(&input[..], 1, input.len())
        .map_err(|e| error(format!("input buffer: {e}")))?;
    let mut resampler = Fft::<f64>::new_custom(
        from_hz as usize,
        to_hz as usize,
        CHUNK_FRAMES,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .map_err(|e| error(e.to_string()))?;
    let resampled = resampler
        .process_all(&mono, input.len(), None)
        .map_err(|e| error(e.to_string()))?;

    // rubato returns ceil(len · ratio) frames; keep round(len · ratio), padding defensively.
    let mut out: Vec<f32> = resampled
        .take_data()
        .into_iter()
        .map(|x| x as f32)
        .collect();
    out.resize(out_len, 0.0);
    Ok(out)
}

/// `round(len · to_hz / from_hz)` in exact integer arithmetic (halves round up).
pub fn resampled_len(len: usize, from_hz: u32, to_hz: u32) -> usize {
    let numerator = len as u128 * u128::from(to_hz);
    let from = u128::from(from_hz.max(1));
    ((numerator + from / 2) / from) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(freq: f64, rate: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (2.0 * PI * freq * n as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// Resamples a unit sine and fits `a·sin(ωk) + b·cos(ωk)` at the expected frequency ω over
    /// the output (ends excluded, where the signal was cut off, not resampled). Checks the length,
    /// the amplitude √(a²+b²) ≈ 1, the frequency (the residual after the fit is tiny, which it
    /// would not be at any other frequency) and the alignment (the phase lag is below one input
    /// sample).
    fn check_sine(from_hz: u32, freq: f64) {
        let len = from_hz as usize / 2; // 0.5 s
        let out = resample(&sine(freq, from_hz, len), from_hz, 16_000).expect("resample");
        assert_eq!(out.len(), resampled_len(len, from_hz, 16_000));
        assert_eq!(out.len(), 8_000);
        let middle = 200..out.len() - 200;
        let omega = 2.0 * PI * freq / 16_000.0;
        let (mut sa, mut cb) = (0.0f64, 0.0f64);
        for k in middle.clone() {
            sa += f64::from(out[k]) * (omega * k as f64).sin();
            cb += f64::from(out[k]) * (omega * k as f64).cos();
        }
        let n = middle.len() as f64;
        let (a, b) = (2.0 * sa / n, 2.0 * cb / n);
        let amplitude = a.hypot(b);
        assert!(
            (amplitude - 1.0).abs() < 1e-3,
            "{from_hz} Hz, {freq} Hz: amplitude {amplitude}"
        );
        let residual = middle
            .clone()
            .map(|k| {
                let fit = a * (omega * k as f64).sin() + b * (omega * k as f64).cos();
                (f64::from(out[k]) - fit).abs()
            })
            .fold(0.0f64, f64::max);
        assert!(
            residual < 1e-3,
            "{from_hz} Hz, {freq} Hz: residual {residual}"
        );
        // y ≈ sin(ω(k − lag)) ⇒ lag = −atan2(b, a)/ω, in output samples.
        let lag_in_input_samples = -b.atan2(a) / omega * f64::from(from_hz) / 16_000.0;
        assert!(
            lag_in_input_samples.abs() <= 1.0 + 1e-6,
            "lag {lag_in_input_samples}"
        );
    }

    #[test]
    fn downsample_22050_preserves_a_1khz_sine() {
        check_sine(22_050, 1_000.0);
        check_sine(22_050, 3_000.0);
    }

    #[test]
    fn downsample_48000_preserves_a_1khz_sine() {
        check_sine(48_000, 1_000.0);
    }

    #[test]
    fn upsample_8000_preserves_a_1khz_sine() {
        check_sine(8_000, 1_000.0);
    }

    #[test]
    fn tail_is_kept() {
        // A constant-amplitude sine must still be there right up to the last filter half-length.
        let from = 22_050;
        let out = resample(&sine(500.0, from, 22_050), from, 16_000).expect("resample");
        assert_eq!(out.len(), 16_000);
        let tail = &out[out.len() - 400..out.len() - 100];
        let peak = tail.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak > 0.99, "tail peak {peak}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        // 12 kHz cannot exist at 16 kHz; a naive decimator would fold it to 4 kHz.
        let out = resample(&sine(12_000.0, 48_000, 24_000), 48_000, 16_000).expect("resample");
        let rms = (out[200..out.len() - 200]
            .iter()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
            / (out.len() - 400) as f64)
            .sqrt();
        assert!(rms < 1e-3, "aliased rms {rms}");
    }

    #[test]
    fn deterministic_and_length_rounds() {
        let x = sine(440.0, 44_100, 12_345);
        let a = resample(&x, 44_100, 16_000).expect("resample");
        let b = resample(&x, 44_100, 16_000).expect("resample");
        assert_eq!(a, b);
        // 12345 · 16000 / 44100 = 4478.91… → 4479
        assert_eq!(a.len(), 4_479);
        assert_eq!(resampled_len(3, 2, 1), 2); // 1.5 rounds up
    }

    #[test]
    fn trivial_cases_and_errors() {
        assert_eq!(
            resample(&[], 22_050, 16_000).expect("empty"),
            Vec::<f32>::new()
        );
        assert_eq!(
            resample(&[0.5, -0.5], 16_000, 16_000).expect("same"),
            vec![0.5, -0.5]
        );
        let err = resample(&[0.0; 10], 0, 16_000).expect_err("zero rate");
        assert_eq!(
            err.to_string(),
            "cannot resample from 0 Hz to 16000 Hz: sample rates must lie in 1000–384000 Hz"
        );
        let err = resample(&[0.0; 10], 4_294_967_291, 16_000).expect_err("huge rate");
        assert_eq!(
            err.to_string(),
            "cannot resample from 4294967291 Hz to 16000 Hz: sample rates must lie in 1000–384000 Hz"
        );
        // Coprime rates at the top of the range: the plan is bounded and the length exact.
        let out = resample(&[0.25; 1_000], 383_999, 16_000).expect("coprime");
        assert_eq!(out.len(), resampled_len(1_000, 383_999, 16_000));
    }
}
