//! 1-D convolution over time: the frontend's strided subsampling convs and the Conformer conv
//! module's pointwise and depthwise convs.
//!
//! # Layouts (the contract a reference implementation is compared against)
//! - `inp: (t, c_in)` row-major, one row per frame (`t = dims.frames` buffer frames, `len` valid);
//! - `out: (t_out, c_out)` row-major, `t_out = dims.out_frames()`;
//! - standard conv weight `W: (c_out, c_in, k)` row-major, as PyTorch's `nn.Conv1d.weight`
//!   (so a pointwise conv's `W: (c_out, c_in, 1)` is exactly a linear weight `(out, in)`);
//! - depthwise weight `W: (c, 1, k)` = `(c, k)` (PyTorch with `groups = c`);
//! - bias `b: (c_out)`, optional.
//!
//! # Math and lengths
//! `out[o][co] = b[co] + Σ_ci Σ_kk W[co][ci][kk] · x[o·s − p + kk][ci]`, where frames outside
//! `0..len` read as zero: left padding `p`, and right padding by the zeros past `len`, whatever
//! the buffer holds there (padding invariance). An input of `len` valid frames gives
//! `out_len = ⌊(len + 2p − k) / s⌋ + 1` valid outputs (0 when `len = 0` or `len + 2p < k`), as
//! PyTorch's `Conv1d` on the unpadded utterance. Output rows `out_len..t_out` are written as
//! zeros, and backward neither reads `dout` there nor writes `dinp` rows `≥ len`.
//!
//! The standard conv is a GEMM: im2col copies each output's receptive field into a row of
//! `cols: (out_len, c_in·k)` (column `ci·k + kk`, matching `W`'s flattening), then
//! `out = cols·Wᵀ + b` is [`linear_forward`]. A pointwise conv (`k = 1, s = 1, p = 0`) skips
//! im2col and is a linear on the valid rows.

mod depthwise;
#[cfg(test)]
mod tests;

pub use depthwise::{depthwise_conv1d_backward, depthwise_conv1d_forward};

use crate::kernels::gemm::{Op, gemm};
use crate::kernels::linear::{LinearDims, linear_backward, linear_forward};
use crate::real::Real;

/// Shapes of one conv call over one utterance (or a batch row block of one utterance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dDims {
    /// `t`: input frames in the buffer (valid + padding).
    pub frames: usize,
    /// Input channels `c_in`.
    pub channels_in: usize,
    /// Output channels `c_out` (equal to `c_in` for a depthwise conv).
    pub channels_out: usize,
    /// Kernel size `k ≥ 1`.
    pub kernel: usize,
    /// Stride `s ≥ 1`.
    pub stride: usize,
    /// Zero padding `p` on each side.
    pub padding: usize,
}

impl Conv1dDims {
    /// Valid outputs for `len` valid input frames: `⌊(len + 2p − k)/s⌋ + 1`, or 0 when
    /// `len = 0` or the padded input is shorter than the kernel.
    pub fn out_len(&self, len: usize) -> usize {
        let padded = len + 2 * self.padding;
        if len == 0 || padded < self.kernel {
            0
        } else {
            (padded - self.kernel) / self.stride + 1
        }
    }

    /// `t_out`: rows of the output buffer, the output length of a full buffer.
    pub fn out_frames(&self) -> usize {
        self.out_len(self.frames)
    }

    /// `k = 1, s = 1, p = 0`: a linear on each frame, needing no im2col scratch.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == 1 && self.stride == 1 && self.padding == 0
    }

    /// Length of the `cols: (t_out, c_in·k)` scratch of [`conv1d_forward`] / [`conv1d_backward`]
    /// (0 for a pointwise conv).
    pub fn scratch_len(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.out_frames() * self.channels_in * self.kernel
        }
    }

    /// The input frame output `o` reads at kernel tap `kk`, or `None` where it reads a zero
    /// (left padding, or at/after `len`).
    #[inline]
    fn input_frame(&self, o: usize, kk: usize, len: usize) -> Option<usize> {
        (o * self.stride + kk)
            .checked_sub(self.padding)
            .filter(|&r| r < len)
    }

    /// The conv as a linear over im2col rows: `(out_len, c_in·k) → (out_len, c_out)`.
    fn as_linear(&self, rows: usize) -> LinearDims {
        LinearDims {
            rows,
            in_dim: self.channels_in * self.kernel,
            out_dim: self.channels_out,
        }
    }
}

