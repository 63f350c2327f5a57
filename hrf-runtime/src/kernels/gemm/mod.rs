//! The training engine's GEMM: a checked, slice-based [`gemm`] over row-major matrices, and the
//! raw strided [`sgemm_raw`] / [`dgemm_raw`] behind [`Real::gemm_raw`].
//!
//! The products are our own blocked kernel (`blocked`): `B` panels are copied to the stack and
//! `A` is read in place, so no call allocates (an external BLAS-like GEMM allocates packing
//! buffers on every call). AVX-512F or AVX2+FMA is picked at run time (`std`) or from the
//! compile-time target features (`no_std`); other CPUs run a portable vector kernel.

mod blocked;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(target_arch = "x86_64")]
use crate::cpu::{has_avx2_fma, has_avx512};
use crate::real::Real;
use blocked::{Mat, Portable, driver};

macro_rules! raw_entry {
    ($s:ty, $name:ident, $bias_name:ident, $avx512:ident, $avx2:ident) => {
        /// `C ← α·A·B + β·C` over arbitrary strides; `β = 0` overwrites without reading `C`.
        ///
        /// # Safety
        /// Every element `(i, j)` of `A: m×k` at `a + i·rsa + j·csa`, of `B: k×n` at
        /// `b + i·rsb + j·csb` and of `C: m×n` at `c + i·rsc + j·csc` must be in bounds of its
        /// buffer, and `C` must not overlap `A` or `B`.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $name(
            m: usize,
            k: usize,
            n: usize,
            alpha: $s,
            a: *const $s,
            rsa: isize,
            csa: isize,
            b: *const $s,
            rsb: isize,
            csb: isize,
            beta: $s,
            c: *mut $s,
            rsc: isize,
            csc: isize,
        ) {
            // SAFETY: forwarded contract, no bias.
            unsafe {
                $bias_name(
                    m,
                    k,
                    n,
                    alpha,
                    a,
                    rsa,
                    csa,
                    b,
                    rsb,
                    csb,
                    beta,
                    c,
                    rsc,
                    csc,
                    core::ptr::null(),
                )
            }
        }

        /// `C ← α·A·B + β·C + 1·biasᵀ`: the product with a per-column `bias: (n)` added to every
        /// row in the same pass (null: none), e.g. a linear's `x·Wᵀ + b` without writing `b`
        /// into `C` first.
        ///
        /// # Safety
        /// As for the bias-free form, and `bias` null or `n` readable values not overlapping `C`.
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $bias_name(
            m: usize,
            k: usize,
            n: usize,
            alpha: $s,
            a: *const $s,
            rsa: isize,
            csa: isize,
            b: *const $s,
            rsb: isize,
            csb: isize,
            beta: $s,
            c: *mut $s,
            rsc: isize,
            csc: isize,
            bias: *const $s,
        ) {
            let a = Mat {
                ptr: a,
                rs: rsa,
                cs: csa,
            };
            let b = Mat {
                ptr: b,
                rs: rsb,
                cs: csb,
            };
            let c = Mat {
                ptr: c,
                rs: rsc,
                cs: csc,
            };
            // SAFETY: forwarded contract; each entry point runs only where its features exist.
            unsafe {
                #[cfg(target_arch = "x86_64")]
                {
                    if has_avx512() {
                        return x86::$avx512(m, k, n, alpha, a, b, beta, c, bias);
                    }
                    if has_avx2_fma() {
                        return x86::$avx2(m, k, n, alpha, a, b, beta, c, bias);
                    }
                }
                driver::<Portable<$s, 8>, 4, 2>(m, k, n, alpha, a, b, beta, c, bias)
            }
        }
    };
}

raw_entry!(f32, sgemm_raw, sgemm_bias_raw, sgemm_avx512, sgemm_avx2);
raw_entry!(f64, dgemm_raw, dgemm_bias_raw, dgemm_avx512, dgemm_avx2);

/// How an operand is read: as stored (row-major) or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The buffer holds the operand row-major.
    N,
    /// The buffer holds the operand's transpose row-major.
    T,
}

/// `(row stride, column stride)` of `op(X): rows × cols` when `X` is stored contiguous row-major
/// as `op` says: `(rows, cols)` for [`Op::N`], `(cols, rows)` for [`Op::T`].
pub(crate) fn op_strides(op: Op, rows: usize, cols: usize) -> (isize, isize) {
    match op {
        Op::N => (cols as isize, 1),
        Op::T => (1, rows as isize),
    }
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
    gemm_bias(c, a, op_a, b, op_b, m, k, n, alpha, beta, None);
}

/// [`gemm`] plus an optional per-column `bias: (n)` added to every row of `C` in the same pass:
/// `C ← alpha·op(A)·op(B) + beta·C + 1·biasᵀ` (a linear's `x·Wᵀ + b` in one write of `C`).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn gemm_bias<T: Real>(
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
    bias: Option<&[T]>,
) {
    assert!(
        c.len() >= m * n
            && a.len() >= m * k
            && b.len() >= k * n
            && bias.is_none_or(|v| v.len() >= n),
        "gemm: buffer too small"
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = op_strides(op_a, m, k);
    let (rsb, csb) = op_strides(op_b, k, n);
    // SAFETY: the asserts above bound every index reached for these shapes and strides, and the
    // borrow checker guarantees `c` does not alias `a`, `b` or `bias`.
    unsafe {
        T::gemm_bias_raw(
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
            bias.map_or(core::ptr::null(), <[T]>::as_ptr),
        )
    }
}
