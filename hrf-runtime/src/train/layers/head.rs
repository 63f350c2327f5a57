//! Training layers between stages and at the head: SpeechFormer merge (pool by a factor, LN,
//! linear), the closing LayerNorm, masked mean pooling and the classifier.

use std::vec::Vec;

use rayon::prelude::*;

use crate::kernels::merge::{MergeDims, merge_backward, merge_forward};
use crate::kernels::pooling::{PoolDims, mean_pool_backward, mean_pool_forward};
use crate::real::Real;

use super::super::dense::{Cols, ColsMut, linear_backward, linear_forward};
use super::super::frames::{DisjointRows, Frames, sized, zeroed};
use super::super::slots::{LinearSlots, linear_grads};
use super::block::LayerNormState;
use super::{Bwd, Fwd};

/// SpeechFormer merge: `y = W·LN(avgpool_f(x)) + b`.
pub(crate) struct MergeLayer<T> {
    pub factor: usize,
    pub in_width: usize,
    pub norm: LayerNormState<T>,
    pub proj: LinearSlots,
    /// (rows_out, in_width) — pooled frames, the LN input.
    pooled: Vec<T>,
    /// (rows_out, out_width)
    pub out: Vec<T>,
    /// Backward scratch: (rows_out, in_width) ×2.
    dln: Vec<T>,
    dpooled: Vec<T>,
}

impl<T: Real> MergeLayer<T> {
    pub fn new(factor: usize, in_width: usize, norm: LayerNormState<T>, proj: LinearSlots) -> Self {
        Self {
            factor,
            in_width,
            norm,
            proj,
            pooled: Vec::new(),
            out: Vec::new(),
            dln: Vec::new(),
            dpooled: Vec::new(),
        }
    }

    fn dims(&self, len: usize) -> MergeDims {
        MergeDims {
            frames: len,
            d: self.in_width,
            factor: self.factor,
        }
    }

    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T], fin: &Frames, fout: &Frames) {
        let d = self.in_width;
        let mut pooled = core::mem::take(&mut self.pooled);
        sized(&mut pooled, fout.total() * d);
        {
            let view = DisjointRows::new(&mut pooled, d);
            let this = &*self;
            (0..fin.batch()).into_par_iter().for_each(|u| {
                let (ri, ro) = (fin.rows(u), fout.rows(u));
                // SAFETY: utterance rows are disjoint.
                let pu = unsafe { view.rows(ro) };
                merge_forward(
                    pu,
                    &x[ri.start * d..ri.end * d],
                    ri.len(),
                    this.dims(ri.len()),
                );
            });
        }
        self.pooled = pooled;
        self.norm.forward(cx.params, &self.pooled);
        let p = cx.params;
        sized(&mut self.out, fout.total() * self.proj.out_dim);
        linear_forward(
            ColsMut::all(&mut self.out, self.proj.out_dim),
            Cols::all(&self.norm.out, d),
            &p[self.proj.weight.clone()],
            self.proj.bias.clone().map(|b| &p[b]),
        );
    }

    pub fn backward(
        &mut self,
        cx: &mut Bwd<'_, T>,
        grad: &mut Vec<T>,
        spare: &mut Vec<T>,
        fin: &Frames,
        fout: &Frames,
    ) {
        let d = self.in_width;
        zeroed(&mut self.dln, self.pooled.len());
        let (dw, db) = linear_grads(cx.grads, &self.proj);
        linear_backward(
            Some(ColsMut::all(&mut self.dln, d)),
            dw,
            db,
            Cols::all(grad, self.proj.out_dim),
            Cols::all(&self.norm.out, d),
            &cx.params[self.proj.weight.clone()],
        );
        zeroed(&mut self.dpooled, self.pooled.len());
        self.norm
            .backward(cx, &mut self.dpooled, &self.dln, &self.pooled);
        zeroed(spare, fin.total() * d);
        {
            let view = DisjointRows::new(&mut spare[..], d);
            let this = &*self;
            (0..fin.batch()).into_par_iter().for_each(|u| {
                let (ri, ro) = (fin.rows(u), fout.rows(u));
                // SAFETY: utterance rows are disjoint.
                let du = unsafe { view.rows(ri.clone()) };
                merge_backward(
                    du,
                    &this.dpooled[ro.start * d..ro.end * d],
                    ri.len(),
                    this.dims(ri.len()),
                );
            });
        }
        core::mem::swap(grad, spare);
    }
}

/// Masked mean over each utterance's valid frames: `(rows, d)` → `(batch, d)`.
pub(crate) struct PoolLayer<T> {
    pub width: usize,
    /// (batch, d)
    pub out: Vec<T>,
}

impl<T: Real> PoolLayer<T> {
    pub fn forward(&mut self, x: &[T], fin: &Frames) {
        let d = self.width;
        sized(&mut self.out, fin.batch() * d);
        for (u, o) in self.out.chunks_exact_mut(d).enumerate() {
            let r = fin.rows(u);
            let dims = PoolDims { frames: r.len(), d };
            mean_pool_forward(o, &x[r.start * d..r.end * d], r.len(), dims);
        }
    }

    pub fn backward(&self, grad: &mut Vec<T>, spare: &mut Vec<T>, fin: &Frames) {
        let d = self.width;
        zeroed(spare, fin.total() * d);
        for u in 0..fin.batch() {
            let r = fin.rows(u);
            let dims = PoolDims { frames: r.len(), d };
            mean_pool_backward(
                &mut spare[r.start * d..r.end * d],
                &grad[u * d..(u + 1) * d],
                r.len(),
                dims,
            );
        }
        core::mem::swap(grad, spare);
    }
}

/// A plain linear over rows (the classifier): `(rows, in)` → `(rows, out)`.
pub(crate) struct LinearLayer<T> {
    pub slots: LinearSlots,
    /// (rows, out)
    pub out: Vec<T>,
}

impl<T: Real> LinearLayer<T> {
    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T]) {
        let (p, l) = (cx.params, &self.slots);
        sized(&mut self.out, x.len() / l.in_dim * l.out_dim);
        linear_forward(
            ColsMut::all(&mut self.out, l.out_dim),
            Cols::all(x, l.in_dim),
            &p[l.weight.clone()],
            l.bias.clone().map(|b| &p[b]),
        );
    }

    pub fn backward(&self, cx: &mut Bwd<'_, T>, grad: &mut Vec<T>, spare: &mut Vec<T>, x: &[T]) {
        let l = &self.slots;
        zeroed(spare, x.len());
        let (dw, db) = linear_grads(cx.grads, l);
        linear_backward(
            Some(ColsMut::all(&mut spare[..], l.in_dim)),
            dw,
            db,
            Cols::all(grad, l.out_dim),
            Cols::all(x, l.in_dim),
            &cx.params[l.weight.clone()],
        );
        core::mem::swap(grad, spare);
    }
}
