//! Framing: cuts the signal into overlapping windows (centred/padded, or Kaldi with and without
//! snip-edges) and applies the per-frame gain, DC removal and pre-emphasis.

use super::config::{Framing, FrontendConfig, PadMode};
use crate::AudioError;

/// Number of frames `cfg` cuts from `n_samples` samples.
///
/// Centred: `1 + (n + 2·⌊n_fft/2⌋ − n_fft) / hop` (librosa/torch). Snip edges:
/// `1 + (n − win_length) / hop` (Kaldi). Kaldi without snip edges: `⌊(n + ⌊hop/2⌋) / hop⌋`
/// (one frame per hop, rounded to the nearest).
///
/// # Errors
/// [`AudioError::TooShort`] for an empty signal, one shorter than a window in snip-edges
/// framing, or one shorter than half a hop without snip edges (no frame at all).
pub fn frame_count(n_samples: usize, cfg: &FrontendConfig) -> Result<usize, AudioError> {
    match cfg.framing {
        Framing::Centered(_) if n_samples > 0 => {
            Ok(1 + (n_samples + 2 * (cfg.n_fft / 2) - cfg.n_fft) / cfg.hop_length)
        }
        Framing::SnipEdges if n_samples >= cfg.win_length => {
            Ok(1 + (n_samples - cfg.win_length) / cfg.hop_length)
        }
        Framing::KaldiCentered if (n_samples + cfg.hop_length / 2) / cfg.hop_length > 0 => {
            Ok((n_samples + cfg.hop_length / 2) / cfg.hop_length)
        }
        Framing::Centered(_) => Err(AudioError::TooShort {
            samples: n_samples,
            needed: 1,
        }),
        Framing::SnipEdges => Err(AudioError::TooShort {
            samples: n_samples,
            needed: cfg.win_length,
        }),
        // (n + ⌊hop/2⌋) / hop ≥ 1 needs n ≥ hop − ⌊hop/2⌋ = ⌈hop/2⌉.
        Framing::KaldiCentered => Err(AudioError::TooShort {
            samples: n_samples,
            needed: cfg.hop_length.div_ceil(2),
        }),
    }
}

/// Writes frame `t` of `signal` into `frame`, shape (win_length,), ready for windowing:
/// samples × `input_gain`, then minus the frame mean if `remove_dc`, then pre-emphasised.
///
/// Centred framing takes the `win_length` samples that librosa's window covers inside its
/// `n_fft` frame: first index `t·hop − ⌊n_fft/2⌋ + ⌊(n_fft − win_length)/2⌋`, so the window is
/// centred on sample `t·hop`; indices outside the signal read 0 (constant) or the mirror image
/// (reflect). Snip-edges framing takes `[t·hop, t·hop + win_length)`. Kaldi framing without snip
/// edges starts at `t·hop + ⌊hop/2⌋ − ⌊win_length/2⌋` and mirrors with the edge repeated.
pub fn fill_frame(frame: &mut [f64], signal: &[f32], t: usize, cfg: &FrontendConfig) {
    debug_assert_eq!(frame.len(), cfg.win_length);
    let n = signal.len() as isize;
    let gain = f64::from(cfg.input_gain);
    match cfg.framing {
        Framing::SnipEdges => {
            let start = t * cfg.hop_length;
            for (f, &x) in frame.iter_mut().zip(&signal[start..start + cfg.win_length]) {
                *f = f64::from(x) * gain;
            }
        }
        Framing::KaldiCentered => {
            let start =
                (t * cfg.hop_length + cfg.hop_length / 2) as isize - (cfg.win_length / 2) as isize;
            for (i, f) in frame.iter_mut().enumerate() {
                *f = f64::from(signal[symmetric_index(start + i as isize, n)]) * gain;
            }
        }
        Framing::Centered(pad) => {
            let start = (t * cfg.hop_length) as isize - (cfg.n_fft / 2) as isize
                + ((cfg.n_fft - cfg.win_length) / 2) as isize;
            for (i, f) in frame.iter_mut().enumerate() {
                let j = start + i as isize;
                let x = if (0..n).contains(&j) {
                    signal[j as usize]
                } else {
                    match pad {
                        PadMode::Constant => 0.0,
                        PadMode::Reflect => signal[reflect_index(j, n)],
                    }
                };
                *f = f64::from(x) * gain;
            }
        }
    }
    if cfg.remove_dc {
        let mean = frame.iter().sum::<f64>() / frame.len() as f64;
        frame.iter_mut().for_each(|x| *x -= mean);
    }
    let c = f64::from(cfg.preemphasis);
    if c != 0.0 {
        // y[i] = x[i] − c·x[i−1], from the end so x[i−1] is still unmodified; y[0] = (1 − c)·x[0].
        for i in (1..frame.len()).rev() {
            frame[i] -= c * frame[i - 1];
        }
        frame[0] -= c * frame[0];
    }
}

/// Mirror index without repeating the edge (`numpy.pad(mode="reflect")`): the signal extended
/// with period `2(n − 1)`, e.g. for n = 4: `… x2 x1 | x0 x1 x2 x3 | x2 x1 x0 …`.
fn reflect_index(j: isize, n: isize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let r = j.rem_euclid(period);
    (if r < n { r } else { period - r }) as usize
}

