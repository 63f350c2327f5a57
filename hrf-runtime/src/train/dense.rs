//! Batched linears for the training engine: ONE GEMM over every packed frame of the batch, split
//! into fixed row (or output) blocks that rayon runs in parallel. Block boundaries never depend
//! on the thread count and every output element is produced by exactly one task with the same
//! accumulation order, so results are bit-identical for any number of threads.
//!
//! Convention (as the kernels): `W: (out, in)` row-major, `y = x·Wᵀ + b`.

use rayon::prelude::*;

use crate::real::Real;

/// Forward (and `dx`) GEMMs run as this many row blocks, and weight gradients as this many
/// blocks of `dW`: one large `sgemm` call per block, so the packing of the shared operand
/// (`W`, or `x` for `dW`) is amortised over as many output rows as possible. Measured on this
/// machine (2 threads, rows 2400, 256×256): forward 178 GFLOP/s with 256-row blocks vs 206 with
/// two halves; `dW` 189 with 64-wide blocks vs 204 with two halves. A fixed count (not the
/// thread count) keeps results bit-identical for any number of threads.
const TASKS: usize = 2;
/// Block sizes are rounded up to the AVX-512 sgemm micro-kernel's 16 rows/columns, so only the
/// last block has a ragged edge.
const TILE: usize = 16;

/// Block length that splits `len` into at most [`TASKS`] tile-aligned blocks (never 0).
fn block_len(len: usize) -> usize {
    len.div_ceil(TASKS).div_ceil(TILE).max(1) * TILE
}

/// A row-major column block of a matrix: row `r`, column `j` is `data[r·stride + col0 + j]`,
/// `j < cols`. `data.len()` must be `rows · stride` exactly (so row blocks split cleanly).
#[derive(Clone, Copy)]
pub(crate) struct Cols<'a, T> {
    pub data: &'a [T],
    pub stride: usize,
    pub col0: usize,
    pub cols: usize,
}

impl<'a, T> Cols<'a, T> {
    /// A whole contiguous `(rows, cols)` matrix.
    pub fn all(data: &'a [T], cols: usize) -> Self {
        Self {
            data,
            stride: cols,
            col0: 0,
            cols,
        }
    }

    fn rows(&self) -> usize {
        self.data.len().checked_div(self.stride).unwrap_or(0)
    }
}

/// Mutable [`Cols`].
pub(crate) struct ColsMut<'a, T> {
    pub data: &'a mut [T],
    pub stride: usize,
    pub col0: usize,
    pub cols: usize,
}

impl<'a, T> ColsMut<'a, T> {
    pub fn all(data: &'a mut [T], cols: usize) -> Self {
        Self {
            data,
            stride: cols,
            col0: 0,
            cols,
        }
    }
}

/// A raw pointer that parallel tasks share, each writing elements no other task writes.
#[derive(Clone, Copy)]
struct SharedMutPtr<T>(*mut T);

