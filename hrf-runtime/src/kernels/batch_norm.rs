//! Batch normalisation over channels, statistics from valid frames only: the norm after the
//! Conformer convolution module's depthwise conv.
//!
//! Layout: a padded batch of `U = lengths.len()` utterances, `inp, out, dinp, dout:
//! (U·frames, channels)` row-major, utterance `u` in rows `u·frames ..`, of which the first
//! `lengths[u]` are valid. Per-channel `gamma`, `beta`, `mean`, `rstd`, `running_mean`,
//! `running_var`: `(channels)`.
//!
//! - Training ([`batch_norm_forward_train`]): over the `n = Σ lengths` valid frames,
//!   `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased, used to normalise), `rstd = 1/√(σ² + eps)`,
//!   `y = γ·(x − μ)·rstd + β`. Padded frames never enter `μ` or `σ²`. The running statistics
//!   move by `momentum` towards the batch's: `running_mean ← (1 − m)·running_mean + m·μ`,
//!   `running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)` — the UNBIASED variance, as
//!   PyTorch does. With `n ≤ 1` the unbiased variance is undefined (PyTorch raises): the running
//!   variance is left unchanged (and with `n = 0` the running mean too).
//! - Eval ([`batch_norm_forward_eval`]): `y = γ·(x − running_mean)/√(running_var + eps) + β`.
//!
//! Padded output rows are written as zeros, and padded input rows receive no gradient.

use crate::real::Real;

/// PyTorch's `nn.BatchNorm1d` defaults.
pub const BATCH_NORM_EPS: f64 = 1e-5;
/// PyTorch's `nn.BatchNorm1d` default momentum (weight of the new batch statistics).
pub const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// Sizes and constants of a batch norm call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormDims {
    /// Buffer frames per utterance (valid + padding).
    pub frames: usize,
    /// Channels normalised independently.
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Weight of the batch statistics in the running averages.
    pub momentum: f64,
}

impl BatchNormDims {
    /// `frames × channels` with PyTorch's default `eps` and `momentum`.
    pub fn new(frames: usize, channels: usize) -> Self {
        Self {
            frames,
            channels,
            eps: BATCH_NORM_EPS,
            momentum: BATCH_NORM_MOMENTUM,
        }
    }

    /// Length of [`batch_norm_backward_train`]'s scratch: `(2, channels)`.
    pub fn scratch_len(&self) -> usize {
        2 * self.channels
    }
}

/// Row ranges of the valid frames, one per utterance, in element offsets of a
/// `(U·frames, channels)` buffer.
fn valid_spans(
    lengths: &[usize],
    dims: BatchNormDims,
) -> impl Iterator<Item = core::ops::Range<usize>> + '_ {
    let (frames, c) = (dims.frames, dims.channels);
    lengths
        .iter()
        .enumerate()
        .map(move |(u, &len)| u * frames * c..(u * frames + len.min(frames)) * c)
}

/// Zeroes the padded rows of `out: (U·frames, channels)`.
fn zero_padding<T: Real>(out: &mut [T], lengths: &[usize], dims: BatchNormDims) {
    let (frames, c) = (dims.frames, dims.channels);
    for (u, &len) in lengths.iter().enumerate() {
        out[(u * frames + len.min(frames)) * c..(u + 1) * frames * c].fill(T::ZERO);
    }
}

/// Debug-only shape checks: `a: (U·frames, channels)`, each of `per_channel: (channels)`.
fn check_shapes<T>(a: &[T], per_channel: &[&[T]], lengths: &[usize], dims: BatchNormDims) {
    debug_assert_eq!(
        a.len(),
        lengths.len() * dims.frames * dims.channels,
        "(U·frames, channels)"
    );
    debug_assert!(
        per_channel.iter().all(|p| p.len() == dims.channels),
        "per-channel (channels)"
    );
    debug_assert!(
        lengths.iter().all(|&l| l <= dims.frames),
        "a length exceeds frames"
    );
}

/// Training forward: normalises with the valid frames' batch statistics, writes `out`, saves
/// `mean` and `rstd`, and updates `running_mean` / `running_var` (see the module docs).
///
/// Shapes: `out, inp: (U·frames, channels)`; `mean, rstd, running_mean, running_var, gamma,
/// beta: (channels)`; `lengths: (U)`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward_train<T: Real>(
    out: &mut [T],
    mean: &mut [T],
    rstd: &mut [T],
    running_mean: &mut [T],
    running_var: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || {
            batch_norm_forward_train_body(
                out,
                mean,
                rstd,
                running_mean,
                running_var,
                inp,
                gamma,
                beta,
                lengths,
                dims,
            )
        },
    )
}

