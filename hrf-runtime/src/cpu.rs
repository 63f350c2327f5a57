//! Which SIMD instruction sets the kernels may use: detected at run time with `std`, taken from
//! the compile-time target features without it (a `no_std` build for a known target).

#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub(crate) fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
}
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
pub(crate) fn has_avx512() -> bool {
    cfg!(target_feature = "avx512f")
}
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub(crate) fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
pub(crate) fn has_avx2_fma() -> bool {
    cfg!(all(target_feature = "avx2", target_feature = "fma"))
}

/// Runs `f` inside a copy compiled for AVX-512F + FMA (or AVX2 + FMA) when the CPU has one, else
/// as is. The crate is built for baseline x86-64, where the compiler vectorises the kernels'
/// plain loops only 4 lanes wide (SSE2); inlined here they run 16 or 8 lanes wide. Rust never
/// fuses `a·b + c` on its own, and explicit `mul_add`s are correctly rounded everywhere (one
/// instruction here, a library call in the baseline copy), so every path computes the same
/// IEEE operations: results are bit-identical whichever copy runs.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        if has_avx512() && has_avx2_fma() {
            // SAFETY: the CPU has AVX-512F and FMA (checked just above).
            return unsafe { with_avx512(f) };
        }
        if has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[target_feature(enable = "avx512f,fma")]
fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[target_feature(enable = "avx2,fma")]
fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
