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
