//! The training recipe's pieces that act on data and weights: SpecAugment masks and random crops
//! of training utterances, balanced class weights, and the weight EMA.
//!
//! Determinism: every random choice is a pure function of `(seed, global step, position in
//! batch)` through [`utterance_rng`] (separate streams for the crop and the masks), so a resumed
//! run draws exactly the crops and masks an uninterrupted one would.

use serde::{Deserialize, Serialize};

/// SplitMix64: the stream behind every recipe draw.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=max` (Lemire's multiply-shift; the bias is below 2⁻⁴⁰ for our ranges).
    pub fn upto(&mut self, max: usize) -> usize {
        ((u128::from(self.next_u64()) * (max as u128 + 1)) >> 64) as usize
    }
}

/// Which stream of an utterance's draws.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Crop = 1,
    Masks = 2,
}

/// The generator of one training utterance's `stream`: a pure function of `(seed, global step,
/// position in batch)`, independent of the dropout seed of the step.
pub fn utterance_rng(seed: u64, step: u64, position: usize, stream: Stream) -> Rng {
    let mut a = Rng::new(seed ^ 0x5EC_A116_u64.wrapping_mul(stream as u64 + 1));
    let k1 = a.next_u64();
    let mut b = Rng::new(k1 ^ step.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let k2 = b.next_u64();
    let mut c = Rng::new(k2 ^ (position as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    Rng::new(c.next_u64())
}

/// First frame of a random crop of `limit` frames from an utterance of `frames` frames (0 when
/// it fits): uniform over every start that keeps the window inside.
pub fn random_crop_start(frames: usize, limit: usize, rng: &mut Rng) -> usize {
    let limit = limit.max(1);
    if frames <= limit {
        0
    } else {
        rng.upto(frames - limit)
    }
}

/// First frame of the centre crop (as `pipeline::centre_crop`).
pub fn centre_crop_start(frames: usize, limit: usize) -> usize {
    frames.saturating_sub(limit.max(1)) / 2
}

/// SpecAugment (Park et al. 2019) without time warping: `freq_masks` bands of `f ~ U[0, F]`
/// consecutive mel bins and `time_masks` spans of `t ~ U[0, min(T, ⌊p·len⌋)]` frames, each at a
/// uniform position inside the utterance; masks may overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecAugment {
    pub time_masks: usize,
    /// `T`, frames.
    pub time_mask_width: usize,
    /// `p`: a time mask covers at most this share of the utterance.
    pub time_mask_ratio: f64,
    pub freq_masks: usize,
    /// `F`, mel bins.
    pub freq_mask_width: usize,
}

/// A mask drawn for one utterance: frames `start..start + width` (time) or bins (frequency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mask {
    pub time: bool,
    pub start: usize,
    pub width: usize,
}

impl SpecAugment {
    /// Whether any mask can be drawn.
    pub fn is_on(&self) -> bool {
        (self.time_masks > 0 && self.time_mask_width > 0)
            || (self.freq_masks > 0 && self.freq_mask_width > 0)
    }

    /// The masks of an utterance of `frames × features`: frequency masks first, then time.
    /// Every mask lies inside the utterance.
    pub fn draw(&self, frames: usize, features: usize, rng: &mut Rng) -> Vec<Mask> {
        let mut masks = Vec::with_capacity(self.freq_masks + self.time_masks);
        let f_max = self.freq_mask_width.min(features);
        for _ in 0..self.freq_masks {
            let width = rng.upto(f_max);
            let start = rng.upto(features - width);
            masks.push(Mask {
                time: false,
                start,
                width,
            });
        }
        let by_ratio = (self.time_mask_ratio * frames as f64).floor() as usize;
        let t_max = self.time_mask_width.min(by_ratio).min(frames);
        for _ in 0..self.time_masks {
            let width = rng.upto(t_max);
            let start = rng.upto(frames - width);
            masks.push(Mask {
                time: true,
                start,
                width,
            });
        }
        masks
    }

    /// Masks `utterance` (`(frames, features)` row-major, raw log-Mel) in place.
    ///
    /// The masked value is `fill[bin]`, the per-bin training mean: the model normalises its
    /// input itself (CMVN is its first op, with the training split's statistics set by
    /// `TrainModel::set_feature_stats`), so a raw 0 would become `−mean/std` — a loud, very
    /// negative value in log-Mel units — not the neutral 0 Park et al. mask to (they mask
    /// normalised features). Filling with the mean makes the masked value exactly the
    /// normalised 0 the model sees. Without a normalisation op, `fill` is all 0.
    pub fn apply(&self, utterance: &mut [f32], features: usize, fill: &[f32], rng: &mut Rng) {
        if features == 0 || !self.is_on() {
            return;
        }
        let frames = utterance.len() / features;
        for m in self.draw(frames, features, rng) {
            if m.time {
                for row in utterance[m.start * features..(m.start + m.width) * features]
                    .chunks_exact_mut(features)
                {
                    row.copy_from_slice(&fill[..features]);
                }
            } else {
                for row in utterance.chunks_exact_mut(features) {
                    row[m.start..m.start + m.width]
                        .copy_from_slice(&fill[m.start..m.start + m.width]);
                }
            }
        }
    }
}

/// Balanced class weights: `w_c ∝ 1 / n_c` (the training-set count of class `c`), normalised to
/// mean 1 over the classes present; absent classes weigh 0 (they are never a target).
pub fn balanced_class_weights(labels: impl IntoIterator<Item = usize>, classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for y in labels {
        if y < classes {
            counts[y] += 1;
        }
    }
    let inv: Vec<f64> = counts
        .iter()
        .map(|&n| if n == 0 { 0.0 } else { 1.0 / n as f64 })
        .collect();
    let present = counts.iter().filter(|&&n| n > 0).count().max(1);
    let mean = inv.iter().sum::<f64>() / present as f64;
    inv.iter()
        .map(|&w| if mean > 0.0 { (w / mean) as f32 } else { 0.0 })
        .collect()
}

/// Polyak averaging of the weights: a shadow copy `ē ← ē + (1 − d_t)·(θ − ē)` after every
/// optimizer step, with the warmed-up decay `d_t = min(d, (1 + t)/(10 + t))` of TensorFlow's
/// `ExponentialMovingAverage(num_updates = t)`, `t` = optimizer steps before this update. The
/// shadow starts equal to the initial weights.
///
/// Buffers: the BatchNorm running statistics are averaged with the same decay, and the CMVN
/// statistics too (constant, so unchanged: the update adds exactly 0). That is
/// `torch.optim.swa_utils.AveragedModel(use_buffers=True)` / timm's `ModelEmaV2`: an averaged
/// model is evaluated with statistics averaged over the same horizon, instead of the live
/// model's, which follow the latest weights (over ~10 steps at momentum 0.1) and would not
/// match the averaged weights' activations. Recomputing BatchNorm statistics for the averaged
/// weights (SWA's `update_bn`) would be exact but costs a pass over the training set per
/// validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Ema {
    pub decay: f64,
    pub params: Vec<f32>,
    pub buffers: Vec<f32>,
}

