//! Bounds-checked GEMM over strided sub-matrix views, so attention can multiply one head's
//! columns of the packed `qkv` buffer in place instead of copying them out.

use crate::real::Real;

/// A `rows × cols` matrix inside a flat buffer: element `(r, c)` is at
/// `offset + r·row_stride + c·col_stride`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct MatView {
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl MatView {
    /// Row-major view: `rows × cols` starting at `offset`, consecutive rows `row_stride` apart.
    pub(super) fn rows(offset: usize, rows: usize, cols: usize, row_stride: usize) -> Self {
        MatView {
            offset,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// The same elements read as the transpose (no data moves).
    pub(super) fn transposed(self) -> Self {
        MatView {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// One past the largest index the view reaches (0 for an empty view).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }
}

/// `C ← alpha·A·B + beta·C` on views (`A: m×k`, `B: k×n`, `C: m×n`). `beta = 0` overwrites `C`.
///
/// Panics if the shapes disagree or a view reaches past its buffer: kernels build these views
/// from their own dims, so a failure here is a bug in the kernel, not bad user input.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn gemm_view<T: Real>(
    c: &mut [T],
    cv: MatView,
    a: &[T],
    av: MatView,
    b: &[T],
    bv: MatView,
    alpha: T,
    beta: T,
) {
    let (m, k, n) = (av.rows, av.cols, bv.cols);
    assert!(
        bv.rows == k && cv.rows == m && cv.cols == n,
        "gemm_view: shapes disagree"
    );
    assert!(
        av.end() <= a.len() && bv.end() <= b.len() && cv.end() <= c.len(),
        "gemm_view: view past its buffer"
    );
    if m == 0 || n == 0 {
        return;
    }
    let stride = |s: usize| s as isize;
    // SAFETY: the asserts bound every index reached for these shapes and strides (each view's
    // largest index is `end() − 1`), and `c` is a distinct `&mut` so it aliases neither input.
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr().add(av.offset),
            stride(av.row_stride),
            stride(av.col_stride),
            b.as_ptr().add(bv.offset),
            stride(bv.row_stride),
            stride(bv.col_stride),
            beta,
            c.as_mut_ptr().add(cv.offset),
            stride(cv.row_stride),
            stride(cv.col_stride),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::testing::Rng;

    #[test]
    fn strided_views_match_naive_products() {
        // A: the 2×3 block at column 1 of a (3, 5) buffer. B: the transpose of the 4×3 block at
        // row 1, column 2 of a (5, 6) buffer, so B(p, j) = b[8 + j·6 + p]. C: a block of (2, 7).
        let mut rng = Rng::new(7);
        let a = rng.vec(15, 1.0);
        let b = rng.vec(30, 1.0);
        let av = MatView::rows(1, 2, 3, 5);
        let bv = MatView::rows(6 + 2, 4, 3, 6).transposed();
        let mut c = std::vec![f64::NAN; 2 * 7];
        let cv = MatView::rows(3, 2, 4, 7);
        gemm_view(&mut c, cv, &a, av, &b, bv, 2.0, 0.0);
        for i in 0..2 {
            for j in 0..4 {
                let want: f64 = (0..3)
                    .map(|p| 2.0 * a[1 + i * 5 + p] * b[8 + j * 6 + p])
                    .sum();
                let got = c[3 + i * 7 + j];
                assert!((got - want).abs() < 1e-12, "({i},{j}): {got} vs {want}");
            }
        }
    }
}
