//! Checked, slice-based GEMM over row-major matrices: the one door to `matrixmultiply`.

use crate::real::Real;

/// How an operand is read: as stored (row-major) or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The buffer holds the operand row-major.
    N,
    /// The buffer holds the operand's transpose row-major.
    T,
}

/// `C ← alpha·op(A)·op(B) + beta·C`, all row-major and contiguous.
///
/// Shapes: `op(A): m×k`, `op(B): k×n`, `C: m×n`. With `Op::N`, `a` is stored `(m, k)`; with
/// `Op::T`, `a` is stored `(k, m)`. Likewise `b` is `(k, n)` or `(n, k)`. `beta = 0` overwrites
/// `C` (NaNs in the old `C` do not propagate); `beta = 1` accumulates.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn gemm<T: Real>(
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
    assert!(
        c.len() >= m * n && a.len() >= m * k && b.len() >= k * n,
        "gemm: buffer too small"
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = match op_a {
        Op::N => (k as isize, 1),
        Op::T => (1, m as isize),
    };
    let (rsb, csb) = match op_b {
        Op::N => (n as isize, 1),
        Op::T => (1, k as isize),
    };
    // SAFETY: the asserts above bound every index reached for these shapes and strides, and the
    // borrow checker guarantees `c` does not alias `a` or `b`.
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], ta: bool, b: &[f64], tb: bool, m: usize, k: usize, n: usize) -> Vec<f64> {
        let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
        let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        c
    }

    #[test]
    fn gemm_matches_naive_for_every_transpose() {
        let (m, k, n) = (3, 5, 4);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.91).cos()).collect();
        for (oa, ob) in [
            (Op::N, Op::N),
            (Op::T, Op::N),
            (Op::N, Op::T),
            (Op::T, Op::T),
        ] {
            let mut c = vec![f64::NAN; m * n];
            gemm(&mut c, &a, oa, &b, ob, m, k, n, 1.0, 0.0);
            let want = naive(&a, oa == Op::T, &b, ob == Op::T, m, k, n);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "{oa:?}{ob:?}: {x} vs {y}");
            }
        }
    }
}
