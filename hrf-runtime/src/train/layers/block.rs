//! Training encoder block: residual sublayers `x ← x + scale·dropout(f(LN x))` (FFN, attention or
//! Conformer conv branch), then an optional closing LayerNorm (Conformer).

use std::time::Instant;
use std::vec::Vec;

use rayon::prelude::*;

use crate::kernels::dropout::{DropoutKey, dropout_mask};
use crate::kernels::layer_norm::LayerNormDims;
use crate::real::Real;

use super::super::Mode;
use super::super::frames::{DisjointRows, Frames, sized, zeroed};
use super::super::profile::Part;
use super::super::rowwise::{layer_norm_backward_rows, layer_norm_forward_rows};
use super::super::slots::{NormSlots, two_mut};
use super::attention::AttentionBranch;
use super::conv_module::ConvModuleBranch;
use super::ffn::FfnBranch;
use super::{Bwd, Fwd};

/// A LayerNorm over packed rows with its saved statistics.
pub(crate) struct LayerNormState<T> {
    pub slots: NormSlots,
    /// (rows, width)
    pub out: Vec<T>,
    /// (rows) ×2
    mean: Vec<T>,
    rstd: Vec<T>,
    /// (row blocks, 2·width) — backward's per-block γ/β gradient partials.
    partials: Vec<T>,
}

impl<T: Real> LayerNormState<T> {
    pub fn new(slots: NormSlots) -> Self {
        Self {
            slots,
            out: Vec::new(),
            mean: Vec::new(),
            rstd: Vec::new(),
            partials: Vec::new(),
        }
    }

    fn dims(&self, rows: usize) -> LayerNormDims {
        LayerNormDims::new(rows, self.slots.width)
    }

    pub fn forward(&mut self, params: &[T], x: &[T]) {
        let rows = x.len() / self.slots.width.max(1);
        sized(&mut self.out, x.len());
        sized(&mut self.mean, rows);
        sized(&mut self.rstd, rows);
        let dims = self.dims(rows);
        layer_norm_forward_rows(
            &mut self.out,
            &mut self.mean,
            &mut self.rstd,
            x,
            &params[self.slots.gamma.clone()],
            &params[self.slots.beta.clone()],
            dims,
        );
    }

    /// Accumulates into `dx`, and into the γ/β gradients.
    pub fn backward(&mut self, cx: &mut Bwd<'_, T>, dx: &mut [T], dy: &[T], x: &[T]) {
        let rows = x.len() / self.slots.width.max(1);
        let (dg, db) = two_mut(cx.grads, self.slots.gamma.clone(), self.slots.beta.clone());
        let dims = self.dims(rows);
        layer_norm_backward_rows(
            dx,
            dg,
            db,
            &mut self.partials,
            dy,
            x,
            &cx.params[self.slots.gamma.clone()],
            &self.mean,
            &self.rstd,
            dims,
        );
    }
}

/// Values per task in the residual adds (fixed, so thread-count independent).
const RESIDUAL_BLOCK: usize = 1 << 14;

pub(crate) enum Branch<T> {
    Ffn(FfnBranch<T>),
    Attention(AttentionBranch<T>),
    Conv(ConvModuleBranch<T>),
}

pub(crate) struct Sublayer<T> {
    pub norm: LayerNormState<T>,
    pub scale: f64,
    /// Dropout site id (distinct per sublayer of the model).
    pub site: u64,
    pub branch: Branch<T>,
    /// (rows, d) — the dropout mask of the last train-mode forward (1 = kept), saved so
    /// backward does not hash again.
    mask: Vec<u8>,
    /// (rows, d) — gradient of the branch output, then of the LN output.
    dbranch: Vec<T>,
    dln: Vec<T>,
}

impl<T: Real> Sublayer<T> {
    pub fn new(norm: NormSlots, scale: f64, site: u64, branch: Branch<T>) -> Self {
        Self {
            norm: LayerNormState::new(norm),
            scale,
            site,
            branch,
            mask: Vec::new(),
            dbranch: Vec::new(),
            dln: Vec::new(),
        }
    }