impl Ema {
    pub fn new(decay: f64, params: &[f32], buffers: &[f32]) -> Ema {
        Ema {
            decay,
            params: params.to_vec(),
            buffers: buffers.to_vec(),
        }
    }

    /// The decay used for the update after `t` earlier updates.
    pub fn decay_at(&self, t: u64) -> f64 {
        self.decay.min((1.0 + t as f64) / (10.0 + t as f64))
    }

    /// One update toward `params`/`buffers`, the `t`-th (0-based).
    pub fn update(&mut self, t: u64, params: &[f32], buffers: &[f32]) {
        let rate = (1.0 - self.decay_at(t)) as f32;
        for (e, &x) in self
            .params
            .iter_mut()
            .zip(params)
            .chain(self.buffers.iter_mut().zip(buffers))
        {
            *e += rate * (x - *e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_lie_inside_the_utterance_respect_the_widths_and_are_deterministic() {
        let policy = SpecAugment {
            time_masks: 2,
            time_mask_width: 100,
            time_mask_ratio: 0.2,
            freq_masks: 2,
            freq_mask_width: 22,
        };
        let mut widest = (0, 0);
        for step in 0..200u64 {
            for position in 0..4 {
                let frames = 1 + (step as usize * 37 + position * 11) % 400;
                let masks = policy.draw(
                    frames,
                    64,
                    &mut utterance_rng(7, step, position, Stream::Masks),
                );
                let again = policy.draw(
                    frames,
                    64,
                    &mut utterance_rng(7, step, position, Stream::Masks),
                );
                assert_eq!(masks, again, "a pure function of (seed, step, position)");
                assert_eq!(masks.len(), 4);
                for m in &masks {
                    if m.time {
                        assert!(m.start + m.width <= frames, "{m:?} in {frames} frames");
                        assert!(m.width <= 100 && m.width as f64 <= 0.2 * frames as f64);
                        widest.0 = widest.0.max(m.width);
                    } else {
                        assert!(m.start + m.width <= 64 && m.width <= 22, "{m:?}");
                        widest.1 = widest.1.max(m.width);
                    }
                }
            }
        }
        // The maxima are reached (widths are uniform in [0, W], inclusive).
        assert!(widest.0 > 60 && widest.1 == 22, "{widest:?}");
        let other = policy.draw(300, 64, &mut utterance_rng(8, 0, 0, Stream::Masks));
        let base = policy.draw(300, 64, &mut utterance_rng(7, 0, 0, Stream::Masks));
        let next = policy.draw(300, 64, &mut utterance_rng(7, 1, 0, Stream::Masks));
        let neighbour = policy.draw(300, 64, &mut utterance_rng(7, 0, 1, Stream::Masks));
        assert!(base != other && base != next && base != neighbour);
    }

    #[test]
    fn apply_fills_exactly_the_masked_cells_with_the_training_mean() {
        let policy = SpecAugment {
            time_masks: 1,
            time_mask_width: 3,
            time_mask_ratio: 1.0,
            freq_masks: 1,
            freq_mask_width: 2,
        };
        let (frames, features) = (10, 5);
        let fill = [-1.0, -2.0, -3.0, -4.0, -5.0];
        for step in 0..50 {
            let mut x: Vec<f32> = (0..frames * features).map(|i| 100.0 + i as f32).collect();
            let masks = policy.draw(
                frames,
                features,
                &mut utterance_rng(1, step, 0, Stream::Masks),
            );
            policy.apply(
                &mut x,
                features,
                &fill,
                &mut utterance_rng(1, step, 0, Stream::Masks),
            );
            for t in 0..frames {
                for f in 0..features {
                    let masked = masks.iter().any(|m| {
                        let at = if m.time { t } else { f };
                        at >= m.start && at < m.start + m.width
                    });
                    let v = x[t * features + f];
                    if masked {
                        assert_eq!(v, fill[f]);
                    } else {
                        assert_eq!(v, 100.0 + (t * features + f) as f32);
                    }
                }
            }
        }
        // Off: untouched.
        let mut x = vec![1.0f32; 20];
        SpecAugment::default().apply(&mut x, 5, &fill, &mut Rng::new(0));
        assert!(x.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn random_crops_stay_inside_cover_every_start_and_are_deterministic() {
        let mut seen = [false; 11];
        for step in 0..400 {
            let start = random_crop_start(30, 20, &mut utterance_rng(3, step, 2, Stream::Crop));
            let again = random_crop_start(30, 20, &mut utterance_rng(3, step, 2, Stream::Crop));
            assert_eq!(start, again);
            assert!(start + 20 <= 30);
            seen[start] = true;
        }
        assert!(
            seen.iter().all(|&s| s),
            "every start 0..=10 drawn: {seen:?}"
        );
        assert_eq!(random_crop_start(20, 20, &mut Rng::new(1)), 0);
        assert_eq!(random_crop_start(5, 20, &mut Rng::new(1)), 0);
        assert_eq!(centre_crop_start(30, 20), 5);
        assert_eq!(centre_crop_start(5, 20), 0);
    }

    #[test]
    fn balanced_weights_are_inverse_frequency_with_mean_one() {
        // Counts 1, 2, 4 → inverse 1, 1/2, 1/4 (mean 7/12) → 12/7, 6/7, 3/7.
        let w = balanced_class_weights([0, 1, 1, 2, 2, 2, 2], 3);
        for (got, want) in w.iter().zip([12.0 / 7.0, 6.0 / 7.0, 3.0 / 7.0]) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{w:?}");
        }
        // An absent class weighs 0; the mean over the present ones is 1.
        assert_eq!(balanced_class_weights([0, 2, 2, 0], 3), [1.0, 0.0, 1.0]);
    }

    #[test]
    fn ema_update_hand_case() {
        // decay 0.5: d_0 = min(0.5, 1/10) = 0.1 → ē = 0 + 0.9·(10 − 0) = 9;
        // d_1 = min(0.5, 2/11) = 2/11 → ē = 9 + (9/11)·(20 − 9) = 18.
        let mut ema = Ema::new(0.5, &[0.0], &[4.0]);
        ema.update(0, &[10.0], &[4.0]);
        assert!((ema.params[0] - 9.0).abs() < 1e-6, "{:?}", ema.params);
        ema.update(1, &[20.0], &[4.0]);
        assert!((ema.params[0] - 18.0).abs() < 1e-5, "{:?}", ema.params);
        // Constant buffers (CMVN) stay bit-identical.
        assert_eq!(ema.buffers, [4.0]);
        // Late in training the configured decay rules: ē = 0.999·1 + 0.001·2.
        let mut late = Ema::new(0.999, &[1.0], &[]);
        assert_eq!(late.decay_at(100_000), 0.999);
        late.update(100_000, &[2.0], &[]);
        assert!((late.params[0] - 1.001).abs() < 1e-6);
    }
}
