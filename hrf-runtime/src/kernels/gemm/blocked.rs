//! The engine's GEMM: `C ← α·A·B + β·C` over matrices at arbitrary strides, with no heap
//! allocation (so no kernel call allocates) and no packing of `A`.
//!
//! Blocking (per call, single-threaded; callers split work across threads themselves):
//! - `k` is cut into equal blocks of at most [`KC`]; block `pc > 0` accumulates onto the first
//!   (`β = 1`), which alone applies `β` and the optional per-column bias.
//! - `m` is cut into blocks of about [`MC_ROWS`] rows: the `A` block (`MC × KC`) stays in L2
//!   while every column panel of `C` is computed against it.
//! - For each column panel (`NR = NV·LANES` columns) the `KC × NR` slice of `B` is copied into a
//!   zero-padded **stack** buffer (contiguous, vector-aligned, never heap). The copy costs one
//!   element per `MC` multiply-adds, and it is what makes any `B` layout (transposed views,
//!   power-of-two row strides that would thrash L1 sets) read as one contiguous stream.
//! - The register tile is `MR` rows × `NV` vectors: per `k` step, `NV` vector loads of the
//!   panel, `MR` broadcasts of `A(i, p)` straight from `A`'s memory, `MR·NV` fused
//!   multiply-adds. A tile past the last row re-reads the last valid row (never stored); a
//!   ragged column edge is stored with partial (masked, on AVX-512) vectors, and a `C` with a
//!   non-unit column stride goes through a small stack tile.
//!
//! Every output element is accumulated in the same order (`p` ascending, in `KC` blocks) on
//! every call with the same shapes, so results are deterministic.

use crate::real::Real;

/// Most `k` per panel (f32 panel: 48 KiB at the 4-vector tile's `NR = 64`, which measured faster
/// than 2-vector tiles with an L1-sized panel). `k` is split into equal blocks of at most `KC`
/// (so `k = 192` is one pass over `C`, not `128 + 64`).
pub(crate) const KC: usize = 192;
/// Rows per `m` block (rounded up to whole tiles): the `A` block is at most `MC_ROWS × KC`
/// (288 KiB in f32, in L2), and each `B` panel is packed once per block.
const MC_ROWS: usize = 384;

/// A SIMD vector of `LANES` scalars `S`, as the kernel uses it.
pub(crate) trait Vector: Copy {
    type S: Real;
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self;
    unsafe fn splat(x: Self::S) -> Self;
    /// Unaligned load of `LANES` values.
    unsafe fn load(p: *const Self::S) -> Self;
    /// Unaligned store of `LANES` values.
    unsafe fn store(self, p: *mut Self::S);
    /// `a·b + c` (fused where the instruction set has it).
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
    /// `a·b`.
    unsafe fn mul(a: Self, b: Self) -> Self;
    /// `a + b`.
    unsafe fn add(a: Self, b: Self) -> Self;
    /// Loads the first `n < LANES` values at `p` (the other lanes are zero); reads only those.
    #[inline(always)]
    unsafe fn load_partial(p: *const Self::S, n: usize) -> Self {
        let mut buf = [Self::S::ZERO; 64];
        // SAFETY: `n < LANES ≤ 64` values are readable at `p` (caller) and fit `buf`.
        unsafe {
            core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n);
            Self::load(buf.as_ptr())
        }
    }
    /// Stores the first `n < LANES` lanes at `p`; writes only those.
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut Self::S, n: usize) {
        let mut buf = [Self::S::ZERO; 64];
        // SAFETY: `n < LANES ≤ 64` values are writable at `p` (caller) and fit `buf`.
        unsafe {
            self.store(buf.as_mut_ptr());
            core::ptr::copy_nonoverlapping(buf.as_ptr(), p, n);
        }
    }
}

/// A matrix operand: element `(i, j)` at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<P> {
    pub ptr: P,
    pub rs: isize,
    pub cs: isize,
}

