//! Depthwise conv over time (`groups = channels`): the Conformer conv module's kernel-15 conv.
//!
//! Each channel is convolved with its own `k` taps: `out[o][c] = b[c] + Σ_kk W[c][kk] ·
//! x[o·s − p + kk][c]`, with `W: (c, 1, k)` = `(c, k)` and the length rules of the parent module.
//! Direct loops rather than GEMM: there are only `c·k` weights and no channel mixing, so the
//! work is `t·c·k` multiply-adds over contiguous frame rows. To keep those loops vectorised
//! across channels, a block of at most `CHANNEL_BLOCK × TAP_BLOCK` weights is transposed onto
//! the stack as `(tap, channel)`, since `W[c][kk]` is strided by `k` along `c`.

use super::Conv1dDims;
use crate::real::Real;

/// Channels per stack block (a multiple of every SIMD width).
const CHANNEL_BLOCK: usize = 64;
/// Taps per stack block (Conformer's 15 or 31 fit in one).
const TAP_BLOCK: usize = 32;

/// The weights of channels `c0..c0+cb` and taps `k0..k0+kb` transposed to `(kb, cb)`:
/// `block[kk·cb + j] = W[c0 + j][k0 + kk]`. `weight: (c, k)`.
struct WeightBlock<T> {
    block: [T; CHANNEL_BLOCK * TAP_BLOCK],
    /// Channel width `cb` of this block.
    cb: usize,
}

impl<T: Real> WeightBlock<T> {
    fn gather(weight: &[T], k: usize, (c0, cb): (usize, usize), (k0, kb): (usize, usize)) -> Self {
        let mut block = [T::ZERO; CHANNEL_BLOCK * TAP_BLOCK];
        for j in 0..cb {
            let w = &weight[(c0 + j) * k + k0..(c0 + j) * k + k0 + kb];
            for (kk, &v) in w.iter().enumerate() {
                block[kk * cb + j] = v;
            }
        }
        WeightBlock { block, cb }
    }

    /// The `cb` channel weights of tap `kk` (relative to the block's first tap).
    fn tap(&self, kk: usize) -> &[T] {
        &self.block[kk * self.cb..(kk + 1) * self.cb]
    }

    fn tap_mut(&mut self, kk: usize) -> &mut [T] {
        &mut self.block[kk * self.cb..(kk + 1) * self.cb]
    }

    /// The inverse of [`WeightBlock::gather`], accumulating: `W[c0 + j][k0 + kk] += block[kk·cb + j]`.
    fn scatter_add(&self, weight: &mut [T], k: usize, c0: usize, (k0, kb): (usize, usize)) {
        for j in 0..self.cb {
            let w = &mut weight[(c0 + j) * k + k0..(c0 + j) * k + k0 + kb];
            for (kk, v) in w.iter_mut().enumerate() {
                *v += self.block[kk * self.cb + j];
            }
        }
    }
}

/// `(start, width)` blocks covering `0..n`, each at most `size` wide.
fn blocks(n: usize, size: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).step_by(size).map(move |s| (s, size.min(n - s)))
}

/// Depthwise conv forward (overwrites `out`).
///
/// - `out: (t_out, c)` — rows `≥ out_len(len)` set to zero;
/// - `inp: (t, c)`, `len` valid frames; `weight: (c, k)`; `bias: (c)`;
/// - `dims.channels_in == dims.channels_out == c`.
pub fn depthwise_conv1d_forward<T: Real>(
    out: &mut [T],
    inp: &[T],
    len: usize,
    weight: &[T],
    bias: Option<&[T]>,
    dims: Conv1dDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || depthwise_conv1d_forward_body(out, inp, len, weight, bias, dims),
    )
}

