//! Multi-head self-attention core, `softmax(Q·Kᵀ/√dₕ)·V` per head for one utterance: the
//! frame-mixing step of every encoder block, between the fused QKV projection and the output
//! projection (both plain linears the caller runs).
//!
//! # Layouts (all row-major, one utterance of `t = dims.frames` buffer frames, `len` valid)
//! - `qkv: (t, 3·d)`, q, k, v packed per frame: row `i` is `[q_i (d) | k_i (d) | v_i (d)]`, and
//!   head `h` owns columns `h·dₕ .. (h+1)·dₕ` inside each of the three parts (`dₕ = d / heads`).
//!   This is what a fused QKV linear `W_qkv: (3·d, d)` produces. Use [`split_qkv`] to unpack a row.
//! - `out: (t, d)`: the heads' outputs concatenated per frame, head `h` in columns
//!   `h·dₕ .. (h+1)·dₕ` (the input of the output projection).
//! - `probs: (heads, t, t)`: softmax probabilities `P[h][i][j]`, saved by forward for backward.
//! - `dprobs_scratch: (t, t)`: backward's workspace, contents irrelevant on entry.
//!
//! # Masking
//! Query `i` attends key `j` iff `j < len` and, with a local window `w`, `|i − j| ≤ ⌊w/2⌋`
//! (so `w = 5` sees two frames either side; an even `w` behaves like `w + 1`). With no window
//! every valid key is attended. Every valid query attends at least itself, so no softmax row is
//! empty. Query rows `i ≥ len` produce zeros and receive zero gradient; padded frames' contents
//! are never read, so garbage there changes nothing.
//!
//! The products per head (`Q·Kᵀ`, `P·V` and their backward) are GEMMs over strided views of the
//! packed buffers (no copies), restricted to valid frames. Global attention is one `len × len`
//! block; windowed attention runs blocks of `QUERY_BLOCK` queries against the union of their
//! windows' keys, so its cost grows with `len·(QUERY_BLOCK + w)` rather than `len²`.

mod softmax;
mod strided_gemm;
#[cfg(test)]
mod tests;

use core::ops::Range;

use crate::real::Real;
use softmax::{softmax_backward_in_place, softmax_in_place};
use strided_gemm::{MatView, gemm_view};

/// Shapes of one attention call. `d` must be a multiple of `heads` (checked at spec time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionDims {
    /// `t`: frames in the buffer (valid + padding).
    pub frames: usize,
    /// Model width `d` (all heads together).
    pub d: usize,
    /// Number of heads; `head_dim = d / heads`.
    pub heads: usize,
    /// Local window `w` (SpeechFormer): query `i` sees keys with `|i − j| ≤ w / 2`. `None` = global.
    pub window: Option<usize>,
    /// `true` when Q already carries the `1/√dₕ` factor (the folded model's fused Q/K/V, see
    /// `fold::fuse_qkv`); `false` for the training model, whose kernel applies it.
    pub q_prescaled: bool,
}

impl AttentionDims {
    /// The factor applied to `Q·Kᵀ`: `1/√dₕ`, or 1 when Q is pre-scaled.
    pub fn score_scale<T: Real>(&self) -> T {
        if self.q_prescaled {
            T::ONE
        } else {
            T::ONE / T::from_usize(self.head_dim()).sqrt()
        }
    }

    /// `dₕ = d / heads`.
    pub fn head_dim(&self) -> usize {
        self.d / self.heads
    }

    /// Length of the saved `probs: (heads, t, t)` buffer.
    pub fn probs_len(&self) -> usize {
        self.heads * self.frames * self.frames
    }

    /// Length of backward's `dprobs_scratch: (t, t)` buffer.
    pub fn scratch_len(&self) -> usize {
        self.frames * self.frames
    }

    /// The keys query `query` attends for an utterance of `len` valid frames: a contiguous range
    /// (`query < len` assumed). Global: `0..len`; window `w`: `query ± ⌊w/2⌋`, clipped to `0..len`.
    pub fn key_range(&self, query: usize, len: usize) -> Range<usize> {
        match self.window {
            None => 0..len,
            Some(w) => {
                let half = w / 2;
                query.saturating_sub(half)..len.min(query + half + 1)
            }
        }
    }

    /// Query blocks `[i0, i1)` covering `0..len`: one block for global attention; blocks of
    /// [`QUERY_BLOCK`] queries with a window, so the products skip keys no query in the block sees.
    fn query_blocks(&self, len: usize) -> impl Iterator<Item = Range<usize>> {
        let size = if self.window.is_some() {
            QUERY_BLOCK
        } else {
            len.max(1)
        };
        (0..len).step_by(size).map(move |i0| i0..len.min(i0 + size))
    }