impl<T> SharedMutPtr<T> {
    /// A method (not a field access) so closures capture the whole `Send + Sync` wrapper.
    fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: only used for disjoint writes by tasks that all end before the borrow it came from.
unsafe impl<T: Send> Send for SharedMutPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedMutPtr<T> {}

/// Panics unless a view's every element `(r, j)` for `r < rows`, `j < cols` is in bounds:
/// this is what makes the raw GEMM calls below sound.
fn check_view(len: usize, rows: usize, stride: usize, col0: usize, cols: usize) {
    assert!(
        col0 + cols <= stride && rows * stride <= len,
        "dense: view out of bounds"
    );
}

/// `y = x·Wᵀ + b` over all rows (overwrites `y`'s columns). `x: (rows, in)` view, `y: (rows,
/// out)` view, `weight: (out, in)`, `bias: (out)`.
pub(crate) fn linear_forward<T: Real>(
    y: ColsMut<'_, T>,
    x: Cols<'_, T>,
    weight: &[T],
    bias: Option<&[T]>,
) {
    linear_forward_then(y, x, weight, bias, |_, _| {});
}

/// [`linear_forward`], then `then(first_row, block)` on each finished row block of `y` (the
/// block's whole rows, `(rows, y.stride)`) by the task that computed it, while it is still in
/// cache: how the FFN fuses its activation into the GEMM instead of a second pass over `y`.
pub(crate) fn linear_forward_then<T: Real, F>(
    y: ColsMut<'_, T>,
    x: Cols<'_, T>,
    weight: &[T],
    bias: Option<&[T]>,
    then: F,
) where
    F: Fn(usize, &mut [T]) + Sync,
{
    let (rows, in_dim, out_dim) = (x.rows(), x.cols, y.cols);
    assert!(
        weight.len() == out_dim * in_dim && bias.is_none_or(|b| b.len() == out_dim),
        "dense: weight is (out, in), bias (out)"
    );
    check_view(y.data.len(), rows, y.stride, y.col0, out_dim);
    check_view(x.data.len(), rows, x.stride, x.col0, in_dim);
    let (ys, xs) = (y.stride, x.stride);
    let rb = block_len(rows);
    y.data[..rows * ys]
        .par_chunks_mut(rb * ys)
        .zip(x.data[..rows * xs].par_chunks(rb * xs))
        .enumerate()
        .for_each(|(blk, (yb, xb))| {
            let m = yb.len() / ys;
            let bias = bias.map_or(core::ptr::null(), <[T]>::as_ptr);
            // SAFETY: `check_view` bounded every (row, col) of both views over all rows; a block
            // holds whole rows of each; `yb` is exclusively borrowed and distinct from `xb`/W;
            // `bias` (asserted `out` long) is added in the GEMM's store, not written to `y` first.
            unsafe {
                T::gemm_bias_raw(
                    m,
                    in_dim,
                    out_dim,
                    T::ONE,
                    xb.as_ptr().add(x.col0),
                    xs as isize,
                    1,
                    weight.as_ptr(),
                    1,
                    in_dim as isize,
                    T::ZERO,
                    yb.as_mut_ptr().add(y.col0),
                    ys as isize,
                    1,
                    bias,
                )
            }
            then(blk * rb, yb);
        });
}

/// Backward of [`linear_forward`]. Accumulates into `dx`, `dweight`, `dbias`:
/// `dx += dy·W`, `dW += dyᵀ·x`, `db += Σ_rows dy`.
pub(crate) fn linear_backward<T: Real>(
    dx: Option<ColsMut<'_, T>>,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    dy: Cols<'_, T>,
    x: Cols<'_, T>,
    weight: &[T],
) {
    linear_backward_then(
        dx,
        DxWrite::Accumulate,
        |_, _| {},
        dweight,
        dbias,
        dy,
        x,
        weight,
    );
}

/// Whether [`linear_backward_then`] adds `dy·W` to `dx` or overwrites `dx` with it (which
/// spares the caller zeroing a scratch gradient buffer first).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DxWrite {
    Accumulate,
    Overwrite,
}

