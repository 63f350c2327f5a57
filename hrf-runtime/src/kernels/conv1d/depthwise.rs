//! Depthwise conv over time (`groups = channels`): the Conformer conv module's kernel-15 conv.
//!
//! Each channel is convolved with its own `k` taps: `out[o][c] = b[c] + Σ_kk W[c][kk] ·
//! x[o·s − p + kk][c]`, with `W: (c, 1, k)` = `(c, k)` and the length rules of the parent module.
//! Direct loops rather than GEMM: there are only `c·k` weights and no channel mixing, so the
//! work is `t·c·k` multiply-adds over contiguous frame rows.

use super::Conv1dDims;
use crate::real::Real;

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
    let (c, k) = (dims.channels_in, dims.kernel);
    debug_assert_eq!(
        dims.channels_out, c,
        "depthwise conv keeps the channel count"
    );
    debug_assert!(len <= dims.frames && inp.len() >= dims.frames * c && weight.len() == c * k);
    debug_assert!(out.len() >= dims.out_frames() * c);
    let n_out = dims.out_len(len);
    out[n_out * c..dims.out_frames() * c].fill(T::ZERO);
    for (o, row) in out.chunks_exact_mut(c).take(n_out).enumerate() {
        match bias {
            Some(b) => row.copy_from_slice(&b[..c]),
            None => row.fill(T::ZERO),
        }
        for kk in 0..k {
            if let Some(r) = dims.input_frame(o, kk, len) {
                let x = &inp[r * c..(r + 1) * c];
                for ((y, &xv), w) in row.iter_mut().zip(x).zip(weight.chunks_exact(k)) {
                    *y += w[kk] * xv;
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
    for (o, g) in dout.chunks_exact(c).enumerate() {
        for kk in 0..k {
            let Some(r) = dims.input_frame(o, kk, len) else {
                continue;
            };
            let x = &inp[r * c..(r + 1) * c];
            for ((dw, &gv), &xv) in dweight.chunks_exact_mut(k).zip(g).zip(x) {
                dw[kk] += gv * xv;
            }
            if let Some(dinp) = dinp.as_deref_mut() {
                let dx = &mut dinp[r * c..(r + 1) * c];
                for ((d, &gv), w) in dx.iter_mut().zip(g).zip(weight.chunks_exact(k)) {
                    *d += w[kk] * gv;
                }
            }
        }
    }
}