    fn part(&self) -> Part {
        match &self.branch {
            Branch::Ffn(_) => Part::Ffn,
            Branch::Attention(_) => Part::Attention,
            Branch::Conv(_) => Part::ConvModule,
        }
    }

    fn branch_out(&self) -> &[T] {
        match &self.branch {
            Branch::Ffn(b) => &b.out,
            Branch::Attention(b) => &b.out,
            Branch::Conv(b) => &b.out,
        }
    }

    /// The dropout mask of utterance `u`: keyed by the run's seed, the utterance index (as the
    /// key's `step`) and the frame position within the utterance, so it never depends on the
    /// threading or on the other utterances of the batch.
    fn key(&self, p: f64, seed: u64, u: usize) -> DropoutKey {
        DropoutKey {
            p,
            seed,
            step: u as u64,
            site: self.site,
            offset: 0,
        }
    }

    /// `out = x + scale·dropout(f(LN x))`.
    pub fn forward(&mut self, cx: &mut Fwd<'_, T>, x: &[T], out: &mut Vec<T>, frames: &Frames) {
        let t = Instant::now();
        self.norm.forward(cx.params, x);
        cx.record(Part::LayerNormResidual, t);
        let t = Instant::now();
        let ln = &self.norm.out;
        match &mut self.branch {
            Branch::Ffn(b) => b.forward(cx, ln, frames.total()),
            Branch::Attention(b) => b.forward(cx, ln, frames),
            Branch::Conv(b) => b.forward(cx, ln, frames),
        }
        cx.record(self.part(), t);
        let t = Instant::now();
        sized(out, x.len());
        let scale = T::from_f64(self.scale);
        let d = self.norm.slots.width;
        match cx.mode {
            Mode::Train { dropout_seed } if cx.dropout > 0.0 => {
                let mut mask = core::mem::take(&mut self.mask);
                mask.resize(x.len(), 0);
                {
                    let (mask_view, out_view) =
                        (DisjointRows::new(&mut mask, d), DisjointRows::new(out, d));
                    let y = self.branch_out();
                    (0..frames.batch()).into_par_iter().for_each(|u| {
                        let r = frames.rows(u);
                        // SAFETY: utterance rows are disjoint.
                        let (mu, ou) =
                            unsafe { (mask_view.rows(r.clone()), out_view.rows(r.clone())) };
                        let key = self.key(cx.dropout, dropout_seed, u);
                        dropout_mask(mu, key);
                        let keep_scale: T = key.scale();
                        // x ← x + scale·dropout(y), dropout(y) = y/(1 − p) where kept, else 0.
                        let (xu, yu) = (&x[r.start * d..r.end * d], &y[r.start * d..r.end * d]);
                        crate::cpu::widest(
                            #[inline(always)]
                            || {
                                for (((o, &x), &y), &m) in ou.iter_mut().zip(xu).zip(yu).zip(&*mu) {
                                    let v = if m != 0 { y * keep_scale } else { T::ZERO };
                                    *o = x + scale * v;
                                }
                            },
                        );
                    });
                }
                self.mask = mask;
            }
            _ => {
                let n = RESIDUAL_BLOCK;
                out.par_chunks_mut(n)
                    .zip(x.par_chunks(n))
                    .zip(self.branch_out().par_chunks(n))
                    .for_each(|((o, x), y)| {
                        for ((o, &x), &y) in o.iter_mut().zip(x).zip(y) {
                            *o = x + scale * y;
                        }
                    });
            }
        }
        cx.record(Part::LayerNormResidual, t);
    }

