//! Log-Mel extraction: frames → window → real FFT → power/magnitude → mel filters → log.

use super::Features;
use super::config::{FrontendConfig, LogCompression, SpectrumKind};
use super::framing::{fill_frame, frame_count};
use super::mel::MelFilterbank;
use super::window::window;
use crate::AudioError;
use realfft::RealToComplex;
use realfft::num_complex::Complex;
use std::sync::Arc;

/// A prepared front-end: window, FFT plan and filterbank for one [`FrontendConfig`].
///
/// Build it once and call [`LogMelExtractor::compute`] per utterance; it is `Send + Sync`, so
/// one extractor serves every rayon worker. The arithmetic runs in f64 (like the float64
/// reference implementations) and each output is rounded once to f32.
pub struct LogMelExtractor {
    cfg: FrontendConfig,
    /// (win_length,)
    window: Vec<f64>,
    filterbank: MelFilterbank,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for LogMelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMelExtractor")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl LogMelExtractor {
    /// Validates `cfg` and precomputes the window, the FFT plan and the filterbank.
    ///
    /// # Errors
    /// [`AudioError::InvalidConfig`] naming the offending field.
    pub fn new(cfg: &FrontendConfig) -> Result<Self, AudioError> {
        cfg.validate()?;
        Ok(Self {
            cfg: cfg.clone(),
            window: window(cfg.window, cfg.win_length, cfg.periodic_window),
            filterbank: MelFilterbank::new(cfg),
            fft: realfft::RealFftPlanner::<f64>::new().plan_fft_forward(cfg.n_fft),
        })
    }

    /// The configuration this extractor implements.
    pub fn config(&self) -> &FrontendConfig {
        &self.cfg
    }

    /// The mel filterbank in use.
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }

    /// Log-Mel features of `samples` (mono, at `cfg.sample_rate`), shape (frames, n_mels).
    ///
    /// Per frame `t`: `x = frame_t · w` zero-padded to n_fft, `X = rfft(x)` (n_fft/2 + 1 bins),
    /// `P[k] = |X[k]|²` (or `|X[k]|`), `e[i] = Σ_k W[i,k]·P[k]`, `y[t,i] = ln(e[i] + offset)` or
    /// `ln(max(e[i], floor))`.
    ///
    /// # Errors
    /// [`AudioError::TooShort`] for an empty signal, or one shorter than a window with
    /// snip-edges framing.
    pub fn compute(&self, samples: &[f32]) -> Result<Features, AudioError> {
        let cfg = &self.cfg;
        let frames = frame_count(samples.len(), cfg)?;
        let n_mels = cfg.n_mels;
        let n_bins = self.filterbank.n_bins();

        // Scratch, reused across frames.
        let mut frame = vec![0.0f64; cfg.win_length]; // (win_length,)
        let mut fft_in = self.fft.make_input_vec(); // (n_fft,) — realfft overwrites it
        let mut fft_out: Vec<Complex<f64>> = self.fft.make_output_vec(); // (n_bins,)
        let mut fft_scratch = self.fft.make_scratch_vec();
        let mut spectrum = vec![0.0f64; n_bins]; // (n_bins,)
        let mut energies = vec![0.0f64; n_mels]; // (n_mels,)

        // (frames, n_mels), row-major.
        let mut data = Vec::with_capacity(frames * n_mels);
        for t in 0..frames {
            fill_frame(&mut frame, samples, t, cfg);
            // The window sits at the start of the FFT buffer, zeros after it. Where it sits
            // does not matter: moving it is a circular shift, which changes only the phase.
            for ((dst, x), w) in fft_in.iter_mut().zip(&frame).zip(&self.window) {
                *dst = x * w;
            }
            fft_in[cfg.win_length..].iter_mut().for_each(|x| *x = 0.0);
            // The buffers come from the plan itself, so realfft cannot reject their lengths.
            self.fft
                .process_with_scratch(&mut fft_in, &mut fft_out, &mut fft_scratch)
                .map_err(|e| AudioError::InvalidConfig {
                    field: "n_fft",
                    reason: format!("= {}: the FFT rejected its buffers: {e}", cfg.n_fft),
                })?;
            for (p, x) in spectrum.iter_mut().zip(&fft_out) {
                let power = x.norm_sqr();
                *p = match cfg.spectrum {
                    SpectrumKind::Power => power,
                    SpectrumKind::Magnitude => power.sqrt(),
                };
            }
            self.filterbank.apply(&mut energies, &spectrum);
            data.extend(energies.iter().map(|&e| compress(e, cfg.log) as f32));
        }
        Ok(Features {
            frames,
            bins: n_mels,
            data,
        })
    }
}

/// `ln(e + offset)` or `ln(max(e, floor))`.
fn compress(energy: f64, log: LogCompression) -> f64 {
    match log {
        LogCompression::Offset(offset) => (energy + f64::from(offset)).ln(),
        LogCompression::Floor(floor) => energy.max(f64::from(floor)).ln(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn sine_energy_lands_in_the_filter_at_its_frequency() {
        let cfg = FrontendConfig::default();
        let extractor = LogMelExtractor::new(&cfg).expect("cfg");
        let x: Vec<f32> = (0..8_000)
            .map(|n| (2.0 * PI * 1_000.0 * n as f64 / 16_000.0).sin() as f32)
            .collect();
        let feats = extractor.compute(&x).expect("features");
        assert_eq!((feats.frames, feats.bins), (51, 64));
        let centers = extractor.filterbank().centers_hz();
        let row = feats.frame(25);
        let argmax = (0..64)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .expect("bins");
        assert!(
            (centers[argmax] - 1_000.0).abs() < 60.0,
            "peak at {} Hz",
            centers[argmax]
        );
    }

    #[test]
    fn parseval_on_a_flat_filter() {
        // One rectangular "filter" of weight 1 over every bin would integrate the power; check the
        // FFT scaling instead through a unit impulse: |X[k]|² = w[i0]² for every k.
        let mut cfg = FrontendConfig::librosa_slaney(4);
        cfg.framing = super::super::config::Framing::SnipEdges;
        cfg.log = LogCompression::Floor(1e-30);
        let extractor = LogMelExtractor::new(&cfg).expect("cfg");
        let mut x = vec![0.0f32; 400];
        x[200] = 1.0; // periodic Hann of 400 has w[200] = 1
        let feats = extractor.compute(&x).expect("features");
        let fb = extractor.filterbank();
        for i in 0..4 {
            let row_sum: f64 = (0..fb.n_bins()).map(|k| fb.weight(i, k)).sum();
            let got = f64::from(feats.frame(0)[i]).exp();
            assert!(
                (got - row_sum).abs() < 1e-6 * row_sum,
                "filter {i}: {got} vs {row_sum}"
            );
        }
    }

    #[test]
    fn silence_hits_the_log_offset_and_floor() {
        let extractor = LogMelExtractor::new(&FrontendConfig::default()).expect("cfg");
        let feats = extractor.compute(&[0.0; 1_600]).expect("features");
        assert!(
            feats
                .data
                .iter()
                .all(|&v| (v - (1e-6f32).ln()).abs() < 1e-6)
        );
        let kaldi = LogMelExtractor::new(&FrontendConfig::kaldi_fbank(23)).expect("cfg");
        let feats = kaldi.compute(&[0.0; 1_600]).expect("features");
        assert!(feats.data.iter().all(|&v| v == f32::EPSILON.ln()));
    }
}