/// [`depthwise_conv1d_forward`]'s loops, inlined into each instruction-set copy.
#[inline(always)]
fn depthwise_conv1d_forward_body<T: Real>(
    out: &mut [T],
    inp: &[T],
    len: usize,
    weight: &[T],
    bias: Option<&[T]>,
    dims: Conv1dDims,
) {
    let (c, k) = (dims.channels_in, dims.kernel);
    debug_assert_eq!(
        dims.channels_out, c,
        "depthwise conv keeps the channel count"
    );
    debug_assert!(len <= dims.frames && inp.len() >= dims.frames * c && weight.len() == c * k);
    debug_assert!(out.len() >= dims.out_frames() * c);
    let n_out = dims.out_len(len);
    out[n_out * c..dims.out_frames() * c].fill(T::ZERO);
    for row in out.chunks_exact_mut(c).take(n_out) {
        match bias {
            Some(b) => row.copy_from_slice(&b[..c]),
            None => row.fill(T::ZERO),
        }
    }
    for (c0, cb) in blocks(c, CHANNEL_BLOCK) {
        for (k0, kb) in blocks(k, TAP_BLOCK) {
            let wt = WeightBlock::gather(weight, k, (c0, cb), (k0, kb));
            for (o, row) in out.chunks_exact_mut(c).take(n_out).enumerate() {
                let y = &mut row[c0..c0 + cb];
                for kk in 0..kb {
                    let Some(r) = dims.input_frame(o, k0 + kk, len) else {
                        continue;
                    };
                    let x = &inp[r * c + c0..r * c + c0 + cb];
                    // y[j] += W[c0 + j][k0 + kk] · x[r][c0 + j]
                    for ((yv, &xv), &w) in y.iter_mut().zip(x).zip(wt.tap(kk)) {
                        *yv += w * xv;
                    }
                }
            }
        }
    }
}

/// Backward of [`depthwise_conv1d_forward`]. Accumulates into `dinp`, `dweight`, `dbias`.
///
/// - `dinp: (t, c)` (`None` when not needed; rows `≥ len` untouched); `dweight: (c, k)`;
///   `dbias: (c)` (`None` without a bias);
/// - `dout: (t_out, c)` (rows `≥ out_len(len)` not read); `inp`, `len`, `weight` as forward.
///
/// For every output `o`, tap `kk` reading frame `r`: `dW[c][kk] += dout[o][c]·x[r][c]` and
/// `dinp[r][c] += W[c][kk]·dout[o][c]`; `db[c] += Σ_o dout[o][c]`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv1d_backward<T: Real>(
    dinp: Option<&mut [T]>,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    dout: &[T],
    inp: &[T],
    len: usize,
    weight: &[T],
    dims: Conv1dDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || depthwise_conv1d_backward_body(dinp, dweight, dbias, dout, inp, len, weight, dims),
    )
}

/// [`depthwise_conv1d_backward`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn depthwise_conv1d_backward_body<T: Real>(
    mut dinp: Option<&mut [T]>,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    dout: &[T],
    inp: &[T],
    len: usize,
    weight: &[T],
    dims: Conv1dDims,
) {
    let (c, k) = (dims.channels_in, dims.kernel);
    debug_assert_eq!(
        dims.channels_out, c,
        "depthwise conv keeps the channel count"
    );
    debug_assert!(len <= dims.frames && inp.len() >= dims.frames * c && weight.len() == c * k);
    debug_assert!(dout.len() >= dims.out_frames() * c && dweight.len() == c * k);
    let n_out = dims.out_len(len);
    let dout = &dout[..n_out * c];
    if let Some(db) = dbias {
        for g in dout.chunks_exact(c) {
            for (b, &gv) in db.iter_mut().zip(g) {
                *b += gv;
            }
        }
    }
    for (c0, cb) in blocks(c, CHANNEL_BLOCK) {
        for (k0, kb) in blocks(k, TAP_BLOCK) {
            let wt = WeightBlock::gather(weight, k, (c0, cb), (k0, kb));
            // dW for this block, summed over outputs in (tap, channel) order, added back once.
            let mut dwt = WeightBlock {
                block: [T::ZERO; CHANNEL_BLOCK * TAP_BLOCK],
                cb,
            };
            for (o, row) in dout.chunks_exact(c).enumerate() {
                let g = &row[c0..c0 + cb];
                for kk in 0..kb {
                    let Some(r) = dims.input_frame(o, k0 + kk, len) else {
                        continue;
                    };
                    let x = &inp[r * c + c0..r * c + c0 + cb];
                    for ((dw, &gv), &xv) in dwt.tap_mut(kk).iter_mut().zip(g).zip(x) {
                        *dw += gv * xv;
                    }
                    if let Some(dinp) = dinp.as_deref_mut() {
                        let dx = &mut dinp[r * c + c0..r * c + c0 + cb];
                        for ((d, &gv), &w) in dx.iter_mut().zip(g).zip(wt.tap(kk)) {
                            *d += w * gv;
                        }
                    }
                }
            }
            dwt.scatter_add(dweight, k, c0, (k0, kb));
        }
    }
}
