//! The blocked GEMM against a naive f64 product: every instruction-set variant this machine can
//! run (portable always), f32 and f64, all four transpose combinations, strided and transposed
//! `C`, ragged row and column tiles, `k` across several panels, `m` across several blocks,
//! `β ∈ {0, 1, ½}` (with NaN in `C` for `β = 0`) and `k = 0`.

extern crate std;
use std::vec::Vec;

use super::blocked::{KC, Mat, Portable, driver};
use super::{Op, gemm};
use crate::real::Real;
use crate::testing::Rng;

type Entry<S> =
    unsafe fn(usize, usize, usize, S, Mat<*const S>, Mat<*const S>, S, Mat<*mut S>, *const S);

#[allow(clippy::too_many_arguments)]
unsafe fn portable<S: Real>(
    m: usize,
    k: usize,
    n: usize,
    al: S,
    a: Mat<*const S>,
    b: Mat<*const S>,
    be: S,
    c: Mat<*mut S>,
    bias: *const S,
) {
    // SAFETY: forwarded.
    unsafe {
        if n <= 8 {
            driver::<Portable<S, 8>, 3, 1>(m, k, n, al, a, b, be, c, bias)
        } else {
            driver::<Portable<S, 8>, 4, 2>(m, k, n, al, a, b, be, c, bias)
        }
    }
}

fn f32_entries() -> Vec<(&'static str, Entry<f32>)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, Entry<f32>)> = std::vec![("portable", portable::<f32>)];
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::has_avx2_fma() {
            v.push(("avx2", super::x86::sgemm_avx2));
        }
        if crate::cpu::has_avx512() {
            v.push(("avx512", super::x86::sgemm_avx512));
        }
    }
    v
}

fn f64_entries() -> Vec<(&'static str, Entry<f64>)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, Entry<f64>)> = std::vec![("portable", portable::<f64>)];
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::has_avx2_fma() {
            v.push(("avx2", super::x86::dgemm_avx2));
        }
        if crate::cpu::has_avx512() {
            v.push(("avx512", super::x86::dgemm_avx512));
        }
    }
    v
}

/// Shapes: single elements, ragged tiles, `n` at and around one and two vectors, `k` over
/// several `KC` panels, `m` over several row blocks (`MC ≤ 8·16 = 128` rows).
const SHAPES: [(usize, usize, usize); 10] = [
    (1, 1, 1),
    (3, 2, 5),
    (13, 7, 16),
    (12, 16, 32),
    (17, 9, 33),
    (25, 130, 17),
    (7, 2 * KC + 3, 40),
    (140, 20, 8),
    (150, 16, 150),
    (40, KC, 64),
];

