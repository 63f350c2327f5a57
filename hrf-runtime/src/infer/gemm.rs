//! Folded inference, matrix products: an allocation-free, packing-free GEMM for the executor's
//! channel-major activations, `C = α·A·B + β·C` with `A` read element by element at any strides
//! (broadcast into a register) and `B`, `C` rows contiguous.
//!
//! In the executor every activation is `(channels, time)` row-major, so a linear is
//! `Y' = W·X'` with `W: (out, in)` exactly as stored (`A`, broadcast scalars) and `X'`'s rows
//! contiguous along time (`B`): no transpose or packing of weights, and no allocation (the
//! shapes are small and fixed, so even the training GEMM's panel copies are skipped). The
//! register tile is `MR` rows × `NV` SIMD vectors of `C`; the time axis is padded to a
//! multiple of [`TIME_ALIGN`] so every tile is full-width. Dispatch: AVX-512F, else AVX2+FMA
//! (runtime detection with `std`, compile-time target features without), else a portable
//! 8-lane path.

use crate::kernels::activation::{Activation, sigmoid};

/// What a tile does after `α·acc + β·C`: add `α·bias[i]` (null: none), then ReLU or Swish.
#[derive(Clone, Copy)]
struct Epilogue {
    bias: *const f32,
    relu: bool,
    swish: bool,
}

/// Time-axis padding of every channel-major buffer: `n` of every GEMM is a multiple of it.
pub(crate) const TIME_ALIGN: usize = 16;

/// `x` rounded up to a multiple of [`TIME_ALIGN`].
pub(crate) const fn padded(x: usize) -> usize {
    x.div_ceil(TIME_ALIGN) * TIME_ALIGN
}

/// One GEMM's operands. `A(i, p) = a[i·rsa + p·csa]`, `B(p, j) = b[p·ldb + j]`,
/// `C(i, j) = c[i·ldc + j]`; `i < m`, `p < k`, `j < n`, `n` a multiple of [`TIME_ALIGN`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct GemmDims {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub rsa: usize,
    pub csa: usize,
    pub ldb: usize,
    pub ldc: usize,
}

/// `C ← α·A·B + β·C` (`β = 0` overwrites: old `C` values, even NaN, are not read).
///
/// Panics only on an internal shape bug (out-of-range operands), never on user data.
pub(crate) fn gemm(c: &mut [f32], a: &[f32], b: &[f32], d: GemmDims, alpha: f32, beta: f32) {
    gemm_with(c, a, b, d, alpha, beta, None, None);
}

/// [`gemm`] with a fused epilogue: `C ← α·(A·B + bias·1ᵀ) + β·C`, then `C ← φ(C)` with
/// `act` (ReLU or Swish; GELU is rejected, apply it after) — applied to each register tile as
/// it is stored, so the output is written once. `bias: (m)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_with(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    d: GemmDims,
    alpha: f32,
    beta: f32,
    bias: Option<&[f32]>,
    act: Option<Activation>,
) {
    if d.m == 0 || d.n == 0 {
        return;
    }
    assert!(
        bias.is_none_or(|b| b.len() >= d.m) && act != Some(Activation::Gelu),
        "infer gemm: bias shorter than m, or a GELU epilogue"
    );
    let epi = Epilogue {
        bias: bias.map_or(core::ptr::null(), <[f32]>::as_ptr),
        swish: act == Some(Activation::Swish),
        relu: act == Some(Activation::Relu),
    };
    assert!(
        d.n.is_multiple_of(TIME_ALIGN)
            && c.len() >= (d.m - 1) * d.ldc + d.n
            && (d.k == 0 || a.len() > (d.m - 1) * d.rsa + (d.k - 1) * d.csa)
            && (d.k == 0 || b.len() >= (d.k - 1) * d.ldb + d.n),
        "infer gemm: operands out of range for {d:?}"
    );
    let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    // SAFETY: the assert bounds every index the kernels reach; `c` is a distinct `&mut`.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx512() && has_avx2_fma() {
                return x86::gemm_avx512(c, a, b, d, alpha, beta, epi);
            }
            if has_avx2_fma() {
                return x86::gemm_avx2(c, a, b, d, alpha, beta, epi);
            }
        }
        driver::<Portable, 6, 2>(c, a, b, d, alpha, beta, epi)
    }
}

pub(crate) use crate::cpu::{has_avx2_fma, has_avx512};

/// The SIMD vector a kernel instance works with.
trait Lanes: Copy {
    const LANES: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// `a·b + c`
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
}

/// Portable 8 lanes (the compiler vectorises what the target allows; no FMA contraction).
#[derive(Clone, Copy)]
struct Portable([f32; 8]);

