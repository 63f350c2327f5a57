//! Row softmax over the attended keys, attention forward's only non-GEMM work (one `exp` per
//! score, which with scalar `libm::expf` costs more than both GEMMs together at t = 150).

use core::any::TypeId;

use crate::kernels::activation::exp_f32;
use crate::real::Real;

/// `row ← softmax(row)` in place: `exp(x − max) / Σ exp(x − max)`. `row` must not be empty.
///
/// In f32 (production) this is [`softmax_f32`] inside `cpu::widest` (16 or 8 lanes instead of
/// baseline SSE2's 4, bit-identical on every path). In f64 (the gradient tests) it uses the
/// exact `Real::exp`.
pub(super) fn softmax_in_place<T: Real>(row: &mut [T]) {
    match as_f32_mut(row) {
        Some(r) => crate::cpu::widest(
            #[inline(always)]
            || softmax_f32(r),
        ),
        None => softmax_generic(row),
    }
}

/// Lanes of the f32 softmax loops: one AVX-512 vector (measured faster than 32 or 64, whose
/// padded tails cost more than their extra independent `exp` chains gain at 150 keys).
const W: usize = 16;

/// The f32 softmax as three fused passes over `W`-wide chunks (max; `exp` with the running sum;
/// scale), the ragged tail going through a `W`-wide buffer padded with `−∞` so that it runs
/// vectorised too (a scalar tail of `exp` costs as much as the whole vector part at 150 keys).
#[inline(always)]
fn softmax_f32(row: &mut [f32]) {
    let full = row.len() / W * W;
    let (body, rest) = row.split_at_mut(full);
    let mut tail = [f32::NEG_INFINITY; W];
    tail[..rest.len()].copy_from_slice(rest);
    let mut m = tail;
    for chunk in body.chunks_exact(W) {
        for (m, &x) in m.iter_mut().zip(chunk) {
            *m = if x > *m { x } else { *m };
        }
    }
    let max = tree_reduce(m, |a, b| if b > a { b } else { a });
    let mut sum = [0.0f32; W];
    for chunk in body.chunks_exact_mut(W) {
        for (s, x) in sum.iter_mut().zip(chunk) {
            *x = exp_f32(*x - max);
            *s += *x;
        }
    }
    for (l, (s, x)) in sum.iter_mut().zip(tail.iter_mut()).enumerate() {
        // Padding lanes (`l ≥ rest.len()`) contribute exactly nothing.
        *x = if l < rest.len() {
            exp_f32(*x - max)
        } else {
            0.0
        };
        *s += *x;
    }
    let inv = 1.0 / tree_reduce(sum, |a, b| a + b);
    for x in body.iter_mut() {
        *x *= inv;
    }
    for (x, &e) in rest.iter_mut().zip(&tail) {
        *x = e * inv;
    }
}

/// The f32 softmax backward, `g ← p ⊙ (g − Σ p·g)`, in `W`-wide chunks with a zero-padded tail.
#[inline(always)]
fn softmax_backward_f32(g: &mut [f32], p: &[f32]) {
    let full = g.len() / W * W;
    let mut acc = [0.0f32; W];
    for (gs, ps) in g[..full].chunks_exact(W).zip(p[..full].chunks_exact(W)) {
        for ((a, &gv), &pv) in acc.iter_mut().zip(gs).zip(ps) {
            *a += gv * pv;
        }
    }
    for ((a, &gv), &pv) in acc.iter_mut().zip(&g[full..]).zip(&p[full..]) {
        *a += gv * pv;
    }
    let dot = tree_reduce(acc, |a, b| a + b);
    for (gv, &pv) in g.iter_mut().zip(p) {
        *gv = pv * (*gv - dot);
    }
}

/// Folds the `W` lanes pairwise (halving widths: `log₂ W` dependent steps instead of `W − 1`),
/// which the compiler emits as vector shuffles: at 150 keys a row's two reductions were as
/// costly as its `exp`s.
#[inline(always)]
fn tree_reduce(mut a: [f32; W], op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut half = W / 2;
    while half > 0 {
        for i in 0..half {
            a[i] = op(a[i], a[i + half]);
        }
        half /= 2;
    }
    a[0]
}

