//! Training FFN branch: the HRF chain `h = H_k(…H_1(u))` (no nonlinearity between), then
//! `W2·φ(W1·h + b1) + b2`, every linear one batched GEMM over all packed frames.

use std::vec::Vec;

use crate::kernels::activation::Activation;
use crate::real::Real;

use super::super::dense::{
    Cols, ColsMut, DxWrite, linear_backward_then, linear_forward, linear_forward_then,
};
use super::super::frames::{DisjointRows, sized};
use super::super::slots::{LinearSlots, linear_grads};
use super::super::wide_activation::{activation_backward_wide, activation_forward_wide};
use super::{Bwd, Fwd};

/// Elements per step of the fused activation passes: 16 KiB of f32, so the zeroed `dpre`
/// chunk, its `dhidden` and `pre` chunks stay in L1 while φ's backward accumulates into it.
const ACT_CHUNK: usize = 4096;

pub(crate) struct FfnBranch<T> {
    /// The HRF chain `d → m → … → m` (empty without HRF).
    pub hrf: Vec<LinearSlots>,
    pub w1: LinearSlots,
    pub w2: LinearSlots,
    pub act: Activation,
    /// Per HRF layer, (rows, m) — its output (the next layer's input).
    hrf_out: Vec<Vec<T>>,
    /// (rows, hidden) — `W1·h + b1`, saved for φ's backward.
    pre: Vec<T>,
    /// (rows, hidden) — `φ(pre)`, saved for dW2.
    hidden: Vec<T>,
    /// (rows, d) — the branch output.
    pub out: Vec<T>,
    /// (rows, hidden) ×2 and (rows, m) ×2 — backward scratch.
    dhidden: Vec<T>,
    dpre: Vec<T>,
    dh: [Vec<T>; 2],
}

impl<T: Real> FfnBranch<T> {
    pub fn new(hrf: Vec<LinearSlots>, w1: LinearSlots, w2: LinearSlots, act: Activation) -> Self {
        let n = hrf.len();
        Self {
            hrf,
            w1,
            w2,
            act,
            hrf_out: (0..n).map(|_| Vec::new()).collect(),
            pre: Vec::new(),
            hidden: Vec::new(),
            out: Vec::new(),
            dhidden: Vec::new(),
            dpre: Vec::new(),
            dh: [Vec::new(), Vec::new()],
        }
    }

    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T], rows: usize) {
        let p = cx.params;
        for i in 0..self.hrf.len() {
            let l = &self.hrf[i];
            let (done, rest) = self.hrf_out.split_at_mut(i);
            let inp = done.last().map_or(x, |v| &v[..]);
            sized(&mut rest[0], rows * l.out_dim);
            linear_forward(
                ColsMut::all(&mut rest[0], l.out_dim),
                Cols::all(inp, l.in_dim),
                &p[l.weight.clone()],
                l.bias.clone().map(|b| &p[b]),
            );
        }
        let h = self.hrf_out.last().map_or(x, |v| &v[..]);
        let (act, width) = (self.act, self.w1.out_dim);
        sized(&mut self.pre, rows * width);
        sized(&mut self.hidden, rows * width);
        // hidden = φ(pre), computed block by block by the task that just produced the block of
        // `pre = h·W1ᵀ + b1` (one pass fewer over the largest buffers of the step).
        let hidden = DisjointRows::new(&mut self.hidden, width);
        linear_forward_then(
            ColsMut::all(&mut self.pre, width),
            Cols::all(h, self.w1.in_dim),
            &p[self.w1.weight.clone()],
            self.w1.bias.clone().map(|b| &p[b]),
            |r0, pre_block| {
                // SAFETY: each row block is handed to exactly one task, so its rows of
                // `hidden` are written by that task only.
                let hb = unsafe { hidden.rows(r0..r0 + pre_block.len() / width) };
                activation_forward_wide(act, hb, pre_block);
            },
        );
        sized(&mut self.out, rows * self.w2.out_dim);
        linear_forward(
            ColsMut::all(&mut self.out, self.w2.out_dim),
            Cols::all(&self.hidden, self.w2.in_dim),
            &p[self.w2.weight.clone()],
            self.w2.bias.clone().map(|b| &p[b]),
        );
    }

    /// `dy: (rows, d)`; accumulates the branch input's gradient into `dx: (rows, d)`.
    pub fn backward(&mut self, cx: &mut Bwd<'_, T>, dx: &mut [T], dy: &[T], x: &[T]) {
        let p = cx.params;
        let (act, width) = (self.act, self.w1.out_dim);
        sized(&mut self.dhidden, self.hidden.len());
        sized(&mut self.dpre, self.pre.len());
        // dhidden = dy·W2 (overwritten, so no zeroing), and in the same task, block by block,
        // dpre = φ'(pre)⊙dhidden, in L1-sized chunks while the block is hot.
        let dpre = DisjointRows::new(&mut self.dpre, width);
        let pre = &self.pre;
        let (dw, db) = linear_grads(cx.grads, &self.w2);
        linear_backward_then(
            Some(ColsMut::all(&mut self.dhidden, self.w2.in_dim)),
            DxWrite::Overwrite,
            |r0, dhidden_block| {
                let n = dhidden_block.len() / width;
                // SAFETY: each row block is handed to exactly one task.
                let dpre_block = unsafe { dpre.rows(r0..r0 + n) };
                let pre_block = &pre[r0 * width..(r0 + n) * width];
                for ((dp, g), z) in dpre_block
                    .chunks_mut(ACT_CHUNK)
                    .zip(dhidden_block.chunks(ACT_CHUNK))
                    .zip(pre_block.chunks(ACT_CHUNK))
                {
                    dp.fill(T::ZERO);
                    activation_backward_wide(act, dp, g, z);
                }
            },
            dw,
            db,
            Cols::all(dy, self.w2.out_dim),
            Cols::all(&self.hidden, self.w2.in_dim),
            &p[self.w2.weight.clone()],
        );
        // Walk W1, then the HRF chain backwards; `cur` indexes the ping-pong buffer holding the
        // gradient of the current layer's output.
        let layers = self.hrf.len();
        let mut cur: Option<usize> = None;
        for i in (0..=layers).rev() {
            let l = if i == layers { &self.w1 } else { &self.hrf[i] };
            let inp = if i == 0 { x } else { &self.hrf_out[i - 1][..] };
            let [a, b] = &mut self.dh;
            let (dout, next): (&[T], &mut Vec<T>) = match cur {
                None => (&self.dpre, a),
                Some(0) => (&a[..], b),
                Some(_) => (&b[..], a),
            };
            // The branch input's gradient accumulates; a scratch one is overwritten.
            let (dinp, dx_write): (&mut [T], DxWrite) = if i == 0 {
                (dx, DxWrite::Accumulate)
            } else {
                sized(next, inp.len());
                (&mut next[..], DxWrite::Overwrite)
            };
            let (dw, db) = linear_grads(cx.grads, l);
            linear_backward_then(
                Some(ColsMut::all(dinp, l.in_dim)),
                dx_write,
                |_, _| {},
                dw,
                db,
                Cols::all(dout, l.out_dim),
                Cols::all(inp, l.in_dim),
                &p[l.weight.clone()],
            );
            cur = Some(match cur {
                None | Some(1) => 0,
                Some(_) => 1,
            });
        }
    }
}
