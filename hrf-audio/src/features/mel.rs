//! Mel scales and the triangular mel filterbank that maps FFT power bins to mel energies.

use super::config::{FrontendConfig, MelNorm, MelScale, TriangleDomain};

/// Slaney scale: linear below 1 kHz with slope 3/200 mel/Hz, logarithmic above with 27 mels
/// per factor 6.4.
const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1_000.0;
const SLANEY_MIN_LOG_MEL: f64 = SLANEY_MIN_LOG_HZ / SLANEY_HZ_PER_MEL; // 15
fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz → mel.
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Kaldi => 1127.0 * (1.0 + hz / 700.0).ln(),
        MelScale::Slaney if hz < SLANEY_MIN_LOG_HZ => hz / SLANEY_HZ_PER_MEL,
        MelScale::Slaney => SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_log_step(),
    }
}

/// mel → Hz, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Kaldi => 700.0 * ((mel / 1127.0).exp() - 1.0),
        MelScale::Slaney if mel < SLANEY_MIN_LOG_MEL => mel * SLANEY_HZ_PER_MEL,
        MelScale::Slaney => {
            SLANEY_MIN_LOG_HZ * (slaney_log_step() * (mel - SLANEY_MIN_LOG_MEL)).exp()
        }
    }
}

/// One filter: weights for the contiguous FFT bins `start..start + weights.len()`.
#[derive(Debug, Clone, PartialEq)]
struct MelFilter {
    start: usize,
    /// (bins in the filter's support,)
    weights: Vec<f64>,
}

/// A bank of `n_mels` triangular filters over the `n_fft/2 + 1` non-negative FFT bins,
/// stored sparsely (each filter touches a few dozen bins at most).
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilterbank {
    /// (n_mels,)
    filters: Vec<MelFilter>,
    /// (n_mels,) — centre frequency of each filter in Hz.
    centers_hz: Vec<f64>,
    n_bins: usize,
}

impl MelFilterbank {
    /// Builds the filterbank of `cfg` (scale, triangle domain, norm, f_min..f_max, n_fft, rate).
    ///
    /// Edges: `n_mels + 2` points equally spaced in mel from `mel(f_min)` to `mel(f_max)`,
    /// `m_j = m_min + j·Δ`, `f_j = mel⁻¹(m_j)`. Filter `i` rises over `[f_i, f_{i+1}]` and falls
    /// over `[f_{i+1}, f_{i+2}]`; bin `k` sits at `k·sr/n_fft` Hz.
    /// - Hz triangles (librosa): `w = max(0, min((f−f_i)/(f_{i+1}−f_i), (f_{i+2}−f)/(f_{i+2}−f_{i+1})))`.
    /// - Mel triangles (Kaldi): the same in mel, non-zero only strictly inside `(m_i, m_{i+2})`.
    /// - Slaney norm multiplies row `i` by `2/(f_{i+2} − f_i)` (unit area in Hz).
    pub fn new(cfg: &FrontendConfig) -> Self {
        let scale = cfg.mel_scale;
        let n_bins = cfg.n_fft / 2 + 1;
        let mel_min = hz_to_mel(f64::from(cfg.f_min), scale);
        let mel_max = hz_to_mel(f64::from(cfg.f_max), scale);
        let delta = (mel_max - mel_min) / (cfg.n_mels + 1) as f64;
        // (n_mels + 2,) — filter edges in mel and in Hz.
        let edges_mel: Vec<f64> = (0..cfg.n_mels + 2)
            .map(|j| mel_min + j as f64 * delta)
            .collect();
        let edges_hz: Vec<f64> = edges_mel.iter().map(|&m| mel_to_hz(m, scale)).collect();
        let bin_hz = f64::from(cfg.sample_rate) / cfg.n_fft as f64;

        let filters = (0..cfg.n_mels)
            .map(|i| {
                let dense = (0..n_bins).map(|k| {
                    let f = k as f64 * bin_hz;
                    let w = match cfg.triangles {
                        TriangleDomain::Hz => {
                            let (lo, mid, hi) = (edges_hz[i], edges_hz[i + 1], edges_hz[i + 2]);
                            ((f - lo) / (mid - lo)).min((hi - f) / (hi - mid)).max(0.0)
                        }
                        TriangleDomain::Mel => {
                            let m = hz_to_mel(f, scale);
                            let (lo, mid, hi) = (edges_mel[i], edges_mel[i + 1], edges_mel[i + 2]);
                            if m <= lo || m >= hi {
                                0.0
                            } else if m <= mid {
                                (m - lo) / (mid - lo)
                            } else {
                                (hi - m) / (hi - mid)
                            }
                        }
                    };
                    match cfg.mel_norm {
                        MelNorm::None => w,
                        MelNorm::Slaney => w * 2.0 / (edges_hz[i + 2] - edges_hz[i]),
                    }
                });
                let dense: Vec<f64> = dense.collect();
                let start = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = dense
                    .iter()
                    .rposition(|&w| w > 0.0)
                    .map_or(start, |e| e + 1);
                MelFilter {
                    start,
                    weights: dense[start..end].to_vec(),
                }
            })
            .collect();
        Self {
            filters,
            centers_hz: edges_hz[1..=cfg.n_mels].to_vec(),
            n_bins,
        }
    }