impl Lanes for Portable {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Portable([0.0; 8])
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Portable([x; 8])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable values at `p`.
        Portable(unsafe { core::ptr::read_unaligned(p.cast::<[f32; 8]>()) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 8 writable values at `p`.
        unsafe { core::ptr::write_unaligned(p.cast::<[f32; 8]>(), self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Portable(core::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
}

/// Loops over `C` in tiles of `MR` rows × `NV·LANES` columns (a narrower last column tile of
/// one vector, and shorter last row tiles, as needed).
#[inline(always)]
unsafe fn driver<V: Lanes, const MR: usize, const NV: usize>(
    c: *mut f32,
    a: *const f32,
    b: *const f32,
    d: GemmDims,
    alpha: f32,
    beta: f32,
    epi: Epilogue,
) {
    let wide = NV * V::LANES;
    let mut j0 = 0;
    while j0 < d.n {
        let vectors = ((d.n - j0) / V::LANES).min(NV);
        let mut i0 = 0;
        while i0 < d.m {
            let rows = (d.m - i0).min(MR);
            // SAFETY: the tile lies inside the checked operand ranges.
            unsafe {
                if vectors == NV {
                    tile_rows::<V, MR, NV>(rows, c, a, b, d, i0, j0, alpha, beta, epi);
                } else {
                    tile_rows::<V, MR, 1>(rows, c, a, b, d, i0, j0, alpha, beta, epi);
                }
            }
            i0 += rows;
        }
        j0 += if vectors == NV { wide } else { V::LANES };
    }
}

/// Dispatches a row tile of `rows ≤ MR` rows to the kernel with that many rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_rows<V: Lanes, const MR: usize, const NV: usize>(
    rows: usize,
    c: *mut f32,
    a: *const f32,
    b: *const f32,
    d: GemmDims,
    i0: usize,
    j0: usize,
    alpha: f32,
    beta: f32,
    epi: Epilogue,
) {
    macro_rules! rows {
        ($($r:literal)*) => {
            match rows {
                $($r if $r <= MR => tile::<V, $r, NV>(c, a, b, d, i0, j0, alpha, beta, epi),)*
                _ => tile::<V, MR, NV>(c, a, b, d, i0, j0, alpha, beta, epi),
            }
        };
    }
    // SAFETY: forwarded.
    unsafe { rows!(1 2 3 4 5 6 7 8) }
}

/// One register tile: `R` rows × `NV` vectors of `C`, accumulated over all of `k`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<V: Lanes, const R: usize, const NV: usize>(
    c: *mut f32,
    a: *const f32,
    b: *const f32,
    d: GemmDims,
    i0: usize,
    j0: usize,
    alpha: f32,
    beta: f32,
    epi: Epilogue,
) {
    // SAFETY (whole body): indices stay inside the ranges `gemm` checked.
    unsafe {
        let mut acc = [[V::zero(); NV]; R];
        let a0 = a.add(i0 * d.rsa);
        for p in 0..d.k {
            let bp = b.add(p * d.ldb + j0);
            let bv: [V; NV] = core::array::from_fn(|v| V::load(bp.add(v * V::LANES)));
            let ap = a0.add(p * d.csa);
            for (r, acc_r) in acc.iter_mut().enumerate() {
                // C(i0 + r, ·) += A(i0 + r, p) · B(p, ·)
                let av = V::splat(*ap.add(r * d.rsa));
                for v in 0..NV {
                    acc_r[v] = V::mul_add(av, bv[v], acc_r[v]);
                }
            }
        }
        let (al, be) = (V::splat(alpha), V::splat(beta));
        for (r, acc_r) in acc.iter().enumerate() {
            let cp = c.add((i0 + r) * d.ldc + j0);
            let bias = if epi.bias.is_null() {
                0.0
            } else {
                alpha * *epi.bias.add(i0 + r)
            };
            let bias = V::splat(bias);
            for (v, &x) in acc_r.iter().enumerate() {
                let p = cp.add(v * V::LANES);
                let out = if beta == 0.0 {
                    V::mul_add(al, x, bias)
                } else {
                    V::mul_add(be, V::load(p), V::mul_add(al, x, bias))
                };
                out.store(p);
            }
            if epi.relu || epi.swish {
                // φ on the values just stored (in L1), vectorised in the dispatched target.
                let row = core::slice::from_raw_parts_mut(cp, NV * V::LANES);
                if epi.relu {
                    row.iter_mut().for_each(|v| *v = v.max(0.0));
                } else {
                    row.iter_mut().for_each(|v| *v *= sigmoid(*v));
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Epilogue, GemmDims, Lanes, driver};
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    struct Avx512(__m512);

    impl Lanes for Avx512 {
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx512(unsafe { _mm512_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            Avx512(unsafe { _mm512_set1_ps(x) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx512(unsafe { _mm512_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
        }
    }

    #[derive(Clone, Copy)]
    struct Avx2(__m256);

    impl Lanes for Avx2 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx2(unsafe { _mm256_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            Avx2(unsafe { _mm256_set1_ps(x) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
        }
    }

    /// 8 rows × 2 zmm (16 accumulators of 32 registers; 12 rows measured no faster). FMA is
    /// enabled for the Swish epilogue's `exp` (`fmadd`).
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn gemm_avx512(
        c: *mut f32,
        a: *const f32,
        b: *const f32,
        d: GemmDims,
        alpha: f32,
        beta: f32,
        epi: Epilogue,
    ) {
        // SAFETY: forwarded from `gemm`.
        unsafe { driver::<Avx512, 8, 2>(c, a, b, d, alpha, beta, epi) }
    }

    /// 6 rows × 2 ymm (12 accumulators of 16 registers).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gemm_avx2(
        c: *mut f32,
        a: *const f32,
        b: *const f32,
        d: GemmDims,
        alpha: f32,
        beta: f32,
        epi: Epilogue,
    ) {
        // SAFETY: forwarded from `gemm`.
        unsafe { driver::<Avx2, 6, 2>(c, a, b, d, alpha, beta, epi) }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], c0: &[f32], d: GemmDims, alpha: f32, beta: f32) -> [f64; 4096] {
        let mut out = [0.0f64; 4096];
        for i in 0..d.m {
            for j in 0..d.n {
                let s: f64 = (0..d.k)
                    .map(|p| a[i * d.rsa + p * d.csa] as f64 * b[p * d.ldb + j] as f64)
                    .sum();
                let prev = if beta == 0.0 {
                    0.0
                } else {
                    beta as f64 * c0[i * d.ldc + j] as f64
                };
                out[i * d.ldc + j] = alpha as f64 * s + prev;
            }
        }
        out
    }

    /// Every kernel this machine can run (portable always), through `gemm_with`'s epilogue.
    fn kernels() -> std::vec::Vec<(&'static str, KernelFn)> {
        let mut k: std::vec::Vec<(&'static str, KernelFn)> = std::vec![("portable", portable)];
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2_fma() {
                k.push(("avx2", x86::gemm_avx2));
            }
            if has_avx512() && has_avx2_fma() {
                k.push(("avx512", x86::gemm_avx512));
            }
        }
        k
    }

    type KernelFn = unsafe fn(*mut f32, *const f32, *const f32, GemmDims, f32, f32, Epilogue);

    unsafe fn portable(
        c: *mut f32,
        a: *const f32,
        b: *const f32,
        d: GemmDims,
        al: f32,
        be: f32,
        e: Epilogue,
    ) {
        unsafe { driver::<Portable, 6, 2>(c, a, b, d, al, be, e) }
    }

    #[test]
    fn gemm_matches_naive_for_every_kernel_stride_tail_beta_and_epilogue() {
        let val = |i: usize, s: f32| ((i as f32 * s).sin() * 1.7).clamp(-1.5, 1.5);
        let a: [f32; 4096] = core::array::from_fn(|i| val(i, 0.37));
        let b: [f32; 4096] = core::array::from_fn(|i| val(i, 0.91));
        let c0: [f32; 4096] = core::array::from_fn(|i| val(i, 1.3));
        let bias: [f32; 32] = core::array::from_fn(|i| val(i, 2.1));
        for (kernel, run) in kernels() {
            // (m, k, n): row tails of every kernel, one- and two-vector column tiles, k = 1.
            for (m, k, n) in [
                (1, 1, 16),
                (7, 5, 48),
                (13, 16, 32),
                (20, 33, 16),
                (9, 3, 64),
            ] {
                for (transposed_a, alpha, beta, act) in [
                    (false, 1.0, 0.0, 0u8),
                    (true, 0.5, 1.0, 1),
                    (false, -2.0, 0.25, 2),
                ] {
                    let (rsa, csa) = if transposed_a { (1, m + 2) } else { (k + 1, 1) };
                    let ldc = n + TIME_ALIGN;
                    let mut c = c0;
                    if beta == 0.0 {
                        c.iter_mut().for_each(|v| *v = f32::NAN);
                    }
                    let d = GemmDims {
                        m,
                        k,
                        n,
                        rsa,
                        csa,
                        ldb: n + 16,
                        ldc,
                    };
                    let epi = Epilogue {
                        bias: bias.as_ptr(),
                        relu: act == 1,
                        swish: act == 2,
                    };
                    // SAFETY: the shapes fit the 4096-value buffers (checked by `naive`'s indexing).
                    unsafe { run(c.as_mut_ptr(), a.as_ptr(), b.as_ptr(), d, alpha, beta, epi) };
                    let mut want = naive(&a, &b, &c0, d, alpha, beta);
                    for i in 0..m {
                        for j in 0..n {
                            let w = &mut want[i * ldc + j];
                            *w += alpha as f64 * bias[i] as f64;
                            *w = match act {
                                1 => w.max(0.0),
                                2 => *w / (1.0 + (-*w).exp()),
                                _ => *w,
                            };
                            let g = c[i * ldc + j] as f64;
                            assert!(
                                (g - *w).abs() <= 1e-5 * (1.0 + w.abs()),
                                "{kernel} {m}×{k}×{n} act {act} ({i}, {j}): {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
    }
}
