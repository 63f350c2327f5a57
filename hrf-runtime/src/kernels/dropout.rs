//! Inverted dropout at training time, with a counter-based mask: every dropout site of the
//! encoder (attention output, FFN, residual branches).
//!
//! Element `i` is kept iff `u(seed, step, site, offset + i) ≥ p`, where `u ∈ [0, 1)` is a hash of
//! its coordinates (SplitMix64 used as a counter-based generator: global index `j = offset + i`
//! reads the high 32 bits of draw `⌊j/2⌋` when `j` is even, the low 32 bits when odd, so one
//! 64-bit hash serves two elements; `p` is resolved to 2⁻³²), and a kept element is scaled
//! by `1/(1 − p)` so that `E[out] = inp`. Nothing is saved: backward regenerates the same mask
//! from the same [`DropoutKey`]. Because the mask depends only on coordinates, never on call
//! order, results are identical whatever thread processes which utterance, and f32 and f64 see
//! the same mask.
//!
//! Layout: `out`, `inp`, `dinp`, `dout`: flat buffers of equal length (any shape, e.g.
//! `(rows, d)` of one utterance); `offset` is the index of the buffer's first element in the
//! site's whole batch buffer, so splitting a batch across threads does not change the mask.

use crate::real::Real;

/// Everything that determines a dropout mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutKey {
    /// Drop probability `p ∈ [0, 1]`. `p = 0` is the identity; `p = 1` zeroes everything.
    pub p: f64,
    /// The training run's seed.
    pub seed: u64,
    /// Optimizer step (a new mask every step).
    pub step: u64,
    /// Which dropout site in the model (a distinct id per call site, so that two sites in the
    /// same step draw independent masks).
    pub site: u64,
    /// Index of this buffer's first element within the site's batch buffer.
    pub offset: u64,
}

/// SplitMix64's increment (2⁶⁴/φ).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mixer.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl DropoutKey {
    /// The per-call stream: SplitMix64 state seeded by `(seed, step, site)`; draw `k` is then
    /// `mix64(base + (k + 1)·γ)`, SplitMix64's `k`-th output.
    fn stream_base(&self) -> u64 {
        mix64(
            self.seed
                ^ mix64(
                    self.step.wrapping_add(GOLDEN_GAMMA)
                        ^ mix64(self.site.wrapping_mul(GOLDEN_GAMMA)),
                ),
        )
    }

    /// Keep iff the element's 32 hash bits, read as `u = bits/2³² ∈ [0, 1)`, are `≥ p`:
    /// compared as integers so the mask does not depend on `T`. `p = 1` gives `2³²`, which no
    /// 32-bit value reaches.
    fn threshold(&self) -> u64 {
        let p = self.p.clamp(0.0, 1.0);
        (p * (1u64 << 32) as f64) as u64
    }

    /// Whether buffer element `i` is kept (exposed for tests and the reference implementation).
    pub fn keeps(&self, i: usize) -> bool {
        let j = self.offset.wrapping_add(i as u64);
        let h = draw(self.stream_base(), j >> 1);
        let bits = if j & 1 == 0 { h >> 32 } else { h & 0xFFFF_FFFF };
        bits >= self.threshold()
    }

    /// `1/(1 − p)` (the factor on kept elements), or 0 when everything is dropped.
    pub fn scale<T: Real>(&self) -> T {
        if self.p >= 1.0 {
            T::ZERO
        } else {
            T::from_f64(1.0 / (1.0 - self.p.max(0.0)))
        }
    }

    /// Calls `f(i, kept)` for buffer elements `i = 0..n` in order, hashing once per pair of
    /// global indices `(2k, 2k + 1)`.
    #[inline(always)]
    fn for_each_mask(&self, n: usize, mut f: impl FnMut(usize, bool)) {
        let (base, threshold) = (self.stream_base(), self.threshold());
        let mut i = 0;
        // A buffer starting at an odd global index begins with the low half of a draw.
        if self.offset & 1 == 1 && n > 0 {
            f(0, draw(base, self.offset >> 1) & 0xFFFF_FFFF >= threshold);
            i = 1;
        }
        while i + 2 <= n {
            let h = draw(base, self.offset.wrapping_add(i as u64) >> 1);
            f(i, h >> 32 >= threshold);
            f(i + 1, h & 0xFFFF_FFFF >= threshold);
            i += 2;
        }
        if i < n {
            f(
                i,
                draw(base, self.offset.wrapping_add(i as u64) >> 1) >> 32 >= threshold,
            );
        }
    }
}