    /// The keys any query of `queries` attends (windows are contiguous and move right with the
    /// query, so this is the first query's start to the last query's end).
    fn block_keys(&self, queries: &Range<usize>, len: usize) -> Range<usize> {
        self.key_range(queries.start, len).start..self.key_range(queries.end - 1, len).end
    }

    /// Strided view of head `head`'s `part` (frames `rows`, `dₕ` columns) inside `qkv: (t, 3·d)`.
    fn qkv_view(&self, part: QkvPart, head: usize, rows: &Range<usize>) -> MatView {
        let (dh, stride) = (self.head_dim(), 3 * self.d);
        let offset = rows.start * stride + part as usize * self.d + head * dh;
        MatView::rows(offset, rows.len(), dh, stride)
    }

    /// Strided view of head `head`'s columns (frames `rows`) inside a `(t, d)` buffer.
    fn head_view(&self, head: usize, rows: &Range<usize>) -> MatView {
        let dh = self.head_dim();
        MatView::rows(rows.start * self.d + head * dh, rows.len(), dh, self.d)
    }

    /// View of the block `queries × keys` of a `(t, t)` matrix.
    fn score_view(&self, queries: &Range<usize>, keys: &Range<usize>) -> MatView {
        let t = self.frames;
        MatView::rows(queries.start * t + keys.start, queries.len(), keys.len(), t)
    }
}

/// Queries per block in windowed attention: large enough for efficient GEMMs, small enough that
/// a block's key span (`QUERY_BLOCK + w − 1` keys) stays near its useful band.
const QUERY_BLOCK: usize = 32;

/// The three parts of a packed `qkv` row, in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QkvPart {
    Q = 0,
    K = 1,
    V = 2,
}

/// Unpacks one frame of `qkv` (`3·d` values) into `(q, k, v)`, each `d` long.
pub fn split_qkv<T>(row: &[T], d: usize) -> (&[T], &[T], &[T]) {
    let (q, kv) = row[..3 * d].split_at(d);
    let (k, v) = kv.split_at(d);
    (q, k, v)
}

/// Mutable [`split_qkv`], e.g. to write one frame's `(dq, dk, dv)`.
pub fn split_qkv_mut<T>(row: &mut [T], d: usize) -> (&mut [T], &mut [T], &mut [T]) {
    let (q, kv) = row[..3 * d].split_at_mut(d);
    let (k, v) = kv.split_at_mut(d);
    (q, k, v)
}

/// Forward: per head `h`, `S = Q_h·K_hᵀ / √dₕ`, `P = softmax_masked(S)` (rows), `O_h = P·V_h`.
///
/// - `out: (t, d)` — written (rows `≥ len` set to zero);
/// - `probs: (heads, t, t)` — written with `P` (masked and padded entries exactly zero), saved
///   for [`attention_backward`];
/// - `qkv: (t, 3·d)` — q, k, v packed per frame (see the module docs); rows `≥ len` are not read;
/// - `len ≤ t` valid frames.
pub fn attention_forward<T: Real>(
    out: &mut [T],
    probs: &mut [T],
    qkv: &[T],
    len: usize,
    dims: AttentionDims,
) {
    let t = dims.frames;
    debug_assert!(
        dims.heads > 0 && dims.d.is_multiple_of(dims.heads),
        "heads must divide d"
    );
    debug_assert!(len <= t, "len {len} > frames {t}");
    debug_assert!(out.len() >= t * dims.d && qkv.len() >= t * 3 * dims.d);
    debug_assert!(probs.len() >= dims.probs_len());
    let scale: T = dims.score_scale();

    out[len * dims.d..t * dims.d].fill(T::ZERO);
    for h in 0..dims.heads {
        let p_h = &mut probs[h * t * t..(h + 1) * t * t];
        if dims.window.is_some() {
            p_h.fill(T::ZERO);
        } else {
            // Global: the block below writes all of `len × len`; zero only the padding.
            for (i, row) in p_h.chunks_exact_mut(t).enumerate() {
                let from = if i < len { len } else { 0 };
                row[from..].fill(T::ZERO);
            }
        }
        for queries in dims.query_blocks(len) {
            let keys = dims.block_keys(&queries, len);
            let s_view = dims.score_view(&queries, &keys);
            // S = scale · Q_h·K_hᵀ on the block: (queries, dₕ)·(dₕ, keys).
            let q = dims.qkv_view(QkvPart::Q, h, &queries);
            let k_t = dims.qkv_view(QkvPart::K, h, &keys).transposed();
            gemm_view(p_h, s_view, qkv, q, qkv, k_t, scale, T::ZERO);

            // Row softmax over each query's own keys; the rest of the row stays exactly zero.
            for i in queries.clone() {
                let own = dims.key_range(i, len);
                let row = &mut p_h[i * t..(i + 1) * t];
                softmax_in_place(&mut row[own.clone()]);
                row[keys.start..own.start].fill(T::ZERO);
                row[own.end..keys.end].fill(T::ZERO);
            }

            // O_h = P·V_h: (queries, keys)·(keys, dₕ), into head h's columns of `out`.
            let v = dims.qkv_view(QkvPart::V, h, &keys);
            let o = dims.head_view(h, &queries);
            gemm_view(out, o, p_h, s_view, qkv, v, T::ONE, T::ZERO);
        }
    }
}

