//! Training attention branch: separate Q/K/V linears written straight into one packed
//! `(rows, 3d)` buffer (batched GEMMs with a column offset), the attention kernel per utterance
//! in parallel, then the output projection.

use std::vec::Vec;

use rayon::prelude::*;

use crate::kernels::attention::{AttentionDims, attention_backward, attention_forward};
use crate::real::Real;

use super::super::dense::{Cols, ColsMut, linear_backward, linear_forward};
use super::super::frames::{DisjointRows, Frames, sized, zeroed};
use super::super::slots::{LinearSlots, linear_grads};
use super::{Bwd, Fwd};

pub(crate) struct AttentionBranch<T> {
    /// Q, K, V projections `(d, d)` each, in packed order.
    pub qkv: [LinearSlots; 3],
    pub proj: LinearSlots,
    pub heads: usize,
    pub window: Option<usize>,
    /// (rows, 3d) — q, k, v packed per frame.
    packed: Vec<T>,
    /// (Σ_u heads·len_u²) — utterance u's `probs: (heads, len, len)` at `prob_offsets[u]`.
    probs: Vec<T>,
    /// (batch + 1) — prefix offsets into `probs` (and, divided by heads, into `dprobs`).
    prob_offsets: Vec<usize>,
    /// (rows, d) — heads' outputs concatenated, the projection's input.
    attn: Vec<T>,
    /// (rows, d) — the branch output.
    pub out: Vec<T>,
    /// Backward scratch: (rows, d), (rows, 3d), (Σ_u len_u²).
    dattn: Vec<T>,
    dpacked: Vec<T>,
    dprobs: Vec<T>,
}

impl<T: Real> AttentionBranch<T> {
    pub fn new(
        qkv: [LinearSlots; 3],
        proj: LinearSlots,
        heads: usize,
        window: Option<usize>,
    ) -> Self {
        Self {
            qkv,
            proj,
            heads,
            window,
            packed: Vec::new(),
            probs: Vec::new(),
            prob_offsets: Vec::new(),
            attn: Vec::new(),
            out: Vec::new(),
            dattn: Vec::new(),
            dpacked: Vec::new(),
            dprobs: Vec::new(),
        }
    }

    fn dims(&self, len: usize) -> AttentionDims {
        AttentionDims {
            frames: len,
            d: self.proj.in_dim,
            heads: self.heads,
            window: self.window,
            q_prescaled: false,
        }
    }

    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T], frames: &Frames) {
        let (p, d, rows) = (cx.params, self.proj.in_dim, frames.total());
        sized(&mut self.packed, rows * 3 * d);
        for (part, l) in self.qkv.iter().enumerate() {
            linear_forward(
                ColsMut {
                    data: &mut self.packed,
                    stride: 3 * d,
                    col0: part * d,
                    cols: d,
                },
                Cols::all(x, d),
                &p[l.weight.clone()],
                l.bias.clone().map(|b| &p[b]),
            );
        }
        self.prob_offsets.clear();
        self.prob_offsets.push(0);
        for &len in &frames.lengths {
            let last = *self.prob_offsets.last().unwrap_or(&0);
            self.prob_offsets.push(last + self.heads * len * len);
        }
        let (mut probs_buf, mut attn_buf) = (
            core::mem::take(&mut self.probs),
            core::mem::take(&mut self.attn),
        );
        sized(&mut probs_buf, *self.prob_offsets.last().unwrap_or(&0));
        sized(&mut attn_buf, rows * d);
        {
            let probs = DisjointRows::new(&mut probs_buf, 1);
            let attn = DisjointRows::new(&mut attn_buf, d);
            let this = &*self;
            (0..frames.batch()).into_par_iter().for_each(|u| {
                let (len, r) = (frames.lengths[u], frames.rows(u));
                // SAFETY: per-utterance rows and probability blocks are disjoint.
                let (pu, ou) = unsafe {
                    (
                        probs.rows(this.prob_offsets[u]..this.prob_offsets[u + 1]),
                        attn.rows(r.clone()),
                    )
                };
                let qkv = &this.packed[r.start * 3 * d..r.end * 3 * d];
                attention_forward(ou, pu, qkv, len, this.dims(len));
            });
        }
        (self.probs, self.attn) = (probs_buf, attn_buf);
        sized(&mut self.out, rows * d);
        linear_forward(
            ColsMut::all(&mut self.out, d),
            Cols::all(&self.attn, d),
            &p[self.proj.weight.clone()],
            self.proj.bias.clone().map(|b| &p[b]),
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
        let (p, d) = (cx.params, self.proj.in_dim);
        zeroed(&mut self.dattn, self.attn.len());
        let (dw, db) = linear_grads(cx.grads, &self.proj);
        linear_backward(
            Some(ColsMut::all(&mut self.dattn, d)),
            dw,
            db,
            Cols::all(dy, d),
            Cols::all(&self.attn, d),
            &p[self.proj.weight.clone()],
        );
        let (mut dpacked_buf, mut dprobs_buf) = (
            core::mem::take(&mut self.dpacked),
            core::mem::take(&mut self.dprobs),
        );
        zeroed(&mut dpacked_buf, self.packed.len());
        sized(&mut dprobs_buf, self.probs.len() / self.heads.max(1));
        {
            let dpacked = DisjointRows::new(&mut dpacked_buf, 3 * d);
            let dprobs = DisjointRows::new(&mut dprobs_buf, 1);
            let this = &*self;
            (0..frames.batch()).into_par_iter().for_each(|u| {
                let (len, r) = (frames.lengths[u], frames.rows(u));
                let (p0, p1) = (this.prob_offsets[u], this.prob_offsets[u + 1]);
                let h = this.heads.max(1);
                // SAFETY: per-utterance rows and scratch blocks are disjoint.
                let (dqkv, scratch) =
                    unsafe { (dpacked.rows(r.clone()), dprobs.rows(p0 / h..p1 / h)) };
                attention_backward(
                    dqkv,
                    scratch,
                    &this.dattn[r.start * d..r.end * d],
                    &this.probs[p0..p1],
                    &this.packed[r.start * 3 * d..r.end * 3 * d],
                    len,
                    this.dims(len),
                );
            });
        }
        (self.dpacked, self.dprobs) = (dpacked_buf, dprobs_buf);
        for (part, l) in self.qkv.iter().enumerate() {
            let (dw, db) = linear_grads(cx.grads, l);
            linear_backward(
                Some(ColsMut::all(dx, d)),
                dw,
                db,
                Cols {
                    data: &self.dpacked,
                    stride: 3 * d,
                    col0: part * d,
                    cols: d,
                },
                Cols::all(x, d),
                &p[l.weight.clone()],
            );
        }
    }
}
