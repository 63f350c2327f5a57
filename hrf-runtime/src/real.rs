//! The scalar type kernels are generic over: `f32` in production, `f64` for finite-difference
//! gradient tests. Monomorphised, so generic kernels cost nothing at run time.

use core::fmt::Debug;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar with the math and GEMM a kernel needs.
pub trait Real:
    Copy
    + Default
    + Debug
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    const ZERO: Self;
    const ONE: Self;
    fn from_f64(x: f64) -> Self;
    fn from_usize(x: usize) -> Self {
        Self::from_f64(x as f64)
    }
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn tanh(self) -> Self;
    fn sqrt(self) -> Self;
    fn erf(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn max(self, other: Self) -> Self {
        if self >= other { self } else { other }
    }
    fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
    fn is_finite(self) -> bool;

    /// `C ← alpha·A·B + beta·C` on strided matrices (`A: m×k`, `B: k×n`, `C: m×n`), through
    /// the engine's blocked GEMM (no allocation). Use [`crate::kernels::gemm::gemm`] for the
    /// checked, slice-based form.
    ///
    /// # Safety
    /// Every index `i·rs + j·cs` reached for the given shapes must be in bounds of its buffer,
    /// and `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        let no_bias = core::ptr::null();
        // SAFETY: forwarded contract; a null bias adds nothing.
        unsafe {
            Self::gemm_bias_raw(
                m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, no_bias,
            )
        }
    }

    /// [`Real::gemm_raw`] (which calls it with a null bias) plus a per-column `bias: (n)` added
    /// to every row of `C` in the same pass (`C ← α·A·B + β·C + 1·biasᵀ`).
    ///
    /// # Safety
    /// As for [`Real::gemm_raw`], and `bias` must be null or hold `n` readable values not
    /// overlapping `C`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_bias_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        bias: *const Self,
    );
}

macro_rules! impl_real {
    ($t:ty, $gemm_bias:path, $exp:path, $ln:path, $tanh:path, $sqrt:path, $erf:path, $sin:path, $cos:path, $fabs:path, $pow:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $cos(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $fabs(self)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                $pow(self, e)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            unsafe fn gemm_bias_raw(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
                bias: *const Self,
            ) {
                // SAFETY: forwarded contract of `gemm_bias_raw`.
                unsafe {
                    $gemm_bias(
                        m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, bias,
                    )
                }
            }
        }
    };
}

impl_real!(
    f32,
    crate::kernels::gemm::sgemm_bias_raw,
    libm::expf,
    libm::logf,
    libm::tanhf,
    libm::sqrtf,
    libm::erff,
    libm::sinf,
    libm::cosf,
    libm::fabsf,
    libm::powf
);
impl_real!(
    f64,
    crate::kernels::gemm::dgemm_bias_raw,
    libm::exp,
    libm::log,
    libm::tanh,
    libm::sqrt,
    libm::erf,
    libm::sin,
    libm::cos,
    libm::fabs,
    libm::pow
);
