//! The HRF chain and the FFN's first linear, `z = W1(H_k(…H_1(x)))` with no nonlinearity
//! between, trained through their composite affine map instead of layer by layer.
//!
//! With `L_0 = H_1, …, L_{k−1} = H_k, L_k = W1` (`L_i: (out_i, in_i)`, bias `b_i`, zero if
//! absent) the chain is `z = x·Eᵀ + c` where `E = L_k·…·L_0: (f, d)` and `c` is the chain applied
//! to `x = 0`. Every per-frame product then has the light model's size (`d → f`) while the
//! parameters, and their gradients, stay the over-parameterised factors:
//!
//! - forward: `Q_{i+1} = L_i·Q_i` (`Q_0 = I`, so `Q_1 = L_0`), `q_{i+1} = L_i·q_i + b_i`
//!   (`q_0 = 0`); `E = Q_{k+1}`, `c = q_{k+1}`. Cost `Σ out_i·in_i·d`, independent of frames.
//! - backward, from the caller's `G = dzᵀ·x: (f, d)` and `s = Σ_rows dz: (f)` (one frame-long
//!   GEMM, the same one a plain `d → f` linear needs for its weight gradient): the gradient at
//!   `L_i`'s output is `δ_i = dz·P_i` with `P_i = L_k·…·L_{i+1}` (`P_k = I`), and its input is
//!   `x_i = x·Q_iᵀ + q_i`, so `dL_i = δ_iᵀ·x_i = P_iᵀ·(G·Q_iᵀ + s·q_iᵀ)` and
//!   `db_i = P_iᵀ·s`. The transposed prefixes `Pt_i = P_iᵀ` run right to left:
//!   `Pt_{i−1} = L_iᵀ·Pt_i`.
//!
//! This is exact algebra (associativity): outputs and gradients equal the layer-by-layer chain
//! up to floating-point rounding, which the finite-difference tests check in f64.

use std::vec::Vec;

use crate::kernels::gemm::{Op, op_strides};
use crate::real::Real;

use super::super::frames::sized;
use super::super::slots::{LinearSlots, linear_grads};

/// [`crate::kernels::gemm::gemm`] with `C`'s rows split in two halves run by `rayon::join`:
/// these weight-space products are small, but serial they left the second thread idle for
/// about 0.3 ms per FFN and step. Each element is still computed by one call in one order, so
/// the result does not depend on the thread count.
#[allow(clippy::too_many_arguments)]
fn par_gemm<T: Real>(
    c: &mut [T],
    a: &[T],
    op_a: Op,
    b: &[T],
    op_b: Op,
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    beta: T,
) {
    use crate::kernels::gemm::gemm;
    if m < 32 {
        return gemm(c, a, op_a, b, op_b, m, k, n, alpha, beta);
    }
    assert!(
        c.len() >= m * n && a.len() >= m * k && b.len() >= k * n,
        "par_gemm: shapes"
    );
    let half = m / 2;
    let (c0, c1) = c[..m * n].split_at_mut(half * n);
    let (rsa, csa) = op_strides(op_a, m, k);
    let (rsb, csb) = op_strides(op_b, k, n);
    let run = |c: &mut [T], i0: usize, rows: usize| {
        // SAFETY: rows `i0 .. i0+rows` of op(A) lie inside `a` (asserted for all `m` rows),
        // `b` is read whole within its asserted size, and `c` is this half's own slice.
        unsafe {
            T::gemm_raw(
                rows,
                k,
                n,
                alpha,
                a.as_ptr().offset(i0 as isize * rsa),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                beta,
                c.as_mut_ptr(),
                n as isize,
                1,
            )
        }
    };
    rayon::join(|| run(c0, 0, half), || run(c1, half, m - half));
}

pub(crate) struct AffineChain<T> {
    /// `L_0 … L_k` (HRF layers in order, then W1).
    pub layers: Vec<LinearSlots>,
    /// `Q_1 … Q_{k+1}`: `prefix[i]` is `Q_{i+1}: (out_i, d)`; the last one is `E`.
    prefix: Vec<Vec<T>>,
    /// `q_1 … q_{k+1}`: `offset[i]` is `q_{i+1}: (out_i)`; the last one is `c`.
    offset: Vec<Vec<T>>,
    /// Backward scratch: `Pt_i` (two, ping-pong) and `G·Q_iᵀ + s·q_iᵀ`.
    pt: [Vec<T>; 2],
    right: Vec<T>,
}

impl<T: Real> AffineChain<T> {
    /// `layers` must chain (`out_i = in_{i+1}`), checked by the slot resolver's shapes.
    pub fn new(layers: Vec<LinearSlots>) -> Self {
        let n = layers.len();
        Self {
            layers,
            prefix: (0..n).map(|_| Vec::new()).collect(),
            offset: (0..n).map(|_| Vec::new()).collect(),
            pt: [Vec::new(), Vec::new()],
            right: Vec::new(),
        }
    }

