//! Training step: AdamW over the flat parameter buffer, with per-segment weight-decay flags.
//!
//! Semantics follow PyTorch's `torch.optim.AdamW` (Loshchilov & Hutter, decoupled weight decay).
//! For every parameter `p` with gradient `g`, at step `t = 1, 2, …`:
//!
//! ```text
//! p ← p − lr·wd·p                       (only in segments with `decay = true`)
//! m ← β₁·m + (1 − β₁)·g
//! v ← β₂·v + (1 − β₂)·g²
//! p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! The decay is applied to the parameter *before* the Adam update and is not part of the
//! gradient, so it is not rescaled by `√v`: that is what "decoupled" means.
//!
//! A segment may have its own learning-rate scale (a parameter group, [`AdamW::set_lr_scale`]):
//! it uses `lr·scale` in both lines above. The HRF chains' `lr_scale` uses this.

use rayon::prelude::*;

use std::vec;
use std::vec::Vec;

/// A contiguous range of the flat parameter buffer and whether weight decay applies to it.
///
/// Norm scales/shifts (γ, β) and biases get `decay = false`; weight matrices and convolution
/// kernels get `decay = true`. The caller derives the segments from the layout table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSegment {
    /// First element of the segment in the flat parameter buffer.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
    /// Whether decoupled weight decay applies to these elements.
    pub decay: bool,
}

/// AdamW hyper-parameters (the learning rate comes per step, from the schedule).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Decay rate of the first-moment average, β₁ ∈ [0, 1).
    pub beta1: f32,
    /// Decay rate of the second-moment average, β₂ ∈ [0, 1).
    pub beta2: f32,
    /// Added to `√v̂` in the denominator, ε > 0.
    pub eps: f32,
    /// Decoupled weight decay `wd ≥ 0`, applied as `p ← p − lr·wd·p` on decaying segments.
    pub weight_decay: f32,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8, wd = 0.01.
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// The optimizer's state, in plain fields so that a checkpoint can save and restore it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWState {
    /// (n_params) — first-moment running average `m`, aligned with the parameter buffer.
    pub m: Vec<f32>,
    /// (n_params) — second-moment running average `v`, aligned with the parameter buffer.
    pub v: Vec<f32>,
    /// Number of steps taken so far (`t` of the last step; 0 before the first step).
    pub step: u64,
}

/// Why AdamW refused a configuration, a state or a step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdamWError {
    #[error(
        "AdamW config: {field} = {value} is out of range ({range}); use e.g. beta1 = 0.9, \
         beta2 = 0.999, eps = 1e-8, weight_decay = 0.01"
    )]
    Config {
        field: &'static str,
        value: f32,
        range: &'static str,
    },
    #[error(
        "AdamW segments: segment {index} (offset {offset}, len {len}) {problem}; the segments \
         must tile the parameter buffer of {n_params} elements exactly, without gaps or overlaps"
    )]
    Segments {
        index: usize,
        offset: usize,
        len: usize,
        problem: &'static str,
        n_params: usize,
    },
    #[error(
        "AdamW segments cover {covered} elements but the parameter buffer has {n_params}; add a \
         segment for the missing tail or fix the layout table"
    )]
    Uncovered { covered: usize, n_params: usize },
    #[error(
        "AdamW step: `{buffer}` has {got} elements but the optimizer was built for {expected} \
         parameters; pass the buffers of the same model"
    )]
    Length {
        buffer: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("AdamW step: learning rate {lr} must be finite and ≥ 0 (check the schedule)")]
    LearningRate { lr: f32 },
    #[error(
        "AdamW learning-rate scale: {problem} (offset {offset}, scale {scale}); scales are \
         finite, ≥ 0, and set on a segment by its first element"
    )]
    LrScale {
        offset: usize,
        scale: f32,
        problem: &'static str,
    },
}

/// AdamW over one flat parameter buffer split into decay / no-decay segments.
#[derive(Clone, Debug)]
pub struct AdamW {
    config: AdamWConfig,
    /// Sorted by offset, tiling `0..n_params` exactly.
    segments: Vec<ParamSegment>,
    /// One per segment (same order): the segment's learning rate relative to the step's
    /// (parameter groups); 1 unless [`AdamW::set_lr_scale`] said otherwise.
    lr_scales: Vec<f32>,
    state: AdamWState,
}

