//! Training FFN branch: the HRF chain `h = H_k(…H_1(u))` (no nonlinearity between), then
//! `W2·φ(W1·h + b1) + b2`, every per-frame product one batched GEMM over all packed frames.
//!
//! The HRF chain and W1 run as their composite affine map (`affine_chain`): per frame the branch
//! costs what the light model's `d → f → d` FFN costs, while the factors keep their own
//! parameters and exact gradients.

use std::vec::Vec;

use crate::kernels::activation::{Activation, activation_backward, activation_forward};
use crate::real::Real;

use super::super::dense::{
    Cols, ColsMut, DxWrite, linear_backward, linear_backward_then, linear_forward,
    linear_forward_then,
};
use super::super::frames::{DisjointRows, sized, zeroed};
use super::super::slots::{LinearSlots, linear_grads};
use super::affine_chain::AffineChain;
use super::{Bwd, Fwd};

/// Elements per step of the fused activation passes: 16 KiB of f32, so the zeroed `dpre`
/// chunk, its `dhidden` and `pre` chunks stay in L1 while φ's backward accumulates into it.
const ACT_CHUNK: usize = 4096;

pub(crate) struct FfnBranch<T> {
    /// The HRF chain `d → m → … → m` then W1 `→ hidden`, as one affine map.
    first: AffineChain<T>,
    pub w2: LinearSlots,
    pub act: Activation,
    /// (rows, hidden) — `W1·h + b1`, saved for φ's backward.
    pre: Vec<T>,
    /// (rows, hidden) — `φ(pre)`, saved for dW2.
    hidden: Vec<T>,
    /// (rows, d) — the branch output.
    pub out: Vec<T>,
    /// (rows, hidden) ×2 — backward scratch.
    dhidden: Vec<T>,
    dpre: Vec<T>,
    /// (hidden, d) and (hidden) — `dpreᵀ·x` and `Σ dpre`, from which the chain's gradients
    /// follow.
    g: Vec<T>,
    s: Vec<T>,
}

impl<T: Real> FfnBranch<T> {
    pub fn new(hrf: Vec<LinearSlots>, w1: LinearSlots, w2: LinearSlots, act: Activation) -> Self {
        let mut layers = hrf;
        layers.push(w1);
        Self {
            first: AffineChain::new(layers),
            w2,
            act,
            pre: Vec::new(),
            hidden: Vec::new(),
            out: Vec::new(),
            dhidden: Vec::new(),
            dpre: Vec::new(),
            g: Vec::new(),
            s: Vec::new(),
        }
    }

    pub fn forward(&mut self, cx: &Fwd<'_, T>, x: &[T], rows: usize) {
        let p = cx.params;
        let (act, width, d) = (self.act, self.first.out_dim(), self.first.in_dim());
        let (e, c) = self.first.compose(p);
        sized(&mut self.pre, rows * width);
        sized(&mut self.hidden, rows * width);
        // hidden = φ(pre), computed block by block by the task that just produced the block of
        // `pre = x·Eᵀ + c` (the chain composed) (one pass fewer over the largest buffers of the step).
        let hidden = DisjointRows::new(&mut self.hidden, width);
        linear_forward_then(
            ColsMut::all(&mut self.pre, width),
            Cols::all(x, d),
            e,
            Some(c),
            |r0, pre_block| {
                // SAFETY: each row block is handed to exactly one task, so its rows of
                // `hidden` are written by that task only.
                let hb = unsafe { hidden.rows(r0..r0 + pre_block.len() / width) };
                activation_forward(act, hb, pre_block);
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
        let (act, width, d) = (self.act, self.first.out_dim(), self.first.in_dim());
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
                    activation_backward(act, dp, g, z);
                }
            },
            dw,
            db,
            Cols::all(dy, self.w2.out_dim),
            Cols::all(&self.hidden, self.w2.in_dim),
            &p[self.w2.weight.clone()],
        );
        // The chain as one linear `x·Eᵀ + c`: dx += dpre·E, g = dpreᵀ·x, s = Σ dpre; then the
        // factors' gradients from g and s (frame-independent cost).
        zeroed(&mut self.g, width * d);
        zeroed(&mut self.s, width);
        linear_backward(
            Some(ColsMut::all(dx, d)),
            &mut self.g,
            Some(&mut self.s),
            Cols::all(&self.dpre, width),
            Cols::all(x, d),
            self.first.composed().0,
        );
        self.first.backward(p, cx.grads, &self.g, &self.s);
    }
}