    /// Input width `d`.
    pub fn in_dim(&self) -> usize {
        self.layers[0].in_dim
    }

    /// Output width `f`.
    pub fn out_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].out_dim
    }

    /// Recomputes `E` and `c` from the current parameters; returns `(E: (f, d), c: (f))`.
    pub fn compose(&mut self, params: &[T]) -> (&[T], &[T]) {
        let d = self.in_dim();
        for (i, l) in self.layers.iter().enumerate() {
            let w = &params[l.weight.clone()];
            let (done, rest) = self.prefix.split_at_mut(i);
            let (done_q, rest_q) = self.offset.split_at_mut(i);
            let (q_next, c_next) = (&mut rest[0], &mut rest_q[0]);
            sized(q_next, l.out_dim * d);
            sized(c_next, l.out_dim);
            match (done.last(), done_q.last()) {
                (Some(q), Some(c)) => {
                    // Q_{i+1} = L_i·Q_i, q_{i+1} = L_i·q_i + b_i.
                    par_gemm(
                        q_next,
                        w,
                        Op::N,
                        q,
                        Op::N,
                        l.out_dim,
                        l.in_dim,
                        d,
                        T::ONE,
                        T::ZERO,
                    );
                    par_gemm(
                        c_next,
                        w,
                        Op::N,
                        c,
                        Op::N,
                        l.out_dim,
                        l.in_dim,
                        1,
                        T::ONE,
                        T::ZERO,
                    );
                }
                _ => {
                    q_next.copy_from_slice(w);
                    c_next.fill(T::ZERO);
                }
            }
            if let Some(b) = &l.bias {
                for (o, &bv) in c_next.iter_mut().zip(&params[b.clone()]) {
                    *o += bv;
                }
            }
        }
        self.composed()
    }

    /// `(E, c)` as last composed.
    pub fn composed(&self) -> (&[T], &[T]) {
        let last = self.layers.len() - 1;
        (&self.prefix[last], &self.offset[last])
    }

    /// Accumulates every layer's weight and bias gradients from `g = dzᵀ·x: (f, d)` and
    /// `s = Σ dz: (f)` (see the module docs), with the parameters `compose` last saw.
    pub fn backward(&mut self, params: &[T], grads: &mut [T], g: &[T], s: &[T]) {
        let (d, f) = (self.in_dim(), self.out_dim());
        let [pt_cur, pt_next] = &mut self.pt;
        for i in (0..self.layers.len()).rev() {
            let l = &self.layers[i];
            let (out_i, in_i) = (l.out_dim, l.in_dim);
            // right = G·Q_iᵀ + s·q_iᵀ: (f, in_i); Q_0 = I, q_0 = 0 gives right = G.
            let right: &[T] = if i == 0 {
                g
            } else {
                sized(&mut self.right, f * in_i);
                let (q, c) = (&self.prefix[i - 1], &self.offset[i - 1]);
                par_gemm(
                    &mut self.right,
                    g,
                    Op::N,
                    q,
                    Op::T,
                    f,
                    d,
                    in_i,
                    T::ONE,
                    T::ZERO,
                );
                par_gemm(
                    &mut self.right,
                    s,
                    Op::N,
                    c,
                    Op::N,
                    f,
                    1,
                    in_i,
                    T::ONE,
                    T::ONE,
                );
                &self.right
            };
            let (dw, db) = linear_grads(grads, l);
            if i + 1 == self.layers.len() {
                // Pt_k = I: dL_k += right, db_k += s.
                for (o, &v) in dw.iter_mut().zip(right) {
                    *o += v;
                }
                if let Some(db) = db {
                    for (o, &v) in db.iter_mut().zip(s) {
                        *o += v;
                    }
                }
                continue;
            }
            // Pt_i = L_{i+1}ᵀ·Pt_{i+1}: (out_i, f); Pt_{k−1} = L_kᵀ (transposed copy).
            let up = &self.layers[i + 1];
            let w_up = &params[up.weight.clone()];
            sized(pt_next, out_i * f);
            if i + 2 == self.layers.len() {
                for (r, row) in w_up.chunks_exact(up.in_dim).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        pt_next[j * f + r] = v;
                    }
                }
            } else {
                par_gemm(
                    pt_next,
                    w_up,
                    Op::T,
                    pt_cur,
                    Op::N,
                    out_i,
                    up.out_dim,
                    f,
                    T::ONE,
                    T::ZERO,
                );
            }
            core::mem::swap(pt_cur, pt_next);
            // dL_i += Pt_i·right, db_i += Pt_i·s.
            par_gemm(
                dw,
                pt_cur,
                Op::N,
                right,
                Op::N,
                out_i,
                f,
                in_i,
                T::ONE,
                T::ONE,
            );
            if let Some(db) = db {
                par_gemm(db, pt_cur, Op::N, s, Op::N, out_i, f, 1, T::ONE, T::ONE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::linear::{LinearDims, linear_backward, linear_forward};
    use crate::testing::Rng;
    use std::vec;

    /// Composite forward and factor gradients equal the layer-by-layer chain (f64, to GEMM
    /// rounding), for chains of 1–4 layers (no HRF, depth 1–3), with and without biases, at
    /// widths that differ from layer to layer (some wide enough for the split GEMMs).
    #[test]
    fn composite_matches_the_layer_by_layer_chain() {
        for (widths, biases) in [
            (&[5usize, 7][..], &[true][..]),
            (&[5, 9, 7], &[true, true]),
            (&[5, 9, 7], &[false, true]),
            (&[4, 8, 8, 6], &[true, false, true]),
            (&[3, 6, 6, 6, 5], &[false, false, false, false]),
            // Wide enough (≥ 32 rows) for the split `par_gemm` path, with a transposed operand.
            (&[40, 72, 66], &[true, true]),
            (&[33, 40, 48, 35], &[true, false, true]),
        ] {
            check_chain(widths, biases);
        }
    }

    fn check_chain(widths: &[usize], biases: &[bool]) {
        let rows = 11;
        let mut rng = Rng::new(widths.len() as u64 * 7 + biases.len() as u64);
        let mut layers = Vec::new();
        let mut total = 0;
        for (i, &bias) in biases.iter().enumerate() {
            let (in_dim, out_dim) = (widths[i], widths[i + 1]);
            let weight = total..total + in_dim * out_dim;
            total = weight.end;
            let bias = bias.then(|| {
                total += out_dim;
                total - out_dim..total
            });
            layers.push(LinearSlots {
                weight,
                bias,
                in_dim,
                out_dim,
            });
        }
        let params = rng.vec(total, 1.0);
        let x = rng.vec(rows * widths[0], 1.0);
        let dz = rng.vec(rows * widths[widths.len() - 1], 1.0);
        let dims = |l: &LinearSlots| LinearDims {
            rows,
            in_dim: l.in_dim,
            out_dim: l.out_dim,
        };

        // Layer by layer.
        let mut acts = vec![x.clone()];
        for l in &layers {
            let mut y = vec![0.0; rows * l.out_dim];
            let b = l.bias.clone().map(|b| &params[b]);
            linear_forward(
                &mut y,
                &acts[acts.len() - 1],
                &params[l.weight.clone()],
                b,
                dims(l),
            );
            acts.push(y);
        }
        let mut want_grads = vec![0.0; total];
        let mut want_dx = vec![0.0; x.len()];
        let mut delta = dz.clone();
        for (i, l) in layers.iter().enumerate().rev() {
            let mut dinp = vec![0.0; rows * l.in_dim];
            let (dw, db) = linear_grads(&mut want_grads, l);
            linear_backward(
                Some(&mut dinp),
                dw,
                db,
                &delta,
                &acts[i],
                &params[l.weight.clone()],
                dims(l),
            );
            if i == 0 {
                want_dx = dinp;
            } else {
                delta = dinp;
            }
        }

        // Composite.
        let mut chain = AffineChain::<f64>::new(layers.clone());
        let (e, c) = chain.compose(&params);
        let (d, f) = (widths[0], widths[widths.len() - 1]);
        let mut z = vec![0.0; rows * f];
        linear_forward(
            &mut z,
            &x,
            e,
            Some(c),
            LinearDims {
                rows,
                in_dim: d,
                out_dim: f,
            },
        );
        let (mut g, mut s, mut dx) = (vec![0.0; f * d], vec![0.0; f], vec![0.0; x.len()]);
        let e = e.to_vec();
        linear_backward(
            Some(&mut dx),
            &mut g,
            Some(&mut s),
            &dz,
            &x,
            &e,
            LinearDims {
                rows,
                in_dim: d,
                out_dim: f,
            },
        );
        let mut grads = vec![0.0; total];
        chain.backward(&params, &mut grads, &g, &s);

        let close = |what: &str, got: &[f64], want: &[f64]| {
            assert_eq!(got.len(), want.len());
            for (k, (a, b)) in got.iter().zip(want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-11 * (1.0 + b.abs()),
                    "{widths:?} {biases:?} {what}[{k}]: {a} vs {b}"
                );
            }
        };
        close("z", &z, &acts[acts.len() - 1]);
        close("dx", &dx, &want_dx);
        close("grads", &grads, &want_grads);
    }
}