impl AdamW {
    /// A fresh optimizer (zero moments, step 0) for a buffer of `n_params` parameters.
    ///
    /// `segments` may come in any order but must tile `0..n_params` exactly, so that no
    /// parameter is silently left untrained or updated twice.
    pub fn new(
        config: AdamWConfig,
        n_params: usize,
        segments: &[ParamSegment],
    ) -> Result<Self, AdamWError> {
        let state = AdamWState {
            m: vec![0.0; n_params],
            v: vec![0.0; n_params],
            step: 0,
        };
        Self::from_state(config, segments, state)
    }

    /// Resumes from a saved state (e.g. read back from a checkpoint).
    pub fn from_state(
        config: AdamWConfig,
        segments: &[ParamSegment],
        state: AdamWState,
    ) -> Result<Self, AdamWError> {
        check_config(&config)?;
        let n_params = state.m.len();
        if state.v.len() != n_params {
            return Err(AdamWError::Length {
                buffer: "state.v",
                got: state.v.len(),
                expected: n_params,
            });
        }
        let segments = tile_segments(segments, n_params)?;
        Ok(AdamW {
            config,
            lr_scales: vec![1.0; segments.len()],
            segments,
            state,
        })
    }

    /// Gives the segment that starts at `offset` its own learning rate, `scale ×` the step's
    /// (the schedule multiplies both); its decoupled decay `lr·scale·wd` scales alike, so scale
    /// 0 freezes the segment. A scale of exactly 1 leaves the update bit-identical to an
    /// unscaled segment's.
    pub fn set_lr_scale(&mut self, offset: usize, scale: f32) -> Result<(), AdamWError> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(AdamWError::LrScale {
                offset,
                scale,
                problem: "the scale must be finite and ≥ 0",
            });
        }
        match self.segments.binary_search_by_key(&offset, |s| s.offset) {
            Ok(i) => {
                self.lr_scales[i] = scale;
                Ok(())
            }
            Err(_) => Err(AdamWError::LrScale {
                offset,
                scale,
                problem: "no segment starts there",
            }),
        }
    }

    /// The learning-rate scale of each segment, in [`AdamW::segments`] order.
    pub fn lr_scales(&self) -> &[f32] {
        &self.lr_scales
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// The segments, sorted by offset.
    pub fn segments(&self) -> &[ParamSegment] {
        &self.segments
    }

    /// The moments and step count, for checkpointing.
    pub fn state(&self) -> &AdamWState {
        &self.state
    }

    /// Consumes the optimizer and returns its state.
    pub fn into_state(self) -> AdamWState {
        self.state
    }

    /// One AdamW step at learning rate `lr`: updates `params` (n_params) in place from `grads`
    /// (n_params). Gradients are expected to be finite (clip first: [`super::clip`] reports a
    /// non-finite norm instead of letting it reach here).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f32) -> Result<(), AdamWError> {
        let n = self.state.m.len();
        if params.len() != n {
            return Err(AdamWError::Length {
                buffer: "params",
                got: params.len(),
                expected: n,
            });
        }
        if grads.len() != n {
            return Err(AdamWError::Length {
                buffer: "grads",
                got: grads.len(),
                expected: n,
            });
        }
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(AdamWError::LearningRate { lr });
        }
        self.state.step += 1;
        let AdamWConfig {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.config;
        // Bias corrections in f64 (β₂ᵗ underflows slowly; computing it once per step is free).
        let t = self.state.step.min(i32::MAX as u64) as i32;
        let bias1 = 1.0 - (beta1 as f64).powi(t);
        let bias2 = 1.0 - (beta2 as f64).powi(t);
        let inv_sqrt_bias2 = (1.0 / bias2.sqrt()) as f32;
        let (one_minus_b1, one_minus_b2) = (1.0 - beta1, 1.0 - beta2);

        for (seg, &scale) in self.segments.iter().zip(&self.lr_scales) {
            // This segment's rate (`lr · 1 = lr` exactly, so unscaled segments are unchanged).
            let lr = lr * scale;
            // p ← p − step_size · m / (√v / √bias2 + ε), as PyTorch computes it.
            let step_size = (lr as f64 / bias1) as f32;
            let decay_factor = 1.0 - lr * weight_decay;
            let range = seg.offset..seg.offset + seg.len;
            let p = &mut params[range.clone()];
            let g = &grads[range.clone()];
            let m = &mut self.state.m[range.clone()];
            let v = &mut self.state.v[range];
            let decay = if seg.decay { decay_factor } else { 1.0 };
            let k = Update {
                beta1,
                beta2,
                one_minus_b1,
                one_minus_b2,
                inv_sqrt_bias2,
                eps,
                decay,
                step_size,
            };
            // Element-wise, so chunks in parallel give the same bits for any thread count;
            // small tensors (biases, norms) are not worth a task.
            if p.len() <= ADAMW_CHUNK {
                k.apply(p, g, m, v);
            } else {
                p.par_chunks_mut(ADAMW_CHUNK)
                    .zip(g.par_chunks(ADAMW_CHUNK))
                    .zip(
                        m.par_chunks_mut(ADAMW_CHUNK)
                            .zip(v.par_chunks_mut(ADAMW_CHUNK)),
                    )
                    .for_each(|((p, g), (m, v))| k.apply(p, g, m, v));
            }
        }
        Ok(())
    }
}