/// [`linear_backward`] with a choice of [`DxWrite`], then `then(first_row, block)` on each
/// finished row block of `dx` (whole rows, `(rows, dx.stride)`) by the task that computed it,
/// while it is in cache: how the FFN fuses φ's backward into `dhidden = dy·W2`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn linear_backward_then<T: Real, F>(
    dx: Option<ColsMut<'_, T>>,
    dx_write: DxWrite,
    then: F,
    dweight: &mut [T],
    dbias: Option<&mut [T]>,
    dy: Cols<'_, T>,
    x: Cols<'_, T>,
    weight: &[T],
) where
    F: Fn(usize, &mut [T]) + Sync,
{
    let (rows, in_dim, out_dim) = (x.rows(), x.cols, dy.cols);
    assert!(
        weight.len() == out_dim * in_dim && dweight.len() == out_dim * in_dim,
        "dense: weight is (out, in)"
    );
    check_view(dy.data.len(), rows, dy.stride, dy.col0, out_dim);
    check_view(x.data.len(), rows, x.stride, x.col0, in_dim);
    if rows == 0 {
        return;
    }
    let (dys, xs) = (dy.stride, x.stride);
    if let Some(dx) = dx {
        check_view(dx.data.len(), rows, dx.stride, dx.col0, in_dim);
        let (dxs, rb) = (dx.stride, block_len(rows));
        dx.data[..rows * dxs]
            .par_chunks_mut(rb * dxs)
            .zip(dy.data[..rows * dys].par_chunks(rb * dys))
            .enumerate()
            .for_each(|(blk, (dxb, dyb))| {
                let m = dxb.len() / dxs;
                let beta = match dx_write {
                    DxWrite::Accumulate => T::ONE,
                    DxWrite::Overwrite => T::ZERO,
                };
                // dx (m×in) = β·dx + dy (m×out) · W (out×in), β = 1 (accumulate) or 0.
                // SAFETY: views checked above; whole rows per block; `dxb` exclusive.
                unsafe {
                    T::gemm_raw(
                        m,
                        out_dim,
                        in_dim,
                        T::ONE,
                        dyb.as_ptr().add(dy.col0),
                        dys as isize,
                        1,
                        weight.as_ptr(),
                        in_dim as isize,
                        1,
                        beta,
                        dxb.as_mut_ptr().add(dx.col0),
                        dxs as isize,
                        1,
                    )
                }
                then(blk * rb, dxb);
            });
    }
    // dW (out×in) += dyᵀ (out×rows) · x (rows×in), reduced over all frames in frame order by
    // one task per fixed block of dW: blocks of rows of dW when `out` is the larger side, of
    // columns otherwise (each task packs the other operand once, so few large blocks are best).
    let by_rows = out_dim >= in_dim;
    let long = if by_rows { out_dim } else { in_dim };
    let wb = block_len(long);
    let blocks = long.div_ceil(wb);
    let dw = SharedMutPtr(dweight.as_mut_ptr());
    (0..blocks).into_par_iter().for_each(|blk| {
        let (j0, j1) = (blk * wb, long.min((blk + 1) * wb));
        // SAFETY: dy's columns and x's (rows, in) were bounds-checked, and dW is (out, in)
        // (asserted); block `blk` writes only dW's rows j0..j1 (by_rows) or columns j0..j1 of
        // every row, which no other block touches, and no slice of dW is alive meanwhile.
        unsafe {
            if by_rows {
                T::gemm_raw(
                    j1 - j0,
                    rows,
                    in_dim,
                    T::ONE,
                    dy.data.as_ptr().add(dy.col0 + j0),
                    1,
                    dys as isize,
                    x.data.as_ptr().add(x.col0),
                    xs as isize,
                    1,
                    T::ONE,
                    dw.get().add(j0 * in_dim),
                    in_dim as isize,
                    1,
                )
            } else {
                T::gemm_raw(
                    out_dim,
                    rows,
                    j1 - j0,
                    T::ONE,
                    dy.data.as_ptr().add(dy.col0),
                    1,
                    dys as isize,
                    x.data.as_ptr().add(x.col0 + j0),
                    xs as isize,
                    1,
                    T::ONE,
                    dw.get().add(j0),
                    in_dim as isize,
                    1,
                )
            }
        }
    });
    // db += Σ_rows dy: one task per block of outputs, each summing all rows in order.
    if let Some(db) = dbias {
        assert!(db.len() == out_dim, "dense: dbias is (out)");
        let bb = block_len(out_dim);
        db.par_chunks_mut(bb).enumerate().for_each(|(blk, dbb)| {
            let (c0, n) = (dy.col0 + blk * bb, dbb.len());
            for row in dy.data[..rows * dys].chunks_exact(dys) {
                for (d, &g) in dbb.iter_mut().zip(&row[c0..c0 + n]) {
                    *d += g;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::linear::{LinearDims, linear_backward as kernel_backward};
    use crate::testing::Rng;
    use std::vec;
    use std::vec::Vec;

    /// Batched strided linear equals the kernel on contiguous copies (f64, exact up to GEMM
    /// rounding), for several row blocks and both weight-gradient splits (by rows and columns).
    #[test]
    fn strided_batched_linear_matches_the_kernel() {
        for (rows, in_dim, out_dim) in [(600, 5, 7), (300, 130, 3), (300, 3, 130), (70, 9, 9)] {
            check_shape(rows, in_dim, out_dim);
        }
    }

    fn check_shape(rows: usize, in_dim: usize, out_dim: usize) {
        let (col0, stride) = (2, out_dim + 5);
        let mut rng = Rng::new(3);
        let x = rng.vec(rows * in_dim, 1.0);
        let w = rng.vec(out_dim * in_dim, 1.0);
        let b = rng.vec(out_dim, 1.0);
        let mut y = vec![0.0; rows * stride];
        linear_forward(
            ColsMut {
                data: &mut y,
                stride,
                col0,
                cols: out_dim,
            },
            Cols::all(&x, in_dim),
            &w,
            Some(&b),
        );
        let mut want = vec![0.0; rows * out_dim];
        crate::kernels::linear::linear_forward(
            &mut want,
            &x,
            &w,
            Some(&b),
            LinearDims {
                rows,
                in_dim,
                out_dim,
            },
        );
        for r in 0..rows {
            for j in 0..out_dim {
                assert!((y[r * stride + col0 + j] - want[r * out_dim + j]).abs() < 1e-12);
            }
        }
        // Backward with the strided dy.
        let dy_packed = rng.vec(rows * out_dim, 1.0);
        let mut dy = vec![0.0; rows * stride];
        for r in 0..rows {
            dy[r * stride + col0..r * stride + col0 + out_dim]
                .copy_from_slice(&dy_packed[r * out_dim..(r + 1) * out_dim]);
        }
        let (mut dx, mut dw, mut db) = (
            vec![0.5; rows * in_dim],
            vec![0.25; w.len()],
            vec![1.0; out_dim],
        );
        let (mut dx2, mut dw2, mut db2) = (dx.clone(), dw.clone(), db.clone());
        linear_backward(
            Some(ColsMut::all(&mut dx, in_dim)),
            &mut dw,
            Some(&mut db),
            Cols {
                data: &dy,
                stride,
                col0,
                cols: out_dim,
            },
            Cols::all(&x, in_dim),
            &w,
        );
        kernel_backward(
            Some(&mut dx2),
            &mut dw2,
            Some(&mut db2),
            &dy_packed,
            &x,
            &w,
            LinearDims {
                rows,
                in_dim,
                out_dim,
            },
        );
        for (a, b) in dx
            .iter()
            .zip(&dx2)
            .chain(dw.iter().zip(&dw2))
            .chain(db.iter().zip(&db2))
        {
            assert!(
                (a - b).abs() < 1e-9,
                "{rows}×{in_dim}→{out_dim}: {a} vs {b}"
            );
        }
    }

    /// Several row and weight blocks, run on 1 and 3 threads: bit-identical outputs and
    /// gradients (every element is produced by one task, in a fixed order).
    #[test]
    fn batched_linear_is_bit_identical_across_thread_counts() {
        let (rows, in_dim, out_dim) = (700, 150, 130);
        let mut rng = Rng::new(9);
        let x: Vec<f32> = rng
            .vec(rows * in_dim, 1.0)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let w: Vec<f32> = rng
            .vec(out_dim * in_dim, 1.0)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let dy: Vec<f32> = rng
            .vec(rows * out_dim, 1.0)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let run = |threads: usize| {
            let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
            pool.install(|| {
                let mut y = vec![0.0f32; rows * out_dim];
                linear_forward(
                    ColsMut::all(&mut y, out_dim),
                    Cols::all(&x, in_dim),
                    &w,
                    None,
                );
                let (mut dx, mut dw, mut db) = (
                    vec![0.0f32; x.len()],
                    vec![0.0f32; w.len()],
                    vec![0.0f32; out_dim],
                );
                linear_backward(
                    Some(ColsMut::all(&mut dx, in_dim)),
                    &mut dw,
                    Some(&mut db),
                    Cols::all(&dy, out_dim),
                    Cols::all(&x, in_dim),
                    &w,
                );
                [y, dx, dw, db].map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
            })
        };
        assert!(run(1) == run(3));
    }
}