/// [`batch_norm_forward_train`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_norm_forward_train_body<T: Real>(
    out: &mut [T],
    mean: &mut [T],
    rstd: &mut [T],
    running_mean: &mut [T],
    running_var: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    let c = dims.channels;
    check_shapes(
        inp,
        &[mean, rstd, running_mean, running_var, gamma, beta],
        lengths,
        dims,
    );
    debug_assert_eq!(
        out.len(),
        inp.len(),
        "batch_norm_forward_train: out is (U·frames, channels)"
    );
    if c == 0 {
        return;
    }
    let n: usize = lengths.iter().map(|&l| l.min(dims.frames)).sum();
    let inv_n = T::ONE / T::from_usize(n.max(1));
    // Two passes over the valid rows (mean, then centred variance), accumulating per channel in
    // the `mean` and `rstd` buffers themselves.
    mean.fill(T::ZERO);
    for span in valid_spans(lengths, dims) {
        for row in inp[span].chunks_exact(c) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
    }
    for m in mean.iter_mut() {
        *m *= inv_n;
    }
    rstd.fill(T::ZERO);
    for span in valid_spans(lengths, dims) {
        for row in inp[span].chunks_exact(c) {
            for ((sq, &m), &x) in rstd.iter_mut().zip(mean.iter()).zip(row) {
                *sq += (x - m) * (x - m);
            }
        }
    }
    let (eps, momentum) = (T::from_f64(dims.eps), T::from_f64(dims.momentum));
    let keep = T::ONE - momentum;
    let unbias = T::from_usize(n) / T::from_usize(n.saturating_sub(1).max(1));
    for (((rs, &mu), rm), rv) in rstd
        .iter_mut()
        .zip(mean.iter())
        .zip(running_mean.iter_mut())
        .zip(running_var.iter_mut())
    {
        let var = *rs * inv_n;
        if n >= 1 {
            *rm = keep * *rm + momentum * mu;
        }
        if n >= 2 {
            *rv = keep * *rv + momentum * var * unbias;
        }
        *rs = T::ONE / (var + eps).sqrt();
    }
    for span in valid_spans(lengths, dims) {
        for (y, x) in out[span.clone()]
            .chunks_exact_mut(c)
            .zip(inp[span].chunks_exact(c))
        {
            for ((((y, &x), &mu), &rs), (&g, &b)) in y
                .iter_mut()
                .zip(x)
                .zip(mean.iter())
                .zip(rstd.iter())
                .zip(gamma.iter().zip(beta))
            {
                *y = g * (x - mu) * rs + b;
            }
        }
    }
    zero_padding(out, lengths, dims);
}

/// Backward of [`batch_norm_forward_train`], through the batch statistics. Accumulates into
/// `dinp`, `dgamma`, `dbeta`.
///
/// Per channel, over the `n` valid frames, with `x̂ = (x − μ)·rstd`:
/// `dβ += Σ dy`, `dγ += Σ dy·x̂`, `dx += γ·rstd·(dy − Σdy/n − x̂·Σ(dy·x̂)/n)`.
///
/// Shapes: `dinp, dout, inp: (U·frames, channels)`; `scratch: (2, channels)`, contents
/// irrelevant on entry ([`BatchNormDims::scratch_len`]); `dgamma, dbeta, gamma, mean, rstd:
/// (channels)`; `lengths: (U)`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward_train<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    scratch: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    mean: &[T],
    rstd: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || {
            batch_norm_backward_train_body(
                dinp, dgamma, dbeta, scratch, dout, inp, gamma, mean, rstd, lengths, dims,
            )
        },
    )
}

/// [`batch_norm_backward_train`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_norm_backward_train_body<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    scratch: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    mean: &[T],
    rstd: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    let c = dims.channels;
    check_shapes(inp, &[dgamma, dbeta, gamma, mean, rstd], lengths, dims);
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "(U·frames, channels)"
    );
    debug_assert_eq!(
        scratch.len(),
        dims.scratch_len(),
        "batch_norm_backward_train: scratch is (2, channels)"
    );
    let n: usize = lengths.iter().map(|&l| l.min(dims.frames)).sum();
    if c == 0 || n == 0 {
        return;
    }
    let (sum_dy, sum_dy_xhat) = scratch.split_at_mut(c);
    sum_dy.fill(T::ZERO);
    sum_dy_xhat.fill(T::ZERO);
    for span in valid_spans(lengths, dims) {
        for (dy, x) in dout[span.clone()]
            .chunks_exact(c)
            .zip(inp[span].chunks_exact(c))
        {
            for ((((s1, s2), &dy), &x), (&mu, &rs)) in sum_dy
                .iter_mut()
                .zip(sum_dy_xhat.iter_mut())
                .zip(dy)
                .zip(x)
                .zip(mean.iter().zip(rstd))
            {
                *s1 += dy;
                *s2 += dy * (x - mu) * rs;
            }
        }
    }
    for (((db, dg), &s1), &s2) in dbeta
        .iter_mut()
        .zip(dgamma.iter_mut())
        .zip(sum_dy.iter())
        .zip(sum_dy_xhat.iter())
    {
        *db += s1;
        *dg += s2;
    }
    // Turn the sums into means, so the per-element update is dy − mean_dy − x̂·mean_dy_xhat.
    let inv_n = T::ONE / T::from_usize(n);
    for s in sum_dy.iter_mut().chain(sum_dy_xhat.iter_mut()) {
        *s *= inv_n;
    }
    for span in valid_spans(lengths, dims) {
        let rows = dinp[span.clone()]
            .chunks_exact_mut(c)
            .zip(dout[span.clone()].chunks_exact(c))
            .zip(inp[span].chunks_exact(c));
        for ((dx, dy), x) in rows {
            for (((((dx, &dy), &x), (&mu, &rs)), &g), (&m1, &m2)) in dx
                .iter_mut()
                .zip(dy)
                .zip(x)
                .zip(mean.iter().zip(rstd))
                .zip(gamma)
                .zip(sum_dy.iter().zip(sum_dy_xhat.iter()))
            {
                let xhat = (x - mu) * rs;
                *dx += g * rs * (dy - m1 - xhat * m2);
            }
        }
    }
}