/// Parameters per parallel AdamW task.
const ADAMW_CHUNK: usize = 1 << 15;

/// One step's AdamW constants for a segment.
#[derive(Clone, Copy)]
struct Update {
    beta1: f32,
    beta2: f32,
    one_minus_b1: f32,
    one_minus_b2: f32,
    inv_sqrt_bias2: f32,
    eps: f32,
    decay: f32,
    step_size: f32,
}

impl Update {
    /// Updates one chunk inside `cpu::widest` (16 lanes of `sqrt` and division instead of
    /// baseline SSE2's 4; the same IEEE operations, so the same bits).
    fn apply(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        crate::cpu::widest(
            #[inline(always)]
            || self.apply_loop(p, g, m, v),
        );
    }

    #[inline(always)]
    fn apply_loop(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let n = p.len().min(g.len()).min(m.len()).min(v.len());
        let (p, g, m, v) = (&mut p[..n], &g[..n], &mut m[..n], &mut v[..n]);
        for i in 0..n {
            let gi = g[i];
            m[i] = self.beta1 * m[i] + self.one_minus_b1 * gi;
            v[i] = self.beta2 * v[i] + self.one_minus_b2 * gi * gi;
            let denom = v[i].sqrt() * self.inv_sqrt_bias2 + self.eps;
            p[i] = p[i] * self.decay - self.step_size * m[i] / denom;
        }
    }
}

fn check_config(c: &AdamWConfig) -> Result<(), AdamWError> {
    let unit = |field, value: f32| {
        if (0.0..1.0).contains(&value) {
            Ok(())
        } else {
            Err(AdamWError::Config {
                field,
                value,
                range: "must be in [0, 1)",
            })
        }
    };
    unit("beta1", c.beta1)?;
    unit("beta2", c.beta2)?;
    if !(c.eps.is_finite() && c.eps > 0.0) {
        return Err(AdamWError::Config {
            field: "eps",
            value: c.eps,
            range: "must be > 0",
        });
    }
    if !(c.weight_decay.is_finite() && c.weight_decay >= 0.0) {
        return Err(AdamWError::Config {
            field: "weight_decay",
            value: c.weight_decay,
            range: "must be finite and ≥ 0",
        });
    }
    Ok(())
}