/// Mirror index repeating the edge sample (Kaldi's `ExtractWindow`: `s < 0 → −s − 1`,
/// `s ≥ n → 2n − 1 − s`, applied until inside), i.e. the signal extended with period `2n`,
/// e.g. for n = 3: `… x1 x0 | x0 x1 x2 | x2 x1 x0 x0 …`.
fn symmetric_index(j: isize, n: isize) -> usize {
    let period = 2 * n;
    let r = j.rem_euclid(period);
    (if r < n { r } else { period - 1 - r }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad([0,1,2,3], 6, mode="reflect") = [0 1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2 3]
        let left: Vec<usize> = (-6..0).map(|j| reflect_index(j, 4)).collect();
        let right: Vec<usize> = (4..10).map(|j| reflect_index(j, 4)).collect();
        assert_eq!(left, vec![0, 1, 2, 3, 2, 1]);
        assert_eq!(right, vec![2, 1, 0, 1, 2, 3]);
    }

    #[test]
    fn symmetric_matches_kaldi_extract_window() {
        // n = 3, Kaldi's rule by hand: −4 → 3 → 2·3 − 1 − 3 = 2; −3 → 2; −2 → 1; −1 → 0;
        // 3 → 2; 4 → 1; 5 → 0; 6 → −1 → 0; 7 → −2 → 1.
        let left: Vec<usize> = (-4..0).map(|j| symmetric_index(j, 3)).collect();
        let right: Vec<usize> = (3..8).map(|j| symmetric_index(j, 3)).collect();
        assert_eq!(left, vec![2, 2, 1, 0]);
        assert_eq!(right, vec![2, 1, 0, 0, 1]);
    }

    #[test]
    fn kaldi_without_snip_edges_by_hand() {
        let mut cfg = FrontendConfig::kaldi_fbank(8);
        cfg.framing = Framing::KaldiCentered;
        // Kaldi NumFrames(snip_edges=false) = (n + hop/2) / hop with hop = 160, window 400:
        // 1 s → (16000 + 80) / 160 = 100 (snip edges gives 98); 1 s + 79 samples → 100;
        // + 80 → 101; 80 samples → 1; 79 → none.
        assert_eq!(frame_count(16_000, &cfg).expect("n"), 100);
        assert_eq!(frame_count(16_079, &cfg).expect("n"), 100);
        assert_eq!(frame_count(16_080, &cfg).expect("n"), 101);
        assert_eq!(frame_count(80, &cfg).expect("n"), 1);
        assert_eq!(
            frame_count(79, &cfg).expect_err("short").to_string(),
            "signal of 79 samples is too short for one frame (at least 80 samples \
             needed); use centred framing or pad the audio"
        );
        // Frame samples by hand: hop 2, window 4, n = 5, no DC removal or pre-emphasis.
        // (5 + 1) / 2 = 3 frames; frame t starts at 2t + 1 − 2 = 2t − 1:
        // frame 0 = s[−1..3] = [x0, x0, x1, x2], frame 2 = s[3..7] = [x3, x4, x4, x3].
        cfg.win_length = 4;
        cfg.hop_length = 2;
        cfg.remove_dc = false;
        cfg.preemphasis = 0.0;
        cfg.input_gain = 1.0;
        let signal = [10.0, 11.0, 12.0, 13.0, 14.0];
        assert_eq!(frame_count(signal.len(), &cfg).expect("n"), 3);
        let mut frame = [0.0; 4];
        fill_frame(&mut frame, &signal, 0, &cfg);
        assert_eq!(frame, [10.0, 10.0, 11.0, 12.0]);
        fill_frame(&mut frame, &signal, 2, &cfg);
        assert_eq!(frame, [13.0, 14.0, 14.0, 13.0]);
    }

    #[test]
    fn frame_counts() {
        let centred = FrontendConfig::librosa_slaney(8);
        assert_eq!(frame_count(16_000, &centred).expect("n"), 101);
        assert_eq!(frame_count(1, &centred).expect("n"), 1);
        let kaldi = FrontendConfig::kaldi_fbank(8);
        assert_eq!(frame_count(16_000, &kaldi).expect("n"), 98);
        assert_eq!(frame_count(400, &kaldi).expect("n"), 1);
        assert_eq!(
            frame_count(399, &kaldi).expect_err("short").to_string(),
            "signal of 399 samples is too short for one frame (at least 400 samples \
             needed); use centred framing or pad the audio"
        );
    }

    #[test]
    fn dc_removal_and_preemphasis_by_hand() {
        let mut cfg = FrontendConfig::kaldi_fbank(8);
        cfg.win_length = 3;
        cfg.hop_length = 1;
        cfg.input_gain = 2.0;
        // x = 2·[1, 2, 6] = [2, 4, 12]; mean 6 → [−4, −2, 6];
        // pre-emphasis: [−4 + 0.97·4, −2 + 0.97·4, 6 + 0.97·2] = [−0.12, 1.88, 7.94].
        let mut frame = [0.0; 3];
        fill_frame(&mut frame, &[0.0, 1.0, 2.0, 6.0], 1, &cfg);
        for (got, want) in frame.iter().zip([-0.12, 1.88, 7.94]) {
            // The coefficient is stored as f32 (0.97 → 0.9700000286), hence 1e-6.
            assert!((got - want).abs() < 1e-6, "{frame:?}");
        }
    }

    #[test]
    fn centred_frame_is_centred_on_t_hop() {
        let mut cfg = FrontendConfig::torchaudio_htk(8);
        cfg.n_fft = 4;
        cfg.win_length = 4;
        cfg.hop_length = 2;
        let signal = [10.0, 11.0, 12.0, 13.0, 14.0];
        let mut frame = [0.0; 4];
        // Frame 0 covers indices −2..2 → reflect: [12, 11, 10, 11].
        fill_frame(&mut frame, &signal, 0, &cfg);
        assert_eq!(frame, [12.0, 11.0, 10.0, 11.0]);
        cfg.framing = Framing::Centered(PadMode::Constant);
        // Frame 2 covers indices 2..6 → [12, 13, 14, 0].
        fill_frame(&mut frame, &signal, 2, &cfg);
        assert_eq!(frame, [12.0, 13.0, 14.0, 0.0]);
    }
}