/// `C ← α·A·B + β·C + 1·biasᵀ` (`A: m×k`, `B: k×n`, `C: m×n`, `bias: (n)` added to every row,
/// or null for none); `β = 0` overwrites without reading `C`.
///
/// # Safety
/// Every element `(i, j)` of each operand for the given shapes must be in bounds of its
/// buffer, `bias` null or `n` readable values, and `C` must not overlap `A`, `B` or `bias`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn driver<V: Vector, const MR: usize, const NV: usize>(
    m: usize,
    k: usize,
    n: usize,
    alpha: V::S,
    a: Mat<*const V::S>,
    b: Mat<*const V::S>,
    beta: V::S,
    c: Mat<*mut V::S>,
    bias: *const V::S,
) {
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY (whole body): every pointer formed below addresses an element `(i, j)` with
    // `i < m`, `j < n` (or `p < k`) of its operand, which the caller guarantees in bounds.
    unsafe {
        if k == 0 {
            scale_c(m, n, beta, c, bias);
            return;
        }
        let nr = NV * V::LANES;
        let mc = MC_ROWS.div_ceil(MR) * MR;
        // Left uninitialised (zeroing 48 KiB per call showed in small products): `pack_panel`
        // writes rows `0..kc`, every column, before `tile` reads exactly those rows.
        let mut panel_mem = core::mem::MaybeUninit::<[[V; NV]; KC]>::uninit();
        let panel = panel_mem.as_mut_ptr().cast::<[V; NV]>();
        let kc_even = k.div_ceil(k.div_ceil(KC));
        for pc in (0..k).step_by(kc_even) {
            let kc = kc_even.min(k - pc);
            // The first `k` block applies β and the bias; later ones accumulate onto it.
            let (beta_p, bias_p) = if pc == 0 {
                (beta, bias)
            } else {
                (V::S::ONE, core::ptr::null())
            };
            for ic in (0..m).step_by(mc) {
                let m_blk = mc.min(m - ic);
                for jr in (0..n).step_by(nr) {
                    let cols = nr.min(n - jr);
                    pack_panel::<V, NV>(panel, b, pc, kc, jr, cols);
                    let packed = core::slice::from_raw_parts(panel, kc);
                    for ir in (ic..ic + m_blk).step_by(MR) {
                        let rows = MR.min(ic + m_blk - ir);
                        let at = Tile {
                            i0: ir,
                            rows,
                            p0: pc,
                            kc,
                            j0: jr,
                            cols,
                        };
                        let bias_j = if bias_p.is_null() {
                            bias_p
                        } else {
                            bias_p.add(jr)
                        };
                        if a.rs == 1 {
                            tile::<V, MR, NV, true>(packed, a, c, at, alpha, beta_p, bias_j);
                        } else {
                            tile::<V, MR, NV, false>(packed, a, c, at, alpha, beta_p, bias_j);
                        }
                    }
                }
            }
        }
    }
}

/// `C ← β·C + 1·biasᵀ` (`β = 0`: `C` not read): the whole product when `k = 0`.
#[inline(always)]
unsafe fn scale_c<S: Real>(m: usize, n: usize, beta: S, c: Mat<*mut S>, bias: *const S) {
    for i in 0..m {
        for j in 0..n {
            // SAFETY: `(i, j)` is in bounds and `bias` null or `n` long (caller's contract).
            unsafe {
                let p = c.ptr.offset(i as isize * c.rs + j as isize * c.cs);
                let b = if bias.is_null() {
                    S::ZERO
                } else {
                    *bias.add(j)
                };
                *p = if beta == S::ZERO { b } else { beta * *p + b };
            }
        }
    }
}

