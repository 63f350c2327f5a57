//! Row-parallel wrappers of the element- and row-wise kernels (activations, GLU, LayerNorm) for
//! the training engine: fixed blocks of rows, one rayon task each, so results do not depend on
//! the thread count; LayerNorm's γ/β gradients are summed per block and the partials added in
//! block order.

use rayon::prelude::*;
use std::vec::Vec;

use crate::kernels::activation::{Activation, activation_backward, activation_forward};
use crate::kernels::layer_norm::{LayerNormDims, layer_norm_backward, layer_norm_forward};
use crate::real::Real;

use super::frames::zeroed;

/// Rows per task.
const ROWS: usize = 256;

/// `out = φ(inp)`; `out, inp: (rows, width)`.
pub(crate) fn activation_forward_rows<T: Real>(
    act: Activation,
    out: &mut [T],
    inp: &[T],
    width: usize,
) {
    let n = ROWS * width.max(1);
    out.par_chunks_mut(n)
        .zip(inp.par_chunks(n))
        .for_each(|(o, i)| activation_forward(act, o, i));
}

/// Accumulates `φ'(inp)·dout` into `dinp`; all `(rows, width)`.
pub(crate) fn activation_backward_rows<T: Real>(
    act: Activation,
    dinp: &mut [T],
    dout: &[T],
    inp: &[T],
    width: usize,
) {
    let n = ROWS * width.max(1);
    dinp.par_chunks_mut(n)
        .zip(dout.par_chunks(n))
        .zip(inp.par_chunks(n))
        .for_each(|((dx, dy), x)| activation_backward(act, dx, dy, x));
}

/// LayerNorm forward over `(rows, dim)`; saves `mean, rstd: (rows)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn layer_norm_forward_rows<T: Real>(
    out: &mut [T],
    mean: &mut [T],
    rstd: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    dims: LayerNormDims,
) {
    let d = dims.dim.max(1);
    out.par_chunks_mut(ROWS * d)
        .zip(mean.par_chunks_mut(ROWS))
        .zip(rstd.par_chunks_mut(ROWS))
        .zip(inp.par_chunks(ROWS * d))
        .for_each(|(((o, m), r), x)| {
            let dims = LayerNormDims {
                rows: m.len(),
                ..dims
            };
            layer_norm_forward(o, m, r, x, gamma, beta, dims);
        });
}

/// LayerNorm backward; accumulates into `dinp: (rows, dim)`, `dgamma, dbeta: (dim)`.
/// `partials` is scratch, `(blocks, 2·dim)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn layer_norm_backward_rows<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    partials: &mut Vec<T>,
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    mean: &[T],
    rstd: &[T],
    dims: LayerNormDims,
) {
    let d = dims.dim.max(1);
    let blocks = dims.rows.div_ceil(ROWS);
    zeroed(partials, blocks * 2 * d);
    partials
        .par_chunks_mut(2 * d)
        .zip(dinp.par_chunks_mut(ROWS * d))
        .zip(dout.par_chunks(ROWS * d))
        .zip(inp.par_chunks(ROWS * d))
        .zip(mean.par_chunks(ROWS).zip(rstd.par_chunks(ROWS)))
        .for_each(|((((p, dx), dy), x), (m, r))| {
            let (dg, db) = p.split_at_mut(d);
            let dims = LayerNormDims {
                rows: m.len(),
                ..dims
            };
            layer_norm_backward(dx, dg, db, dy, x, gamma, m, r, dims);
        });
    for p in partials.chunks_exact(2 * d) {
        for (g, &v) in dgamma.iter_mut().zip(&p[..d]) {
            *g += v;
        }
        for (b, &v) in dbeta.iter_mut().zip(&p[d..]) {
            *b += v;
        }
    }
}
