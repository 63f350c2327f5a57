//! Training front-end layers: CMVN feature normalisation, the strided subsampling convs (im2col
//! over the whole packed batch, then one GEMM) with ReLU, and sinusoidal positions.

use core::ops::Range;
use std::vec::Vec;

use rayon::prelude::*;

use crate::kernels::activation::{relu_backward, relu_forward};
use crate::kernels::positions::sinusoidal_table;
use crate::plan::ConvPlan;
use crate::real::Real;

use super::super::dense::{Cols, ColsMut, linear_backward, linear_forward};
use super::super::frames::{DisjointRows, Frames, sized, zeroed};
use super::super::slots::{LinearSlots, linear_grads};
use super::{Bwd, Fwd};

/// `y = (x − mean)/std` per feature, statistics from the buffers arena (no trainable params).
pub(crate) struct FeatureNormLayer<T> {
    pub mean: Range<usize>,
    pub std: Range<usize>,
    pub features: usize,
    /// (rows, features)
    pub out: Vec<T>,
}

impl<T: Real> FeatureNormLayer<T> {
    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T]) {
        let f = self.features;
        sized(&mut self.out, x.len());
        let (mean, std) = (
            &cx.buffers[self.mean.clone()],
            &cx.buffers[self.std.clone()],
        );
        for (y, x) in self.out.chunks_exact_mut(f).zip(x.chunks_exact(f)) {
            for j in 0..f {
                y[j] = (x[j] - mean[j]) / std[j];
            }
        }
    }

    /// `dx = dy / std` (only needed if something trainable came before, which never happens for
    /// a first op, but kept exact).
    pub fn backward(&self, cx: &Bwd<'_, T>, grad: &mut [T]) {
        let std = &cx.buffers[self.std.clone()];
        for row in grad.chunks_exact_mut(self.features) {
            for (g, &s) in row.iter_mut().zip(std) {
                *g /= s;
            }
        }
    }
}

/// Conv1d (`W: (out, in, k)`, padding `p`, stride `s`) + ReLU over every utterance, computed as
/// im2col rows of all utterances packed together and one batched GEMM.
pub(crate) struct ConvLayer<T> {
    pub conv: ConvPlan,
    /// Weight viewed as a linear `(out, in·k)` (column `ci·k + kk`, PyTorch's flattening).
    pub linear: LinearSlots,
    /// (rows_out, in·k) — receptive fields, saved for dW.
    cols: Vec<T>,
    /// (rows_out, out) — pre-activation, saved for ReLU's backward.
    pre: Vec<T>,
    /// (rows_out, out)
    pub out: Vec<T>,
    /// (rows_out, out) / (rows_out, in·k) — backward scratch.
    dpre: Vec<T>,
    dcols: Vec<T>,
}

impl<T: Real> ConvLayer<T> {
    pub fn new(conv: ConvPlan, linear: LinearSlots) -> Self {
        Self {
            conv,
            linear,
            cols: Vec::new(),
            pre: Vec::new(),
            out: Vec::new(),
            dpre: Vec::new(),
            dcols: Vec::new(),
        }
    }