/// Copies `B(p0 .. p0+kc, j0 .. j0+cols)` into `panel` (row `p` at `panel[p]`), zeroing the
/// columns `cols .. NR` so a ragged last panel multiplies as a full one. `panel` points at
/// `KC` rows (possibly uninitialised); rows `0..kc` are fully written.
#[inline(always)]
unsafe fn pack_panel<V: Vector, const NV: usize>(
    panel: *mut [V; NV],
    b: Mat<*const V::S>,
    p0: usize,
    kc: usize,
    j0: usize,
    cols: usize,
) {
    let nr = NV * V::LANES;
    let dst = panel.cast::<V::S>();
    // SAFETY: `dst` holds `KC·NR` scalars (`kc ≤ KC`, `cols ≤ NR`); sources are elements
    // `(p0 + p, j0 + j)` of `B`, in bounds by the caller's contract.
    unsafe {
        if b.cs == 1 && cols == nr {
            // Whole rows: vector copies (a `copy_nonoverlapping` of a run-time length would be a
            // `memcpy` call per row).
            for p in 0..kc {
                let src = b.ptr.offset((p0 + p) as isize * b.rs + j0 as isize);
                for v in 0..NV {
                    V::load(src.add(v * V::LANES)).store(dst.add(p * nr + v * V::LANES));
                }
            }
        } else if b.cs == 1 {
            for p in 0..kc {
                let src = b.ptr.offset((p0 + p) as isize * b.rs + j0 as isize);
                core::ptr::copy_nonoverlapping(src, dst.add(p * nr), cols);
            }
        } else {
            // Destination-contiguous order: a `p`-inner loop would store with stride `NR`,
            // which the compiler turns into vector scatters (slow on every x86 so far).
            for p in 0..kc {
                let src = b.ptr.offset((p0 + p) as isize * b.rs + j0 as isize * b.cs);
                let row = dst.add(p * nr);
                for j in 0..cols {
                    *row.add(j) = *src.offset(j as isize * b.cs);
                }
            }
        }
        if cols < nr {
            for p in 0..kc {
                for j in cols..nr {
                    *dst.add(p * nr + j) = V::S::ZERO;
                }
            }
        }
    }
}

/// Where one register tile sits: rows `i0 .. i0+rows` (`rows ≤ MR`), the panel's `k` range
/// `p0 .. p0+kc`, columns `j0 .. j0+cols` (`cols ≤ NR`).
#[derive(Clone, Copy)]
struct Tile {
    i0: usize,
    rows: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    cols: usize,
}

/// One `MR × NV·LANES` register tile over the panel's `kc` steps, then
/// `C ← α·acc + β·C` on its valid part. `A_COLS`: `A` is column-contiguous (`rs = 1`), so a
/// `k` step's `MR` values sit side by side and one pointer reaches them all.
#[inline(always)]
unsafe fn tile<V: Vector, const MR: usize, const NV: usize, const A_COLS: bool>(
    panel: &[[V; NV]],
    a: Mat<*const V::S>,
    c: Mat<*mut V::S>,
    t: Tile,
    alpha: V::S,
    beta: V::S,
    bias: *const V::S,
) {
    // SAFETY (whole body): rows past `t.rows` re-read row `i0 + rows − 1`, so every `A` read is
    // an element `(i < m, p < k)`; `C` writes are limited to the tile's valid rows and columns.
    unsafe {
        let mut acc = [[V::zero(); NV]; MR];
        let a0 = a.ptr.offset(t.i0 as isize * a.rs + t.p0 as isize * a.cs);
        if A_COLS {
            if t.rows == MR {
                for (p, bp) in panel.iter().take(t.kc).enumerate() {
                    let ap = a0.offset(p as isize * a.cs);
                    for (i, acc_i) in acc.iter_mut().enumerate() {
                        let av = V::splat(*ap.add(i));
                        for v in 0..NV {
                            acc_i[v] = V::mul_add(av, bp[v], acc_i[v]);
                        }
                    }
                }
            } else {
                let last = t.rows - 1;
                for (p, bp) in panel.iter().take(t.kc).enumerate() {
                    let ap = a0.offset(p as isize * a.cs);
                    for (i, acc_i) in acc.iter_mut().enumerate() {
                        let av = V::splat(*ap.add(i.min(last)));
                        for v in 0..NV {
                            acc_i[v] = V::mul_add(av, bp[v], acc_i[v]);
                        }
                    }
                }
            }
        } else {
            let rows: [*const V::S; MR] =
                core::array::from_fn(|i| a0.offset(i.min(t.rows - 1) as isize * a.rs));
            for (p, bp) in panel.iter().take(t.kc).enumerate() {
                let off = p as isize * a.cs;
                for (acc_i, row) in acc.iter_mut().zip(&rows) {
                    let av = V::splat(*row.offset(off));
                    for v in 0..NV {
                        acc_i[v] = V::mul_add(av, bp[v], acc_i[v]);
                    }
                }
            }
        }
        store_tile::<V, MR, NV>(&acc, c, t, alpha, beta, bias);
    }
}

