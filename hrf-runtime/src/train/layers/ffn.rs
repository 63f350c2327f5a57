//! Training FFN branch: the HRF chain `h = H_k(…H_1(u))` (no nonlinearity between), then
//! `W2·φ(W1·h + b1) + b2`, every linear one batched GEMM over all packed frames.

use std::vec::Vec;

use crate::kernels::activation::Activation;
use crate::real::Real;

use super::super::dense::{Cols, ColsMut, linear_backward, linear_forward};
use super::super::frames::{sized, zeroed};
use super::super::rowwise::{activation_backward_rows, activation_forward_rows};
use super::super::slots::{LinearSlots, linear_grads};
use super::{Bwd, Fwd};

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
        sized(&mut self.pre, rows * self.w1.out_dim);
        linear_forward(
            ColsMut::all(&mut self.pre, self.w1.out_dim),
            Cols::all(h, self.w1.in_dim),
            &p[self.w1.weight.clone()],
            self.w1.bias.clone().map(|b| &p[b]),
        );
        sized(&mut self.hidden, self.pre.len());
        activation_forward_rows(self.act, &mut self.hidden, &self.pre, self.w1.out_dim);
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
        zeroed(&mut self.dhidden, self.hidden.len());
        let (dw, db) = linear_grads(cx.grads, &self.w2);
        linear_backward(
            Some(ColsMut::all(&mut self.dhidden, self.w2.in_dim)),
            dw,
            db,
            Cols::all(dy, self.w2.out_dim),
            Cols::all(&self.hidden, self.w2.in_dim),
            &p[self.w2.weight.clone()],
        );
        zeroed(&mut self.dpre, self.pre.len());
        activation_backward_rows(
            self.act,
            &mut self.dpre,
            &self.dhidden,
            &self.pre,
            self.w1.out_dim,
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
            let dinp: &mut [T] = if i == 0 {
                dx
            } else {
                zeroed(next, inp.len());
                &mut next[..]
            };
            let (dw, db) = linear_grads(cx.grads, l);
            linear_backward(
                Some(ColsMut::all(dinp, l.in_dim)),
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
