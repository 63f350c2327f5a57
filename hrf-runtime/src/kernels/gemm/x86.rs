//! AVX-512F and AVX2+FMA vectors for the blocked GEMM, and the `#[target_feature]` entry points
//! the dispatcher picks at run time.

use core::arch::x86_64::*;

use super::blocked::{Mat, Vector, driver};

macro_rules! vector {
    ($name:ident, $s:ty, $reg:ty, $lanes:literal, $zero:ident, $set1:ident, $loadu:ident,
     $storeu:ident, $fmadd:ident, $mul:ident, $add:ident $(, masked: $maskz_loadu:ident, $mask_storeu:ident, $mask:ty)?) => {
        #[derive(Clone, Copy)]
        pub(super) struct $name($reg);

        impl Vector for $name {
            type S = $s;
            const LANES: usize = $lanes;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: only reached inside functions compiled with the needed features.
                $name(unsafe { $zero() })
            }
            #[inline(always)]
            unsafe fn splat(x: $s) -> Self {
                // SAFETY: as above.
                $name(unsafe { $set1(x) })
            }
            #[inline(always)]
            unsafe fn load(p: *const $s) -> Self {
                // SAFETY: the caller guarantees `LANES` readable values at `p`.
                $name(unsafe { $loadu(p) })
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $s) {
                // SAFETY: the caller guarantees `LANES` writable values at `p`.
                unsafe { $storeu(p, self.0) }
            }
            #[inline(always)]
            unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                // SAFETY: as for `zero`.
                $name(unsafe { $fmadd(a.0, b.0, c.0) })
            }
            #[inline(always)]
            unsafe fn mul(a: Self, b: Self) -> Self {
                // SAFETY: as for `zero`.
                $name(unsafe { $mul(a.0, b.0) })
            }
            #[inline(always)]
            unsafe fn add(a: Self, b: Self) -> Self {
                // SAFETY: as for `zero`.
                $name(unsafe { $add(a.0, b.0) })
            }
            $(
            #[inline(always)]
            unsafe fn load_partial(p: *const $s, n: usize) -> Self {
                // SAFETY: masked lanes are not read (AVX-512 fault suppression); the first `n`
                // are readable (caller).
                $name(unsafe { $maskz_loadu(((1u32 << n) - 1) as $mask, p) })
            }
            #[inline(always)]
            unsafe fn store_partial(self, p: *mut $s, n: usize) {
                // SAFETY: only the first `n` lanes are written, and they are writable (caller).
                unsafe { $mask_storeu(p, ((1u32 << n) - 1) as $mask, self.0) }
            }
            )?
        }
    };
}

vector!(
    F32x16, f32, __m512, 16, _mm512_setzero_ps, _mm512_set1_ps, _mm512_loadu_ps,
    _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_add_ps,
    masked: _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, __mmask16
);
vector!(
    F32x8,
    f32,
    __m256,
    8,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_mul_ps,
    _mm256_add_ps
);
vector!(
    F64x8, f64, __m512d, 8, _mm512_setzero_pd, _mm512_set1_pd, _mm512_loadu_pd,
    _mm512_storeu_pd, _mm512_fmadd_pd, _mm512_mul_pd, _mm512_add_pd,
    masked: _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, __mmask8
);
vector!(
    F64x4,
    f64,
    __m256d,
    4,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_mul_pd,
    _mm256_add_pd
);

/// One entry point per (instruction set, scalar), with three register tiles: four vectors of
/// columns for the bulk of `C`, two and one for what remains (`n ≤ LANES`, e.g. an attention
/// head's 16 columns, runs entirely on the one-vector tile).
macro_rules! entry {
    ($name:ident, $feat:literal, $v:ty, $s:ty, [$mr1:literal, $mr2:literal, $mr4:literal]) => {
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $name(
            m: usize,
            k: usize,
            n: usize,
            alpha: $s,
            a: Mat<*const $s>,
            b: Mat<*const $s>,
            beta: $s,
            c: Mat<*mut $s>,
            bias: *const $s,
        ) {
            const LANES: usize = <$v as Vector>::LANES;
            // SAFETY: forwarded contract of `driver` on column ranges of `B` and `C`; the
            // features are enabled here.
            unsafe {
                // Whole 4-vector panels first, then 2- and 1-vector tiles for the rest, so a
                // ragged edge wastes little (`n = 150`: 128 + 16 + 6, the last one masked).
                let wide = n / (4 * LANES) * (4 * LANES);
                if wide > 0 {
                    driver::<$v, $mr4, 4>(m, k, wide, alpha, a, b, beta, c, bias);
                }
                let mut j = wide;
                while j < n {
                    let (b_j, c_j) = (
                        Mat {
                            ptr: b.ptr.offset(j as isize * b.cs),
                            ..b
                        },
                        Mat {
                            ptr: c.ptr.offset(j as isize * c.cs),
                            ..c
                        },
                    );
                    let bias_j = if bias.is_null() { bias } else { bias.add(j) };
                    let cols = (n - j).min(if n - j >= 2 * LANES { 2 * LANES } else { LANES });
                    if cols > LANES {
                        driver::<$v, $mr2, 2>(m, k, cols, alpha, a, b_j, beta, c_j, bias_j);
                    } else {
                        driver::<$v, $mr1, 1>(m, k, cols, alpha, a, b_j, beta, c_j, bias_j);
                    }
                    j += cols;
                }
            }
        }
    };
}

// Tiles measured on AVX-512 (Zen 4): 6 rows × 4 vectors beats 12 × 2 by 5–15% on the FFN
// products; with 16 registers AVX2 keeps at most 12 accumulators.
entry!(sgemm_avx512, "avx512f", F32x16, f32, [16, 12, 6]);
entry!(sgemm_avx2, "avx2,fma", F32x8, f32, [8, 6, 3]);
entry!(dgemm_avx512, "avx512f", F64x8, f64, [16, 12, 6]);
entry!(dgemm_avx2, "avx2,fma", F64x4, f64, [8, 6, 3]);