/// The slice as `f32` when `T` is `f32` (resolved at monomorphisation).
fn as_f32_mut<T: Real>(s: &mut [T]) -> Option<&mut [f32]> {
    // SAFETY: `T` is `f32` (same type, so same layout), checked first.
    (TypeId::of::<T>() == TypeId::of::<f32>())
        .then(|| unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<f32>(), s.len()) })
}

#[inline(always)]
fn softmax_generic<T: Real>(row: &mut [T]) {
    let max = lanes_reduce(row, T::max);
    for x in row.iter_mut() {
        *x -= max;
    }
    exp_non_positive_in_place(row);
    let inv = T::ONE / lanes_reduce(row, |a, b| a + b);
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// Softmax backward in place over one row's attended keys: `g ← p ⊙ (g − Σ p·g)`, turning
/// `dP` into `dS` (the Jacobian of softmax applied to the upstream gradient). `g: dP`, `p: P`.
pub(super) fn softmax_backward_in_place<T: Real>(g: &mut [T], p: &[T]) {
    debug_assert_eq!(g.len(), p.len());
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (checked just above), so both slices are `[f32]`.
        let (gf, pf) = unsafe {
            (
                core::slice::from_raw_parts_mut(g.as_mut_ptr().cast::<f32>(), g.len()),
                core::slice::from_raw_parts(p.as_ptr().cast::<f32>(), p.len()),
            )
        };
        return crate::cpu::widest(
            #[inline(always)]
            || softmax_backward_f32(gf, pf),
        );
    }
    softmax_backward_generic(g, p);
}

#[inline(always)]
fn softmax_backward_generic<T: Real>(g: &mut [T], p: &[T]) {
    let mut acc = [T::ZERO; LANES];
    let (gc, pc) = (g.chunks_exact(LANES), p.chunks_exact(LANES));
    let tail: T = gc
        .remainder()
        .iter()
        .zip(pc.remainder())
        .map(|(&a, &b)| a * b)
        .sum();
    for (gs, ps) in gc.zip(pc) {
        for ((a, &gv), &pv) in acc.iter_mut().zip(gs).zip(ps) {
            *a += gv * pv;
        }
    }
    let dot = acc.iter().copied().sum::<T>() + tail;
    for (gv, &pv) in g.iter_mut().zip(p) {
        *gv = pv * (*gv - dot);
    }
}

/// Independent partial results, so a reduction is not one serial dependency chain.
const LANES: usize = 8;

/// Folds `xs` (non-empty) with the associative `op` over [`LANES`] interleaved partial results,
/// which the compiler keeps in vector registers, then folds the partials.
#[inline(always)]
fn lanes_reduce<T: Real>(xs: &[T], op: impl Fn(T, T) -> T) -> T {
    if xs.len() < LANES {
        return xs[1..].iter().fold(xs[0], |a, &b| op(a, b));
    }
    let (head, tail) = xs.split_at(LANES);
    let mut acc = [T::ZERO; LANES];
    acc.copy_from_slice(head);
    let chunks = tail.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = op(*a, x);
        }
    }
    let partial = acc[1..].iter().fold(acc[0], |a, &b| op(a, b));
    rest.iter().fold(partial, |a, &b| op(a, b))
}

/// `x ← eˣ` for `x ≤ 0`, with the exact `Real::exp` (the f64 path; f32 runs [`softmax_f32`]).
#[inline(always)]
fn exp_non_positive_in_place<T: Real>(xs: &mut [T]) {
    for x in xs {
        *x = x.exp();
    }
}

