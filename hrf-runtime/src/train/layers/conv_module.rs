//! Training Conformer convolution branch: pointwise `d → 2d` (batched GEMM), GLU, depthwise conv
//! per utterance (parallel), BatchNorm over the valid frames of the whole batch (train) or the
//! running statistics (eval), Swish, pointwise `d → d`.

use core::ops::Range;
use std::vec::Vec;

use rayon::prelude::*;

use crate::kernels::activation::Activation;
use crate::kernels::batch_norm::{
    BatchNormDims, batch_norm_backward_eval, batch_norm_backward_train, batch_norm_forward_eval,
    batch_norm_forward_train,
};
use crate::kernels::conv1d::{Conv1dDims, depthwise_conv1d_backward, depthwise_conv1d_forward};
use crate::kernels::glu::{GluDims, glu_backward, glu_forward};
use crate::real::Real;

use super::super::Mode;
use super::super::dense::{Cols, ColsMut, linear_backward, linear_forward};
use super::super::frames::{DisjointRows, Frames, sized, zeroed};
use super::super::rowwise::{activation_backward_rows, activation_forward_rows};
use super::super::slots::{LinearSlots, NormSlots, linear_grads, two_mut};
use super::{Bwd, Fwd};

/// BatchNorm slots: affine params and running statistics (buffers).
pub(crate) struct BatchNormSlots {
    pub affine: NormSlots,
    pub running_mean: Range<usize>,
    pub running_var: Range<usize>,
}

pub(crate) struct ConvModuleBranch<T> {
    pub pw1: LinearSlots,
    /// Depthwise `(d, k)` weight and optional `(d)` bias.
    pub dw_weight: Range<usize>,
    pub dw_bias: Option<Range<usize>>,
    pub kernel: usize,
    pub bn: BatchNormSlots,
    pub pw2: LinearSlots,
    /// (rows, 2d) — pw1 output, GLU input.
    a: Vec<T>,
    /// (rows, d) — GLU output, depthwise input.
    g: Vec<T>,
    /// (rows, d) — depthwise output, BatchNorm input.
    c: Vec<T>,
    /// (rows, d) — BatchNorm output, Swish input.
    n: Vec<T>,
    /// (d) ×2 — BatchNorm batch mean and 1/std (train mode).
    bn_mean: Vec<T>,
    bn_rstd: Vec<T>,
    /// (rows, d) — Swish output, pw2 input.
    s: Vec<T>,
    /// (rows, d) — branch output.
    pub out: Vec<T>,
    /// Backward scratch: (rows, d) ×3, (rows, 2d), (2d), and (batch, d·k + d) per-utterance
    /// depthwise weight/bias gradients, summed in utterance order (thread-count independent).
    ds: Vec<T>,
    dn: Vec<T>,
    dc: Vec<T>,
    dg: Vec<T>,
    da: Vec<T>,
    bn_scratch: Vec<T>,
    dw_partials: Vec<T>,
}

impl<T: Real> ConvModuleBranch<T> {
    pub fn new(
        pw1: LinearSlots,
        dw_weight: Range<usize>,
        dw_bias: Option<Range<usize>>,
        kernel: usize,
        bn: BatchNormSlots,
        pw2: LinearSlots,
    ) -> Self {
        let v = Vec::new;
        Self {
            pw1,
            dw_weight,
            dw_bias,
            kernel,
            bn,
            pw2,
            a: v(),
            g: v(),
            c: v(),
            n: v(),
            bn_mean: v(),
            bn_rstd: v(),
            s: v(),
            out: v(),
            ds: v(),
            dn: v(),
            dc: v(),
            dg: v(),
            da: v(),
            bn_scratch: v(),
            dw_partials: v(),
        }
    }

    fn width(&self) -> usize {
        self.pw2.out_dim
    }

    fn dw_dims(&self, len: usize) -> Conv1dDims {
        Conv1dDims {
            frames: len,
            channels_in: self.width(),
            channels_out: self.width(),
            kernel: self.kernel,
            stride: 1,
            padding: self.kernel / 2,
        }
    }

    /// The packed batch as BatchNorm sees it: one "utterance" of all `rows` valid frames, so the
    /// statistics cover every valid frame of the batch and nothing else.
    fn bn_dims(&self, rows: usize) -> BatchNormDims {
        BatchNormDims::new(rows, self.width())
    }