/// Sorts the segments by offset and checks that they tile `0..n_params` exactly.
fn tile_segments(
    segments: &[ParamSegment],
    n_params: usize,
) -> Result<Vec<ParamSegment>, AdamWError> {
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| segments[i].offset);
    let mut sorted = Vec::with_capacity(segments.len());
    let mut covered = 0usize;
    for i in order {
        let s = segments[i];
        let err = |problem| AdamWError::Segments {
            index: i,
            offset: s.offset,
            len: s.len,
            problem,
            n_params,
        };
        if s.offset > covered {
            return Err(err("starts after a gap"));
        }
        if s.offset < covered {
            return Err(err("overlaps the previous segment"));
        }
        covered = s
            .offset
            .checked_add(s.len)
            .ok_or_else(|| err("ends past usize::MAX"))?;
        if covered > n_params {
            return Err(err("ends past the parameter buffer"));
        }
        sorted.push(s);
    }
    if covered != n_params {
        return Err(AdamWError::Uncovered { covered, n_params });
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed values are rounded to 7–9 significant digits; f32 arithmetic adds ~1e-7.
    const HAND_TOL: f64 = 2e-6;
    /// Relative error of the f32 moments against their exact decimal values.
    const MOMENT_REL_TOL: f32 = 2e-5;

    fn seg(offset: usize, len: usize, decay: bool) -> ParamSegment {
        ParamSegment { offset, len, decay }
    }

    #[test]
    fn adamw_first_two_steps_match_hand_computation() {
        // Two parameters: p[0] = 1.0 in a decaying segment (a weight), p[1] = −2.0 in a
        // non-decaying one (a bias). lr = 0.1, β = (0.9, 0.999), ε = 1e-8, wd = 0.01.
        let config = AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        };
        let mut opt = AdamW::new(config, 2, &[seg(1, 1, false), seg(0, 1, true)]).unwrap();
        let mut p = [1.0f32, -2.0];

        // Step 1, g = (0.5, 0.5).
        //   decay:  p0 = 1 − 0.1·0.01·1 = 0.999;  p1 stays −2 (no decay)
        //   m = 0.1·0.5 = 0.05;  v = 0.001·0.25 = 0.00025
        //   m̂ = 0.05 / (1 − 0.9) = 0.5;  v̂ = 0.00025 / (1 − 0.999) = 0.25;  √v̂ = 0.5
        //   update = 0.1 · 0.5 / (0.5 + 1e-8) = 0.09999999800
        //   p0 = 0.999 − 0.099999998 = 0.899000002;  p1 = −2 − 0.099999998 = −2.099999998
        opt.step(&mut p, &[0.5, 0.5], 0.1).unwrap();
        assert!(
            (p[0] as f64 - 0.899_000_002).abs() < HAND_TOL,
            "step 1 p0 = {}",
            p[0]
        );
        assert!(
            (p[1] as f64 - -2.099_999_998).abs() < HAND_TOL,
            "step 1 p1 = {}",
            p[1]
        );
        assert_eq!(opt.state().step, 1);
        // The moments carry f32 rounding of 1 − β (e.g. 1 − 0.999f32 = 0.00099998713).
        assert!((opt.state().m[0] / 0.05 - 1.0).abs() < MOMENT_REL_TOL);
        assert!((opt.state().v[0] / 0.00025 - 1.0).abs() < MOMENT_REL_TOL);

        // Step 2, g = (−0.25, −0.25).
        //   decay:  p0 = 0.899000002 · (1 − 0.001) = 0.898101002
        //   m = 0.9·0.05 + 0.1·(−0.25) = 0.02
        //   v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
        //   m̂ = 0.02 / (1 − 0.81) = 0.105263158
        //   v̂ = 0.00031225 / (1 − 0.998001) = 0.156203102;  √v̂ = 0.395225381
        //   update = 0.1 · 0.105263158 / (0.395225381 + 1e-8) = 0.026633703
        //   p0 = 0.898101002 − 0.026633703 = 0.871467299
        //   p1 = −2.099999998 − 0.026633703 = −2.126633701
        opt.step(&mut p, &[-0.25, -0.25], 0.1).unwrap();
        assert!(
            (p[0] as f64 - 0.871_467_299).abs() < HAND_TOL,
            "step 2 p0 = {}",
            p[0]
        );
        assert!(
            (p[1] as f64 - -2.126_633_701).abs() < HAND_TOL,
            "step 2 p1 = {}",
            p[1]
        );
        assert!((opt.state().m[1] / 0.02 - 1.0).abs() < MOMENT_REL_TOL);
        assert!((opt.state().v[1] / 0.000_312_25 - 1.0).abs() < MOMENT_REL_TOL);
    }

    #[test]
    fn zero_gradient_still_decays_weights_but_not_biases() {
        let config = AdamWConfig {
            weight_decay: 0.5,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(config, 4, &[seg(0, 2, true), seg(2, 2, false)]).unwrap();
        let mut p = [2.0f32, -4.0, 3.0, -1.0];
        opt.step(&mut p, &[0.0; 4], 0.1).unwrap();
        // p ← p·(1 − 0.1·0.5) on the decaying segment; m = v = 0 gives a zero Adam update.
        assert_eq!(p, [1.9, -3.8, 3.0, -1.0]);
    }

    /// A segment's learning-rate scale multiplies its Adam step and its decoupled decay (scale
    /// 0 freezes it, 1 is bit-identical to no scale); bad scales and offsets are errors.
    #[test]
    fn lr_scales_act_per_segment() {
        let config = AdamWConfig {
            weight_decay: 0.5,
            ..AdamWConfig::default()
        };
        let segs = [seg(0, 2, true), seg(2, 2, true), seg(4, 2, true)];
        let mut opt = AdamW::new(config, 6, &segs).unwrap();
        let mut plain = AdamW::new(config, 6, &segs).unwrap();
        opt.set_lr_scale(2, 0.0).unwrap();
        opt.set_lr_scale(4, 2.0).unwrap();
        opt.set_lr_scale(0, 1.0).unwrap();
        assert_eq!(opt.lr_scales(), &[1.0, 0.0, 2.0]);
        let p0 = [2.0f32, -4.0, 3.0, -1.0, 1.5, -0.5];
        let g = [0.5f32, -0.25, 1.0, 2.0, -1.0, 0.125];
        let (mut p, mut q) = (p0, p0);
        opt.step(&mut p, &g, 0.01).unwrap();
        plain.step(&mut q, &g, 0.01).unwrap();
        assert_eq!(&p[..2], &q[..2], "scale 1 is the plain update, bit for bit");
        assert_eq!(&p[2..4], &p0[2..4], "scale 0 freezes");
        for i in 4..6 {
            let (scaled, base) = (p[i] - p0[i], q[i] - p0[i]);
            assert!((scaled - 2.0 * base).abs() < 1e-6, "{scaled} vs 2·{base}");
        }
        for (offset, scale) in [(1, 1.0), (0, -1.0), (0, f32::NAN), (0, f32::INFINITY)] {
            assert!(matches!(
                opt.set_lr_scale(offset, scale),
                Err(AdamWError::LrScale { .. })
            ));
        }
    }

    #[test]
    fn state_round_trips_through_from_state() {
        let config = AdamWConfig::default();
        let segs = [seg(0, 3, true)];
        let mut a = AdamW::new(config, 3, &segs).unwrap();
        let mut pa = [0.3f32, -0.7, 1.1];
        a.step(&mut pa, &[0.1, 0.2, -0.3], 1e-2).unwrap();
        let mut b = AdamW::from_state(config, &segs, a.state().clone()).unwrap();
        let mut pb = pa;
        let g = [-0.4, 0.05, 0.9];
        a.step(&mut pa, &g, 1e-2).unwrap();
        b.step(&mut pb, &g, 1e-2).unwrap();
        assert_eq!(pa, pb);
        assert_eq!(a.state(), b.state());
    }

    #[test]
    fn segments_must_tile_the_buffer() {
        let c = AdamWConfig::default();
        let err = AdamW::new(c, 5, &[seg(0, 2, true), seg(3, 2, false)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AdamW segments: segment 1 (offset 3, len 2) starts after a gap; the segments must \
             tile the parameter buffer of 5 elements exactly, without gaps or overlaps"
        );
        let err = AdamW::new(c, 4, &[seg(0, 3, true), seg(2, 2, false)]).unwrap_err();
        assert!(matches!(
            err,
            AdamWError::Segments {
                index: 1,
                problem: "overlaps the previous segment",
                ..
            }
        ));
        let err = AdamW::new(c, 4, &[seg(0, 5, true)]).unwrap_err();
        assert!(matches!(
            err,
            AdamWError::Segments {
                problem: "ends past the parameter buffer",
                ..
            }
        ));
        let err = AdamW::new(c, 4, &[seg(0, 3, true)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AdamW segments cover 3 elements but the parameter buffer has 4; add a segment for \
             the missing tail or fix the layout table"
        );
    }

    #[test]
    fn bad_config_and_bad_step_inputs_are_errors() {
        let bad = AdamWConfig {
            beta2: 1.0,
            ..AdamWConfig::default()
        };
        let err = AdamW::new(bad, 1, &[seg(0, 1, true)]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("AdamW config: beta2 = 1 is out of range"),
            "{err}"
        );
        let bad = AdamWConfig {
            eps: 0.0,
            ..AdamWConfig::default()
        };
        assert!(matches!(
            AdamW::new(bad, 1, &[seg(0, 1, true)]),
            Err(AdamWError::Config { field: "eps", .. })
        ));

        let mut opt = AdamW::new(AdamWConfig::default(), 2, &[seg(0, 2, true)]).unwrap();
        let mut p = [0.0f32; 2];
        let err = opt.step(&mut p, &[0.0; 3], 0.1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AdamW step: `grads` has 3 elements but the optimizer was built for 2 parameters; \
             pass the buffers of the same model"
        );
        assert!(matches!(
            opt.step(&mut p, &[0.0; 2], f32::NAN),
            Err(AdamWError::LearningRate { .. })
        ));
        assert_eq!(
            opt.state().step,
            0,
            "a refused step must not advance the step count"
        );
    }
}