/// `C ← α·acc + β·C + bias` on the tile's valid part (`β = 0`: `C` is not read; `bias`
/// points at the tile's first column's bias, or is null).
#[inline(always)]
unsafe fn store_tile<V: Vector, const MR: usize, const NV: usize>(
    acc: &[[V; NV]; MR],
    c: Mat<*mut V::S>,
    t: Tile,
    alpha: V::S,
    beta: V::S,
    bias: *const V::S,
) {
    let nr = NV * V::LANES;
    // SAFETY (whole body): only elements `(i0 + i, j0 + j)`, `i < rows`, `j < cols`, of `C`
    // (partial vectors read and write only their first `cols − j` lanes).
    unsafe {
        let al = V::splat(alpha);
        if c.cs == 1 {
            // Row-contiguous C: whole vectors, then one partial vector for a ragged edge.
            let be = V::splat(beta);
            // Through `black_box`: as a loop invariant the bias vectors get hoisted out of the
            // tile loops and held in registers, which pushes the 6×4 kernel's 24 accumulators
            // into spills (dW ran at half speed). Loaded at the store, they come from L1.
            let bias = core::hint::black_box(bias);
            let has_bias = !bias.is_null();
            for (i, acc_i) in acc.iter().enumerate().take(t.rows) {
                let cp = c.ptr.offset((t.i0 + i) as isize * c.rs + t.j0 as isize);
                for (v, &x) in acc_i.iter().enumerate() {
                    let (p, j) = (cp.add(v * V::LANES), v * V::LANES);
                    if j >= t.cols {
                        break;
                    }
                    let n = (t.cols - j).min(V::LANES);
                    let mut out = V::mul(al, x);
                    if beta != V::S::ZERO {
                        let old = if n == V::LANES {
                            V::load(p)
                        } else {
                            V::load_partial(p, n)
                        };
                        out = V::mul_add(be, old, out);
                    }
                    if has_bias {
                        let b = if n == V::LANES {
                            V::load(bias.add(j))
                        } else {
                            V::load_partial(bias.add(j), n)
                        };
                        out = V::add(out, b);
                    }
                    if n == V::LANES {
                        out.store(p);
                    } else {
                        out.store_partial(p, n);
                    }
                }
            }
            return;
        }
        let mut tmp = [[V::zero(); NV]; MR];
        for (t_i, acc_i) in tmp.iter_mut().zip(acc) {
            for (t_v, &x) in t_i.iter_mut().zip(acc_i) {
                *t_v = V::mul(al, x);
            }
        }
        let vals = tmp.as_ptr().cast::<V::S>();
        for i in 0..t.rows {
            for j in 0..t.cols {
                let p = c
                    .ptr
                    .offset((t.i0 + i) as isize * c.rs + (t.j0 + j) as isize * c.cs);
                let mut x = *vals.add(i * nr + j);
                if beta != V::S::ZERO {
                    x = beta * *p + x;
                }
                if !bias.is_null() {
                    x += *bias.add(j);
                }
                *p = x;
            }
        }
    }
}

/// Portable `W`-lane vector of any [`Real`] (plain multiply and add, which the compiler
/// vectorises for the build target): the fallback for CPUs without AVX2, and every non-x86 one.
#[derive(Clone, Copy)]
pub(crate) struct Portable<T, const W: usize>([T; W]);

impl<T: Real, const W: usize> Vector for Portable<T, W> {
    type S = T;
    const LANES: usize = W;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Portable([T::ZERO; W])
    }
    #[inline(always)]
    unsafe fn splat(x: T) -> Self {
        Portable([x; W])
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> Self {
        // SAFETY: the caller guarantees `W` readable values at `p`.
        Portable(unsafe { core::ptr::read_unaligned(p.cast::<[T; W]>()) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut T) {
        // SAFETY: the caller guarantees `W` writable values at `p`.
        unsafe { core::ptr::write_unaligned(p.cast::<[T; W]>(), self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Portable(core::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        Portable(core::array::from_fn(|l| a.0[l] * b.0[l]))
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        Portable(core::array::from_fn(|l| a.0[l] + b.0[l]))
    }
}