    /// `grad` holds `dL/d(out)`; on return `dL/dx` (the residual passes it through, and the
    /// branch's contribution is accumulated).
    pub fn backward(&mut self, cx: &mut Bwd<'_, T>, grad: &mut [T], x: &[T], frames: &Frames) {
        let t = Instant::now();
        let scale = T::from_f64(self.scale);
        // dbranch = scale·mask·grad/(1 − p) (train, with forward's saved mask) or scale·grad.
        sized(&mut self.dbranch, grad.len());
        match cx.mode {
            Mode::Train { dropout_seed } if cx.dropout > 0.0 => {
                let n = RESIDUAL_BLOCK;
                let keep_scale: T = self.key(cx.dropout, dropout_seed, 0).scale();
                self.dbranch
                    .par_chunks_mut(n)
                    .zip(grad.par_chunks(n))
                    .zip(self.mask.par_chunks(n))
                    .for_each(|((o, g), m)| {
                        crate::cpu::widest(
                            #[inline(always)]
                            || {
                                for ((o, &g), &m) in o.iter_mut().zip(g).zip(m) {
                                    let v = if m != 0 { g * keep_scale } else { T::ZERO };
                                    *o = v * scale;
                                }
                            },
                        )
                    });
            }
            _ => {
                let n = RESIDUAL_BLOCK;
                self.dbranch
                    .par_chunks_mut(n)
                    .zip(grad.par_chunks(n))
                    .for_each(|(o, g)| {
                        for (o, &g) in o.iter_mut().zip(g) {
                            *o = scale * g;
                        }
                    });
            }
        }
        zeroed(&mut self.dln, grad.len());
        cx.record(Part::LayerNormResidual, t);
        let t = Instant::now();
        let ln = &self.norm.out;
        match &mut self.branch {
            Branch::Ffn(b) => b.backward(cx, &mut self.dln, &self.dbranch, ln),
            Branch::Attention(b) => b.backward(cx, &mut self.dln, &self.dbranch, ln, frames),
            Branch::Conv(b) => b.backward(cx, &mut self.dln, &self.dbranch, ln, frames),
        }
        let part = self.part();
        cx.record(part, t);
        let t = Instant::now();
        self.norm.backward(cx, grad, &self.dln, x);
        cx.record(Part::LayerNormResidual, t);
    }
}

pub(crate) struct BlockLayer<T> {
    pub sublayers: Vec<Sublayer<T>>,
    pub final_norm: Option<LayerNormState<T>>,
    /// Per sublayer, (rows, d) — the residual stream after it.
    streams: Vec<Vec<T>>,
}

impl<T: Real> BlockLayer<T> {
    pub fn new(sublayers: Vec<Sublayer<T>>, final_norm: Option<LayerNormState<T>>) -> Self {
        let n = sublayers.len();
        Self {
            sublayers,
            final_norm,
            streams: (0..n).map(|_| Vec::new()).collect(),
        }
    }

    pub fn output<'a>(&'a self, x: &'a [T]) -> &'a [T] {
        match (&self.final_norm, self.streams.last()) {
            (Some(n), _) => &n.out,
            (None, Some(s)) => s,
            (None, None) => x,
        }
    }

    pub fn forward(&mut self, cx: &mut Fwd<'_, T>, x: &[T], frames: &Frames) {
        for i in 0..self.sublayers.len() {
            let (done, rest) = self.streams.split_at_mut(i);
            let inp = done.last().map_or(x, |v| &v[..]);
            self.sublayers[i].forward(cx, inp, &mut rest[0], frames);
        }
        if let Some(norm) = &mut self.final_norm {
            let last = self.streams.last().map_or(x, |v| &v[..]);
            norm.forward(cx.params, last);
        }
    }

    pub fn backward(
        &mut self,
        cx: &mut Bwd<'_, T>,
        grad: &mut Vec<T>,
        spare: &mut Vec<T>,
        x: &[T],
        frames: &Frames,
    ) {
        if let Some(norm) = &mut self.final_norm {
            let last = self.streams.last().map_or(x, |v| &v[..]);
            zeroed(spare, grad.len());
            norm.backward(cx, spare, grad, last);
            core::mem::swap(grad, spare);
        }
        for i in (0..self.sublayers.len()).rev() {
            let inp = if i == 0 { x } else { &self.streams[i - 1][..] };
            self.sublayers[i].backward(cx, grad, inp, frames);
        }
    }
}