/// Backward of [`attention_forward`]. Accumulates into `dqkv`.
///
/// - `dqkv: (t, 3·d)` — gradient of the packed q, k, v (rows `≥ len` untouched);
/// - `dprobs_scratch: (t, t)` — workspace, overwritten;
/// - `dout: (t, d)` — upstream gradient (rows `≥ len` not read);
/// - `probs: (heads, t, t)` — saved by forward; `qkv: (t, 3·d)` — forward's input.
///
/// Per head, with `σ = 1/√dₕ`:
/// `dV_h = Pᵀ·dO_h`, `dP = dO_h·V_hᵀ`, `dS_ij = P_ij·(dP_ij − Σ_k P_ik·dP_ik)`,
/// `dQ_h = σ·dS·K_h`, `dK_h = σ·dSᵀ·Q_h`. Masked entries have `P = 0`, so `dS = 0` there.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward<T: Real>(
    dqkv: &mut [T],
    dprobs_scratch: &mut [T],
    dout: &[T],
    probs: &[T],
    qkv: &[T],
    len: usize,
    dims: AttentionDims,
) {
    let t = dims.frames;
    debug_assert!(
        dims.heads > 0 && dims.d.is_multiple_of(dims.heads),
        "heads must divide d"
    );
    debug_assert!(len <= t, "len {len} > frames {t}");
    debug_assert!(dqkv.len() >= t * 3 * dims.d && qkv.len() >= t * 3 * dims.d);
    debug_assert!(dout.len() >= t * dims.d && probs.len() >= dims.probs_len());
    debug_assert!(dprobs_scratch.len() >= dims.scratch_len());
    let scale: T = dims.score_scale();
    for h in 0..dims.heads {
        let p_h = &probs[h * t * t..(h + 1) * t * t];
        for queries in dims.query_blocks(len) {
            let keys = dims.block_keys(&queries, len);
            let s_view = dims.score_view(&queries, &keys);
            let do_h = dims.head_view(h, &queries);
            let q = dims.qkv_view(QkvPart::Q, h, &queries);
            let k = dims.qkv_view(QkvPart::K, h, &keys);
            let v = dims.qkv_view(QkvPart::V, h, &keys);

            // dV_h += Pᵀ·dO_h: (queries, keys)ᵀ·(queries, dₕ).
            gemm_view(
                dqkv,
                v,
                p_h,
                s_view.transposed(),
                dout,
                do_h,
                T::ONE,
                T::ONE,
            );

            // dP = dO_h·V_hᵀ: (queries, dₕ)·(dₕ, keys), into the scratch's same block.
            let ds = &mut *dprobs_scratch;
            gemm_view(ds, s_view, dout, do_h, qkv, v.transposed(), T::ONE, T::ZERO);

            // dS = P ⊙ (dP − rowsum(P ⊙ dP)) on each query's own keys; zero on the block's
            // other keys, where P is (masked), since the GEMMs below read the whole block.
            for i in queries.clone() {
                let own = dims.key_range(i, len);
                let ds_row = &mut ds[i * t..(i + 1) * t];
                softmax_backward_in_place(
                    &mut ds_row[own.clone()],
                    &p_h[i * t + own.start..i * t + own.end],
                );
                ds_row[keys.start..own.start].fill(T::ZERO);
                ds_row[own.end..keys.end].fill(T::ZERO);
            }

            // dQ_h += σ·dS·K_h: (queries, keys)·(keys, dₕ); dK_h += σ·dSᵀ·Q_h.
            gemm_view(dqkv, q, ds, s_view, qkv, k, scale, T::ONE);
            gemm_view(dqkv, k, ds, s_view.transposed(), qkv, q, scale, T::ONE);
        }
    }
}