    pub fn forward(&mut self, cx: &mut Fwd<'_, T>, x: &[T], frames: &Frames) {
        let (d, rows) = (self.width(), frames.total());
        let p = cx.params;
        sized(&mut self.a, rows * 2 * d);
        linear_forward(
            ColsMut::all(&mut self.a, 2 * d),
            Cols::all(x, d),
            &p[self.pw1.weight.clone()],
            self.pw1.bias.clone().map(|b| &p[b]),
        );
        sized(&mut self.g, rows * d);
        glu_forward(&mut self.g, &self.a, GluDims { rows, channels: d });
        let mut c_buf = core::mem::take(&mut self.c);
        sized(&mut c_buf, rows * d);
        {
            let c = DisjointRows::new(&mut c_buf, d);
            let this = &*self;
            let (w, b) = (
                &p[this.dw_weight.clone()],
                this.dw_bias.clone().map(|b| &p[b]),
            );
            (0..frames.batch()).into_par_iter().for_each(|u| {
                let r = frames.rows(u);
                // SAFETY: utterance rows are disjoint.
                let cu = unsafe { c.rows(r.clone()) };
                let gu = &this.g[r.start * d..r.end * d];
                depthwise_conv1d_forward(cu, gu, r.len(), w, b, this.dw_dims(r.len()));
            });
        }
        self.c = c_buf;
        sized(&mut self.n, rows * d);
        sized(&mut self.bn_mean, d);
        sized(&mut self.bn_rstd, d);
        let (gamma, beta) = (
            &p[self.bn.affine.gamma.clone()],
            &p[self.bn.affine.beta.clone()],
        );
        let dims = self.bn_dims(rows);
        match cx.mode {
            Mode::Train { .. } => {
                let (rm, rv) = two_mut(
                    cx.buffers,
                    self.bn.running_mean.clone(),
                    self.bn.running_var.clone(),
                );
                batch_norm_forward_train(
                    &mut self.n,
                    &mut self.bn_mean,
                    &mut self.bn_rstd,
                    rm,
                    rv,
                    &self.c,
                    gamma,
                    beta,
                    &[rows],
                    dims,
                );
            }
            Mode::Eval => batch_norm_forward_eval(
                &mut self.n,
                &self.c,
                gamma,
                beta,
                &cx.buffers[self.bn.running_mean.clone()],
                &cx.buffers[self.bn.running_var.clone()],
                &[rows],
                dims,
            ),
        }
        sized(&mut self.s, rows * d);
        activation_forward_rows(Activation::Swish, &mut self.s, &self.n, d);
        sized(&mut self.out, rows * d);
        linear_forward(
            ColsMut::all(&mut self.out, d),
            Cols::all(&self.s, d),
            &p[self.pw2.weight.clone()],
            self.pw2.bias.clone().map(|b| &p[b]),
        );
    }

    /// `dy: (rows, d)`; accumulates the branch input's gradient into `dx: (rows, d)`.
    pub fn backward(
        &mut self,
        cx: &mut Bwd<'_, T>,
        dx: &mut [T],
        dy: &[T],
        x: &[T],
        frames: &Frames,
    ) {
        let (d, rows, k) = (self.width(), frames.total(), self.kernel);
        let p = cx.params;
        zeroed(&mut self.ds, rows * d);
        let (dw, db) = linear_grads(cx.grads, &self.pw2);
        linear_backward(
            Some(ColsMut::all(&mut self.ds, d)),
            dw,
            db,
            Cols::all(dy, d),
            Cols::all(&self.s, d),
            &p[self.pw2.weight.clone()],
        );
        zeroed(&mut self.dn, rows * d);
        activation_backward_rows(Activation::Swish, &mut self.dn, &self.ds, &self.n, d);
        zeroed(&mut self.dc, rows * d);
        let gamma = &p[self.bn.affine.gamma.clone()];
        let (dgamma, dbeta) = two_mut(
            cx.grads,
            self.bn.affine.gamma.clone(),
            self.bn.affine.beta.clone(),
        );
        let dims = self.bn_dims(rows);
        match cx.mode {
            Mode::Train { .. } => {
                zeroed(&mut self.bn_scratch, dims.scratch_len());
                batch_norm_backward_train(
                    &mut self.dc,
                    dgamma,
                    dbeta,
                    &mut self.bn_scratch,
                    &self.dn,
                    &self.c,
                    gamma,
                    &self.bn_mean,
                    &self.bn_rstd,
                    &[rows],
                    dims,
                );
            }
            Mode::Eval => batch_norm_backward_eval(
                &mut self.dc,
                dgamma,
                dbeta,
                &self.dn,
                &self.c,
                gamma,
                &cx.buffers[self.bn.running_mean.clone()],
                &cx.buffers[self.bn.running_var.clone()],
                &[rows],
                dims,
            ),
        }
        // Depthwise backward per utterance; each writes its own (d·k + d) partial gradient row.
        let part = d * k + d;
        let (mut dg_buf, mut partials) = (
            core::mem::take(&mut self.dg),
            core::mem::take(&mut self.dw_partials),
        );
        zeroed(&mut dg_buf, rows * d);
        zeroed(&mut partials, frames.batch() * part);
        {
            let dg = DisjointRows::new(&mut dg_buf, d);
            let this = &*self;
            let w = &p[this.dw_weight.clone()];
            partials
                .par_chunks_mut(part)
                .enumerate()
                .for_each(|(u, partial)| {
                    let r = frames.rows(u);
                    // SAFETY: utterance rows are disjoint.
                    let dgu = unsafe { dg.rows(r.clone()) };
                    let (dwu, dbu) = partial.split_at_mut(d * k);
                    depthwise_conv1d_backward(
                        Some(dgu),
                        dwu,
                        this.dw_bias.is_some().then_some(dbu),
                        &this.dc[r.start * d..r.end * d],
                        &this.g[r.start * d..r.end * d],
                        r.len(),
                        w,
                        this.dw_dims(r.len()),
                    );
                });
        }
        (self.dg, self.dw_partials) = (dg_buf, partials);
        for partial in self.dw_partials.chunks_exact(part) {
            for (g, &v) in cx.grads[self.dw_weight.clone()]
                .iter_mut()
                .zip(&partial[..d * k])
            {
                *g += v;
            }
            if let Some(b) = &self.dw_bias {
                for (g, &v) in cx.grads[b.clone()].iter_mut().zip(&partial[d * k..]) {
                    *g += v;
                }
            }
        }
        zeroed(&mut self.da, rows * 2 * d);
        glu_backward(
            &mut self.da,
            &self.dg,
            &self.a,
            GluDims { rows, channels: d },
        );
        let (dw, db) = linear_grads(cx.grads, &self.pw1);
        linear_backward(
            Some(ColsMut::all(dx, d)),
            dw,
            db,
            Cols::all(&self.da, 2 * d),
            Cols::all(x, d),
            &p[self.pw1.weight.clone()],
        );
    }
}