/// Draw `k` of the stream starting at `base`.
#[inline(always)]
fn draw(base: u64, k: u64) -> u64 {
    mix64(base.wrapping_add(k.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)))
}

/// `out[i] = inp[i]/(1 − p)` if element `i` is kept, else 0 (overwrites `out`).
///
/// Shapes: `out, inp`: same length.
pub fn dropout_forward<T: Real>(out: &mut [T], inp: &[T], key: DropoutKey) {
    debug_assert_eq!(out.len(), inp.len(), "dropout_forward: out and inp lengths");
    if key.p <= 0.0 {
        out.copy_from_slice(inp);
        return;
    }
    let scale = key.scale::<T>();
    key.for_each_mask(out.len(), |i, kept| {
        out[i] = if kept { inp[i] * scale } else { T::ZERO };
    });
}

/// Backward of [`dropout_forward`] with the same `key`: `dinp[i] += dout[i]/(1 − p)` where kept.
/// Accumulates into `dinp`.
///
/// Shapes: `dinp, dout`: same length.
pub fn dropout_backward<T: Real>(dinp: &mut [T], dout: &[T], key: DropoutKey) {
    debug_assert_eq!(
        dinp.len(),
        dout.len(),
        "dropout_backward: dinp and dout lengths"
    );
    if key.p <= 0.0 {
        for (dx, &dy) in dinp.iter_mut().zip(dout) {
            *dx += dy;
        }
        return;
    }
    let scale = key.scale::<T>();
    key.for_each_mask(dinp.len(), |i, kept| {
        if kept {
            dinp[i] += dout[i] * scale;
        }
    });
}

/// Writes the mask of `key` over `mask.len()` elements: `mask[i] = 1` if element `i` is kept,
/// else 0 — the same mask [`dropout_forward`] applies. For callers that save the mask in
/// forward so backward need not hash again.
///
/// The hashes are computed in blocks, as plain loops over independent 64-bit lanes, which on
/// x86 run in an AVX-512DQ copy when the CPU has it (`vpmullq`: 8 lanes; baseline x86-64 has no
/// vector 64-bit multiply). Integer-exact, so the mask is the same on every path.
pub fn dropout_mask(mask: &mut [u8], key: DropoutKey) {
    if key.p <= 0.0 {
        mask.fill(1);
        return;
    }
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if std::is_x86_feature_detected!("avx512dq") && std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F and AVX-512DQ (checked just above).
        return unsafe { dropout_mask_avx512(mask, key) };
    }
    dropout_mask_loop(mask, key);
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[target_feature(enable = "avx512f,avx512dq")]
fn dropout_mask_avx512(mask: &mut [u8], key: DropoutKey) {
    dropout_mask_loop(mask, key);
}

/// Draws per block of [`dropout_mask`] (each serves two elements).
const MASK_BLOCK: usize = 64;