/// Standard (also strided and pointwise) conv: `out = conv(inp[..len]) + b` (overwrites `out`).
///
/// - `out: (t_out, c_out)` — rows `≥ out_len(len)` set to zero;
/// - `cols_scratch: (t_out, c_in·k)` — im2col workspace ([`Conv1dDims::scratch_len`]; may be
///   empty for a pointwise conv);
/// - `inp: (t, c_in)`, `len` valid frames; `weight: (c_out, c_in, k)`; `bias: (c_out)`.
pub fn conv1d_forward<T: Real>(
    out: &mut [T],
    cols_scratch: &mut [T],
    inp: &[T],
    len: usize,
    weight: &[T],
    bias: Option<&[T]>,
    dims: Conv1dDims,
) {
    let (c_in, c_out) = (dims.channels_in, dims.channels_out);
    let n_out = dims.out_len(len);
    debug_assert!(len <= dims.frames && inp.len() >= dims.frames * c_in);
    debug_assert!(out.len() >= dims.out_frames() * c_out);
    debug_assert!(cols_scratch.len() >= dims.scratch_len());
    out[n_out * c_out..dims.out_frames() * c_out].fill(T::ZERO);
    let out = &mut out[..n_out * c_out];
    if dims.is_pointwise() {
        linear_forward(out, &inp[..len * c_in], weight, bias, dims.as_linear(len));
    } else {
        let cols = &mut cols_scratch[..n_out * c_in * dims.kernel];
        im2col(cols, inp, len, n_out, dims);
        linear_forward(out, cols, weight, bias, dims.as_linear(n_out));
    }
}

/// Backward of [`conv1d_forward`]. Accumulates into `dinp`, `dweight`, `dbias`.
///
/// - `dinp: (t, c_in)` — `None` when the input needs no gradient (the first frontend conv);
///   rows `≥ len` untouched;
/// - `dweight: (c_out, c_in, k)`; `dbias: (c_out)` (`None` without a bias);
/// - `cols_scratch: (t_out, c_in·k)` — workspace, overwritten (im2col is recomputed here, so
///   forward's scratch need not be kept);
/// - `dout: (t_out, c_out)` (rows `≥ out_len(len)` not read); `inp`, `len`, `weight` as forward.
///
/// With `X = im2col(inp)`: `dW += doutᵀ·X`, `db += Σ_o dout`, `dX = dout·W`, and `dinp +=
/// col2im(dX)` (each column of `dX` added back to the frame and channel it was copied from).
#[allow(clippy::too_many_arguments)]
pub fn conv1d_backward<T: Real>(
    dinp: Option<&mut [T]>,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    cols_scratch: &mut [T],
    dout: &[T],
    inp: &[T],
    len: usize,
    weight: &[T],
    dims: Conv1dDims,
) {
    let (c_in, c_out) = (dims.channels_in, dims.channels_out);
    let n_out = dims.out_len(len);
    debug_assert!(len <= dims.frames && inp.len() >= dims.frames * c_in);
    debug_assert!(dout.len() >= dims.out_frames() * c_out);
    debug_assert!(cols_scratch.len() >= dims.scratch_len());
    let dout = &dout[..n_out * c_out];
    if dims.is_pointwise() {
        let dinp = dinp.map(|d| &mut d[..len * c_in]);
        let inp = &inp[..len * c_in];
        linear_backward(dinp, dweight, dbias, dout, inp, weight, dims.as_linear(len));
        return;
    }
    let width = c_in * dims.kernel;
    let cols = &mut cols_scratch[..n_out * width];
    im2col(cols, inp, len, n_out, dims);
    linear_backward(
        None,
        dweight,
        dbias,
        dout,
        cols,
        weight,
        dims.as_linear(n_out),
    );
    if let Some(dinp) = dinp {
        // dX = dout·W: (out_len, c_out)·(c_out, c_in·k), reusing the scratch.
        gemm(
            cols,
            dout,
            Op::N,
            weight,
            Op::N,
            n_out,
            c_out,
            width,
            T::ONE,
            T::ZERO,
        );
        col2im_add(dinp, cols, len, n_out, dims);
    }
}

/// `cols[o][ci·k + kk] = x[o·s − p + kk][ci]`, zero where that frame is outside `0..len`.
/// `cols: (n_out, c_in·k)`, `inp: (t, c_in)`.
fn im2col<T: Real>(cols: &mut [T], inp: &[T], len: usize, n_out: usize, dims: Conv1dDims) {
    let (c_in, k) = (dims.channels_in, dims.kernel);
    for (o, row) in cols.chunks_exact_mut(c_in * k).take(n_out).enumerate() {
        for kk in 0..k {
            match dims.input_frame(o, kk, len) {
                Some(r) => {
                    let x = &inp[r * c_in..(r + 1) * c_in];
                    for (ci, &v) in x.iter().enumerate() {
                        row[ci * k + kk] = v;
                    }
                }
                None => {
                    for ci in 0..c_in {
                        row[ci * k + kk] = T::ZERO;
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dinp[o·s − p + kk][ci] += dcols[o][ci·k + kk]` for frames in
/// `0..len`. `dinp: (t, c_in)`, `dcols: (n_out, c_in·k)`.
fn col2im_add<T: Real>(dinp: &mut [T], dcols: &[T], len: usize, n_out: usize, dims: Conv1dDims) {
    let (c_in, k) = (dims.channels_in, dims.kernel);
    for (o, row) in dcols.chunks_exact(c_in * k).take(n_out).enumerate() {
        for kk in 0..k {
            if let Some(r) = dims.input_frame(o, kk, len) {
                let dx = &mut dinp[r * c_in..(r + 1) * c_in];
                for (ci, g) in dx.iter_mut().enumerate() {
                    *g += row[ci * k + kk];
                }
            }
        }
    }
}
