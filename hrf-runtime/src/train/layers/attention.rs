//! Training attention branch: the separate Q/K/V linears of the train table stacked into one
//! `(3d, d)` projection (one batched GEMM into the packed `(rows, 3d)` buffer the kernel reads),
//! the attention kernel per utterance in parallel, then the output projection.

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
    /// (3d, d) and (3d) — W_q, W_k, W_v (and biases) stacked, gathered from the params arena
    /// every forward so the three projections run as one GEMM.
    w_qkv: Vec<T>,
    b_qkv: Vec<T>,
    /// (3d, d) and (3d) — backward's gradients of the stacked projection, scattered to the
    /// q/k/v slots afterwards.
    dw_qkv: Vec<T>,
    db_qkv: Vec<T>,
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
            w_qkv: Vec::new(),
            b_qkv: Vec::new(),
            dw_qkv: Vec::new(),
            db_qkv: Vec::new(),
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
        sized(&mut self.w_qkv, 3 * d * d);
        sized(&mut self.b_qkv, 3 * d);
        for (part, l) in self.qkv.iter().enumerate() {
            self.w_qkv[part * d * d..(part + 1) * d * d].copy_from_slice(&p[l.weight.clone()]);
            let b = &mut self.b_qkv[part * d..(part + 1) * d];
            match &l.bias {
                Some(r) => b.copy_from_slice(&p[r.clone()]),
                None => b.fill(T::ZERO),
            }
        }
        sized(&mut self.packed, rows * 3 * d);
        linear_forward(
            ColsMut::all(&mut self.packed, 3 * d),
            Cols::all(x, d),
            &self.w_qkv,
            Some(&self.b_qkv),
        );
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
        zeroed(&mut self.dw_qkv, 3 * d * d);
        zeroed(&mut self.db_qkv, 3 * d);
        linear_backward(
            Some(ColsMut::all(dx, d)),
            &mut self.dw_qkv,
            Some(&mut self.db_qkv),
            Cols::all(&self.dpacked, 3 * d),
            Cols::all(x, d),
            &self.w_qkv,
        );
        for (part, l) in self.qkv.iter().enumerate() {
            let (dw, db) = linear_grads(cx.grads, l);
            for (g, &v) in dw
                .iter_mut()
                .zip(&self.dw_qkv[part * d * d..(part + 1) * d * d])
            {
                *g += v;
            }
            if let Some(db) = db {
                for (g, &v) in db.iter_mut().zip(&self.db_qkv[part * d..(part + 1) * d]) {
                    *g += v;
                }
            }
        }
    }
}