#[inline(always)]
fn dropout_mask_loop(mask: &mut [u8], key: DropoutKey) {
    let (base, threshold) = (key.stream_base(), key.threshold());
    let n = mask.len();
    let mut i = 0;
    // A buffer starting at an odd global index begins with the low half of a draw.
    if key.offset & 1 == 1 && n > 0 {
        mask[0] = u8::from(draw(base, key.offset >> 1) & 0xFFFF_FFFF >= threshold);
        i = 1;
    }
    let mut draws = [0u64; MASK_BLOCK];
    while i + 2 <= n {
        let pairs = ((n - i) / 2).min(MASK_BLOCK);
        let k0 = key.offset.wrapping_add(i as u64) >> 1;
        for (k, h) in draws[..pairs].iter_mut().enumerate() {
            *h = draw(base, k0.wrapping_add(k as u64));
        }
        for (m, &h) in mask[i..i + 2 * pairs]
            .chunks_exact_mut(2)
            .zip(&draws[..pairs])
        {
            m[0] = u8::from(h >> 32 >= threshold);
            m[1] = u8::from(h & 0xFFFF_FFFF >= threshold);
        }
        i += 2 * pairs;
    }
    if i < n {
        mask[i] = u8::from(draw(base, key.offset.wrapping_add(i as u64) >> 1) >> 32 >= threshold);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec;
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference check (dropout is linear in `inp`).
    const DROPOUT_GRAD_TOL: f64 = 1e-8;

    const KEY: DropoutKey = DropoutKey {
        p: 0.3,
        seed: 42,
        step: 7,
        site: 3,
        offset: 0,
    };

    fn forward(x: &[f64], key: DropoutKey) -> Vec<f64> {
        let mut y = vec![0.0; x.len()];
        dropout_forward(&mut y, x, key);
        y
    }

    #[test]
    fn dropout_keeps_about_one_minus_p_and_scales_kept() {
        let n = 20_000;
        let x = vec![1.0f64; n];
        let y = forward(&x, KEY);
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        // Binomial(20000, 0.7): σ ≈ 65, so ±400 is > 6σ.
        assert!((kept as i64 - 14_000).abs() < 400, "kept {kept} of {n}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12));
        let mean = y.iter().sum::<f64>() / n as f64;
        assert!(
            (mean - 1.0).abs() < 0.03,
            "inverted scaling keeps the mean: {mean}"
        );
    }

    #[test]
    fn dropout_mask_depends_only_on_coordinates() {
        let mut rng = Rng::new(41);
        let x = rng.vec(64, 1.0);
        let whole = forward(&x, KEY);
        // Same mask when the buffer is processed in two chunks with offsets (as two threads would).
        for split in [24, 23, 1, 63] {
            let first = forward(&x[..split], KEY);
            let second = forward(
                &x[split..],
                DropoutKey {
                    offset: split as u64,
                    ..KEY
                },
            );
            assert_eq!(whole, [first, second].concat(), "split at {split}");
        }
        // f32 sees the same mask.
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut yf = vec![0f32; x.len()];
        dropout_forward(&mut yf, &xf, KEY);
        assert!(
            yf.iter()
                .zip(&whole)
                .all(|(a, b)| (*a == 0.0) == (*b == 0.0))
        );
        assert!(
            whole
                .iter()
                .enumerate()
                .all(|(i, &v)| (v != 0.0) == KEY.keeps(i))
        );
        // A different step, site or seed draws a different mask.
        for other in [
            DropoutKey { step: 8, ..KEY },
            DropoutKey { site: 4, ..KEY },
            DropoutKey { seed: 43, ..KEY },
        ] {
            assert_ne!(forward(&x, other), whole, "{other:?}");
        }
    }

    #[test]
    fn dropout_mask_is_the_forward_mask_at_any_offset() {
        let x = vec![1.0f64; 301];
        for offset in [0u64, 1, 2, 77, 128] {
            for p in [0.0, 0.3, 1.0] {
                let key = DropoutKey { offset, p, ..KEY };
                let y = forward(&x, key);
                for n in [0, 1, 2, 129, 301] {
                    let mut mask = vec![9u8; n];
                    dropout_mask(&mut mask, key);
                    for (i, &m) in mask.iter().enumerate() {
                        assert_eq!(
                            m,
                            u8::from(y[i] != 0.0),
                            "offset {offset} p {p} n {n} i {i}"
                        );
                    }
                    let mut portable = vec![9u8; n];
                    dropout_mask_loop(&mut portable, key);
                    if p > 0.0 {
                        assert_eq!(portable, mask);
                    }
                }
            }
        }
    }

    #[test]
    fn dropout_edge_probabilities() {
        let x = [1.0f64, -2.0, 3.0];
        assert_eq!(forward(&x, DropoutKey { p: 0.0, ..KEY }), x);
        assert_eq!(forward(&x, DropoutKey { p: 1.0, ..KEY }), [0.0; 3]);
        let mut dx = [1.0f64; 3];
        dropout_backward(&mut dx, &x, DropoutKey { p: 1.0, ..KEY });
        assert_eq!(dx, [1.0; 3]);
    }

    #[test]
    fn dropout_backward_matches_finite_differences() {
        let mut rng = Rng::new(43);
        let mut x = rng.vec(16, 1.0);
        let up = rng.vec(16, 1.0);
        let seed = rng.vec(16, 1.0);
        let mut dx = seed.clone();
        dropout_backward(&mut dx, &up, KEY);
        let dx: Vec<f64> = dx.iter().zip(&seed).map(|(a, s)| a - s).collect();
        check_gradient("dropout dinp", &mut x, &dx, DROPOUT_GRAD_TOL, |x| {
            dot(&up, &forward(x, KEY))
        });
    }
}