    /// Number of filters.
    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Number of FFT bins the filters read (`n_fft/2 + 1`).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// Centre frequency of each filter in Hz, shape (n_mels,).
    pub fn centers_hz(&self) -> &[f64] {
        &self.centers_hz
    }

    /// Weight of FFT bin `bin` in filter `mel` (0 outside its support or out of range).
    pub fn weight(&self, mel: usize, bin: usize) -> f64 {
        self.filters.get(mel).map_or(0.0, |f| {
            bin.checked_sub(f.start)
                .and_then(|j| f.weights.get(j))
                .copied()
                .unwrap_or(0.0)
        })
    }

    /// `out[i] = Σ_k W[i, k]·spectrum[k]`; `spectrum` is (n_bins,), `out` is (n_mels,).
    pub fn apply(&self, out: &mut [f64], spectrum: &[f64]) {
        debug_assert_eq!(spectrum.len(), self.n_bins);
        debug_assert_eq!(out.len(), self.filters.len());
        for (o, filter) in out.iter_mut().zip(&self.filters) {
            let bins = &spectrum[filter.start..filter.start + filter.weights.len()];
            *o = filter.weights.iter().zip(bins).map(|(w, p)| w * p).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_trip() {
        for scale in [MelScale::Htk, MelScale::Kaldi, MelScale::Slaney] {
            for hz in [0.0, 20.0, 999.0, 1_000.0, 1_001.0, 7_999.5] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!((back - hz).abs() < 1e-9, "{scale:?} {hz} → {back}");
            }
        }
    }

    #[test]
    fn slaney_is_continuous_at_1khz() {
        let below = hz_to_mel(1_000.0 - 1e-9, MelScale::Slaney);
        let at = hz_to_mel(1_000.0, MelScale::Slaney);
        assert!((below - at).abs() < 1e-9 && (at - 15.0).abs() < 1e-12);
    }

    #[test]
    fn dense_and_sparse_application_agree() {
        let cfg = FrontendConfig::torchaudio_htk(16);
        let fb = MelFilterbank::new(&cfg);
        let spectrum: Vec<f64> = (0..fb.n_bins())
            .map(|k| (k as f64 * 0.37).sin().abs())
            .collect();
        let mut out = vec![0.0; 16];
        fb.apply(&mut out, &spectrum);
        for (i, o) in out.iter().enumerate() {
            let dense: f64 = (0..fb.n_bins())
                .map(|k| fb.weight(i, k) * spectrum[k])
                .sum();
            assert!((o - dense).abs() < 1e-12);
        }
    }
}