    /// Input frame read by output `o` at tap `kk`, if inside `0..len` (zero padding elsewhere).
    fn source(&self, o: usize, kk: usize, len: usize) -> Option<usize> {
        (o * self.conv.stride + kk)
            .checked_sub(self.conv.padding)
            .filter(|&r| r < len)
    }

    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T], fin: &Frames, fout: &Frames) {
        let (cin, k, cout) = (
            self.conv.in_channels,
            self.conv.kernel,
            self.conv.out_channels,
        );
        let width = cin * k;
        let mut cols_buf = core::mem::take(&mut self.cols);
        sized(&mut cols_buf, fout.total() * width);
        {
            let cols = DisjointRows::new(&mut cols_buf, width);
            let this = &*self;
            (0..fin.batch()).into_par_iter().for_each(|u| {
                // SAFETY: utterance u's output rows are disjoint from every other utterance's.
                let cu = unsafe { cols.rows(fout.rows(u)) };
                let xu = &x[fin.rows(u).start * cin..fin.rows(u).end * cin];
                let len = fin.lengths[u];
                // cols[o][ci·k + kk] = x[o·s − p + kk][ci]
                for (o, row) in cu.chunks_exact_mut(width).enumerate() {
                    for kk in 0..k {
                        match this.source(o, kk, len) {
                            Some(r) => {
                                for ci in 0..cin {
                                    row[ci * k + kk] = xu[r * cin + ci];
                                }
                            }
                            None => {
                                for ci in 0..cin {
                                    row[ci * k + kk] = T::ZERO;
                                }
                            }
                        }
                    }
                }
            });
        }
        self.cols = cols_buf;
        sized(&mut self.pre, fout.total() * cout);
        let p = cx.params;
        linear_forward(
            ColsMut::all(&mut self.pre, cout),
            Cols::all(&self.cols, width),
            &p[self.linear.weight.clone()],
            self.linear.bias.clone().map(|b| &p[b]),
        );
        sized(&mut self.out, self.pre.len());
        relu_forward(&mut self.out, &self.pre);
    }

    /// `grad: (rows_out, out)` in; with `need_dinp`, `spare` receives `(rows_in, in)` and is
    /// swapped into `grad`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &mut self,
        cx: &mut Bwd<'_, T>,
        grad: &mut Vec<T>,
        spare: &mut Vec<T>,
        fin: &Frames,
        fout: &Frames,
        need_dinp: bool,
    ) {
        let (cin, k, cout) = (
            self.conv.in_channels,
            self.conv.kernel,
            self.conv.out_channels,
        );
        let width = cin * k;
        zeroed(&mut self.dpre, self.pre.len());
        relu_backward(&mut self.dpre, grad, &self.pre);
        let w = &cx.params[self.linear.weight.clone()];
        if need_dinp {
            zeroed(&mut self.dcols, self.cols.len());
        }
        let (dw, db) = linear_grads(cx.grads, &self.linear);
        linear_backward(
            need_dinp.then(|| ColsMut::all(&mut self.dcols[..], width)),
            dw,
            db,
            Cols::all(&self.dpre, cout),
            Cols::all(&self.cols, width),
            w,
        );
        if !need_dinp {
            return;
        }
        zeroed(spare, fin.total() * cin);
        {
            let dx = DisjointRows::new(&mut spare[..], cin);
            let this = &*self;
            (0..fin.batch()).into_par_iter().for_each(|u| {
                // SAFETY: utterance u's input rows are its own.
                let dxu = unsafe { dx.rows(fin.rows(u)) };
                let dcu = &this.dcols[fout.rows(u).start * width..fout.rows(u).end * width];
                let len = fin.lengths[u];
                // col2im: dx[o·s − p + kk][ci] += dcols[o][ci·k + kk]
                for (o, row) in dcu.chunks_exact(width).enumerate() {
                    for kk in 0..k {
                        if let Some(r) = this.source(o, kk, len) {
                            for ci in 0..cin {
                                dxu[r * cin + ci] += row[ci * k + kk];
                            }
                        }
                    }
                }
            });
        }
        core::mem::swap(grad, spare);
    }
}

/// `y = x + PE(t)` with `t` the frame index within each utterance.
pub(crate) struct PositionsLayer<T> {
    pub width: usize,
    /// (max_frames, width) — the sinusoidal table.
    table: Vec<T>,
    /// (rows, width)
    pub out: Vec<T>,
}

impl<T: Real> PositionsLayer<T> {
    pub fn new(width: usize, max_frames: usize) -> Self {
        let mut table = std::vec![T::ZERO; max_frames.max(1) * width];
        sinusoidal_table(&mut table, width);
        Self {
            width,
            table,
            out: Vec::new(),
        }
    }

    pub fn forward(&mut self, x: &[T], fin: &Frames) {
        let d = self.width;
        sized(&mut self.out, x.len());
        for u in 0..fin.batch() {
            let rows = fin.rows(u);
            let (ys, xs) = (
                &mut self.out[rows.start * d..rows.end * d],
                &x[rows.start * d..rows.end * d],
            );
            for ((y, &x), &pe) in ys.iter_mut().zip(xs).zip(&self.table) {
                *y = x + pe;
            }
        }
    }
}