fn check<S: Real>(name: &str, run: Entry<S>, tol: f64) {
    let mut rng = Rng::new(11);
    for &(m, k, n) in &SHAPES {
        for (ta, tb, tc) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (true, true, true),
            (false, false, true),
        ] {
            for (beta, with_bias) in [(0.0, false), (1.0, false), (0.5, true), (0.0, true)] {
                let a: Vec<S> = rng
                    .vec(m * k + 3, 1.0)
                    .iter()
                    .map(|&x| S::from_f64(x))
                    .collect();
                let b: Vec<S> = rng
                    .vec(k * n + 3, 1.0)
                    .iter()
                    .map(|&x| S::from_f64(x))
                    .collect();
                // A at offset 3 with padded strides; C inside a wider buffer (ld = n + 5).
                let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
                let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
                let (ldc, rows_c) = if tc { (m + 5, n) } else { (n + 5, m) };
                let (rsc, csc) = if tc {
                    (1, ldc as isize)
                } else {
                    (ldc as isize, 1)
                };
                let c0: Vec<S> = rng
                    .vec(rows_c * ldc, 1.0)
                    .iter()
                    .map(|&x| S::from_f64(x))
                    .collect();
                let mut c = c0.clone();
                if beta == 0.0 {
                    for (i, x) in c.iter_mut().enumerate() {
                        *x = S::from_f64(if i % 2 == 0 { f64::NAN } else { f64::INFINITY });
                    }
                }
                let alpha = -1.5;
                let bias: Vec<S> = rng.vec(n, 1.0).iter().map(|&x| S::from_f64(x)).collect();
                let bias_ptr = if with_bias {
                    bias.as_ptr()
                } else {
                    core::ptr::null()
                };
                // SAFETY: the strides above address elements inside each buffer.
                unsafe {
                    run(
                        m,
                        k,
                        n,
                        S::from_f64(alpha),
                        Mat {
                            ptr: a.as_ptr().add(3),
                            rs: rsa,
                            cs: csa,
                        },
                        Mat {
                            ptr: b.as_ptr().add(3),
                            rs: rsb,
                            cs: csb,
                        },
                        S::from_f64(beta),
                        Mat {
                            ptr: c.as_mut_ptr(),
                            rs: rsc,
                            cs: csc,
                        },
                        bias_ptr,
                    );
                }
                for i in 0..m {
                    for (j, bj) in bias.iter().enumerate() {
                        let dot: f64 = (0..k)
                            .map(|p| {
                                let ai = 3 + (i as isize * rsa + p as isize * csa) as usize;
                                let bi = 3 + (p as isize * rsb + j as isize * csb) as usize;
                                a[ai].to_f64() * b[bi].to_f64()
                            })
                            .sum();
                        let ci = (i as isize * rsc + j as isize * csc) as usize;
                        let prev = if beta == 0.0 {
                            0.0
                        } else {
                            beta * c0[ci].to_f64()
                        };
                        let b = if with_bias { bj.to_f64() } else { 0.0 };
                        let want = alpha * dot + prev + b;
                        let got = c[ci].to_f64();
                        assert!(
                            (got - want).abs() <= tol * (1.0 + want.abs()) * (k as f64).sqrt(),
                            "{name} {m}×{k}×{n} ta {ta} tb {tb} tc {tc} β {beta} bias \
                             {with_bias} ({i},{j}): {got} vs {want}"
                        );
                    }
                }
                // Nothing outside C's m×n elements was written.
                for (idx, (&x, &x0)) in c.iter().zip(&c0).enumerate() {
                    let (r, col) = (idx / ldc, idx % ldc);
                    let inside = if tc {
                        r < n && col < m
                    } else {
                        r < m && col < n
                    };
                    if !inside && beta != 0.0 {
                        assert!(x == x0, "{name}: wrote outside C at {idx}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_f32_kernel_matches_the_naive_product() {
    for (name, run) in f32_entries() {
        check::<f32>(name, run, 2e-6);
    }
}

#[test]
fn every_f64_kernel_matches_the_naive_product() {
    for (name, run) in f64_entries() {
        check::<f64>(name, run, 1e-14);
    }
}

#[test]
fn k_zero_scales_or_zeroes_c() {
    let mut c = [f32::NAN, 2.0];
    gemm(&mut c[..1], &[], Op::N, &[], Op::N, 1, 0, 1, 1.0, 0.0);
    assert_eq!(c[0], 0.0);
    gemm(&mut c[1..], &[], Op::N, &[], Op::N, 1, 0, 1, 1.0, 0.5);
    assert_eq!(c[1], 1.0);
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
        let mut c = std::vec![f64::NAN; m * n];
        gemm(&mut c, &a, oa, &b, ob, m, k, n, 1.0, 0.0);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k)
                    .map(|p| {
                        let x = if oa == Op::T {
                            a[p * m + i]
                        } else {
                            a[i * k + p]
                        };
                        let y = if ob == Op::T {
                            b[j * k + p]
                        } else {
                            b[p * n + j]
                        };
                        x * y
                    })
                    .sum();
                assert!((c[i * n + j] - want).abs() < 1e-12, "{oa:?}{ob:?}");
            }
        }
    }
}