/// Eval forward: `y = γ·(x − running_mean)/√(running_var + eps) + β` on valid rows, zeros on
/// padded rows (overwrites `out`). Running statistics are read, not updated.
///
/// Shapes: `out, inp: (U·frames, channels)`; `gamma, beta, running_mean, running_var:
/// (channels)`; `lengths: (U)`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward_eval<T: Real>(
    out: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    running_mean: &[T],
    running_var: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || {
            batch_norm_forward_eval_body(
                out,
                inp,
                gamma,
                beta,
                running_mean,
                running_var,
                lengths,
                dims,
            )
        },
    )
}

/// [`batch_norm_forward_eval`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_norm_forward_eval_body<T: Real>(
    out: &mut [T],
    inp: &[T],
    gamma: &[T],
    beta: &[T],
    running_mean: &[T],
    running_var: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    let c = dims.channels;
    check_shapes(
        inp,
        &[gamma, beta, running_mean, running_var],
        lengths,
        dims,
    );
    debug_assert_eq!(
        out.len(),
        inp.len(),
        "batch_norm_forward_eval: out is (U·frames, channels)"
    );
    if c == 0 {
        return;
    }
    let eps = T::from_f64(dims.eps);
    for span in valid_spans(lengths, dims) {
        for (y, x) in out[span.clone()]
            .chunks_exact_mut(c)
            .zip(inp[span].chunks_exact(c))
        {
            for ((((y, &x), &g), &b), (&rm, &rv)) in y
                .iter_mut()
                .zip(x)
                .zip(gamma)
                .zip(beta)
                .zip(running_mean.iter().zip(running_var))
            {
                *y = g * (x - rm) / (rv + eps).sqrt() + b;
            }
        }
    }
    zero_padding(out, lengths, dims);
}

/// Backward of [`batch_norm_forward_eval`] (the statistics are constants). Accumulates into
/// `dinp`, `dgamma`, `dbeta`: `dx += dy·γ/√(rv + eps)`, `dγ += Σ dy·x̂`, `dβ += Σ dy`, over
/// valid rows.
///
/// Shapes: as [`batch_norm_forward_eval`], with `dinp, dout: (U·frames, channels)` and
/// `dgamma, dbeta: (channels)`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward_eval<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    running_mean: &[T],
    running_var: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    crate::cpu::widest(
        #[inline(always)]
        || {
            batch_norm_backward_eval_body(
                dinp,
                dgamma,
                dbeta,
                dout,
                inp,
                gamma,
                running_mean,
                running_var,
                lengths,
                dims,
            )
        },
    )
}

/// [`batch_norm_backward_eval`]'s loops, inlined into each instruction-set copy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_norm_backward_eval_body<T: Real>(
    dinp: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
    dout: &[T],
    inp: &[T],
    gamma: &[T],
    running_mean: &[T],
    running_var: &[T],
    lengths: &[usize],
    dims: BatchNormDims,
) {
    let c = dims.channels;
    check_shapes(
        inp,
        &[dgamma, dbeta, gamma, running_mean, running_var],
        lengths,
        dims,
    );
    debug_assert!(
        dinp.len() == inp.len() && dout.len() == inp.len(),
        "(U·frames, channels)"
    );
    if c == 0 {
        return;
    }
    let eps = T::from_f64(dims.eps);
    for span in valid_spans(lengths, dims) {
        let rows = dinp[span.clone()]
            .chunks_exact_mut(c)
            .zip(dout[span.clone()].chunks_exact(c))
            .zip(inp[span].chunks_exact(c));
        for ((dx, dy), x) in rows {
            for (((((dx, &dy), &x), &g), (&rm, &rv)), (dg, db)) in dx
                .iter_mut()
                .zip(dy)
                .zip(x)
                .zip(gamma)
                .zip(running_mean.iter().zip(running_var))
                .zip(dgamma.iter_mut().zip(dbeta.iter_mut()))
            {
                let rs = T::ONE / (rv + eps).sqrt();
                *dx += dy * g * rs;
                *dg += dy * (x - rm) * rs;
                *db += dy;
            }
        }
    }
}

#[cfg(test)]
mod tests;