/// Below this `eˣ` leaves the normal f32 range; [`exp_f32`] clamps there, so softmax treats it
/// as the smallest normal.
#[cfg(test)]
const EXP_F32_MIN_ARG: f32 = -87.336_55;

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    /// Relative error bound of [`exp_f32`] against f64 `exp` (about 2 f32 ulp).
    const EXP_F32_REL_TOL: f64 = 2.5e-7;

    #[test]
    fn exp_f32_matches_f64_exp_over_the_softmax_range() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = EXP_F32_MIN_ARG * i as f32 / 200_000.0;
            let want = (x as f64).exp();
            let rel = ((exp_f32(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
            assert!(
                rel <= EXP_F32_REL_TOL,
                "exp_f32({x}) relative error {rel:e}"
            );
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(worst > 0.0, "the comparison saw no rounding at all");
    }

    #[test]
    fn exp_f32_clamps_below_the_normal_range() {
        let tiny = exp_f32(-1e4);
        assert!(tiny > 0.0 && tiny < 1.2e-38, "{tiny}");
    }

    #[test]
    fn lanes_reduce_counts_every_element_once() {
        for n in [1, 2, 7, 8, 9, 16, 17, 30] {
            let xs: std::vec::Vec<f64> = (0..n).map(|i| (i * 37 % 11) as f64 - 5.0).collect();
            let sum: f64 = xs.iter().sum();
            let max = xs.iter().copied().fold(f64::MIN, f64::max);
            assert_eq!(lanes_reduce(&xs, |a, b| a + b), sum, "sum of {n}");
            assert_eq!(lanes_reduce(&xs, f64::max), max, "max of {n}");
        }
    }

    #[test]
    fn softmax_backward_matches_its_jacobian() {
        // dS_j = Σ_i dP_i·∂P_i/∂S_j with ∂P_i/∂S_j = P_i(δ_ij − P_j), for a row longer than LANES.
        let p: std::vec::Vec<f64> = (1..=11).map(|i| i as f64 / 66.0).collect();
        let dp: std::vec::Vec<f64> = (0..11).map(|i| (i as f64 * 0.7).sin()).collect();
        let mut ds = dp.clone();
        softmax_backward_in_place(&mut ds, &p);
        for j in 0..11 {
            let want: f64 = (0..11)
                .map(|i| dp[i] * p[i] * (f64::from(u8::from(i == j)) - p[j]))
                .sum();
            assert!((ds[j] - want).abs() < 1e-15, "dS[{j}] {} vs {want}", ds[j]);
        }
    }

    #[test]
    fn softmax_matches_hand_computed_case() {
        // softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8, in f64 and f32.
        let mut row = [0.0, 2f64.ln(), 5f64.ln()];
        softmax_in_place(&mut row);
        for (p, want) in row.iter().zip([0.125, 0.25, 0.625]) {
            assert!((p - want).abs() < 1e-15, "f64 {p} vs {want}");
        }
        let mut row = [0.0f32, 2f32.ln(), 5f32.ln()];
        softmax_in_place(&mut row);
        for (p, want) in row.iter().zip([0.125f32, 0.25, 0.625]) {
            assert!((p - want).abs() < 1e-6, "f32 {p} vs {want}");
        }
    }

    /// The f32 softmax and its backward against f64 at every tail length (rows of 1–40 and
    /// 150 keys), and bit-identical on every instruction-set path this CPU has.
    #[test]
    fn f32_softmax_matches_f64_and_every_isa_path() {
        for n in (1..=40).chain([150]) {
            let x: std::vec::Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 23) as f64 - 11.0) * 0.7)
                .collect();
            let mut want = x.clone();
            softmax_generic(&mut want);
            let mut got: std::vec::Vec<f32> = x.iter().map(|&v| v as f32).collect();
            softmax_f32(&mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (*g as f64 - w).abs() <= 1e-6 * w.max(1e-30) + 1e-12,
                    "n {n}: {g} vs {w}"
                );
            }
            let dp: std::vec::Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).sin()).collect();
            let mut ds = dp.clone();
            softmax_backward_f32(&mut ds, &got);
            let mut ds64: std::vec::Vec<f64> = dp.iter().map(|&v| v as f64).collect();
            let p64: std::vec::Vec<f64> = got.iter().map(|&v| v as f64).collect();
            softmax_backward_generic(&mut ds64, &p64);
            for (g, w) in ds.iter().zip(&ds64) {
                assert!((*g as f64 - w).abs() <= 1e-6, "backward n {n}: {g} vs {w}");
            }
            // The dispatched (widened) path gives the baseline loops' bits.
            let mut r: std::vec::Vec<f32> = x.iter().map(|&v| v as f32).collect();
            softmax_in_place(&mut r);
            assert_eq!(r, got, "widened n {n}");
            let mut d = dp.clone();
            softmax_backward_in_place(&mut d, &got);
            assert_eq!(d, ds, "widened backward n {n}");
        }
    }
}
