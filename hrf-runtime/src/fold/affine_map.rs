//! Deploy-time folds: the f64 affine map `y = W·x + b` that every linear fold composes.

use std::vec;
use std::vec::Vec;

use super::{FoldedLinear, LinearRef};
use crate::kernels::gemm::{Op, gemm};

/// `y = W·x + b` in f64 (per frame, column-vector form of the kernels' `y = x·Wᵀ + b`).
#[derive(Clone, Debug)]
pub(crate) struct AffineMap {
    /// (out, inp) — row-major.
    pub weight: Vec<f64>,
    /// (out)
    pub bias: Vec<f64>,
    pub out: usize,
    pub inp: usize,
}

impl AffineMap {
    /// Widens a (shape-checked) trained linear to f64; a missing bias becomes zeros.
    pub fn from_linear(l: &LinearRef<'_>) -> Self {
        AffineMap {
            weight: l.weight.iter().map(|&w| w as f64).collect(),
            bias: match l.bias {
                Some(b) => b.iter().map(|&b| b as f64).collect(),
                None => vec![0.0; l.out],
            },
            out: l.out,
            inp: l.inp,
        }
    }

    /// `self ∘ inner`: `x ↦ W·(W_in·x + b_in) + b = (W·W_in)·x + (W·b_in + b)`.
    /// Requires `self.inp == inner.out` (checked by the caller).
    pub fn after(&self, inner: &AffineMap) -> AffineMap {
        debug_assert_eq!(self.inp, inner.out);
        let (m, k, n) = (self.out, self.inp, inner.inp);
        let mut weight = vec![0.0; m * n];
        // (m, k)·(k, n), f64 accumulation in dgemm.
        gemm(
            &mut weight,
            &self.weight,
            Op::N,
            &inner.weight,
            Op::N,
            m,
            k,
            n,
            1.0,
            0.0,
        );
        // b ← W·b_in + b: the same GEMM with one column.
        let mut bias = self.bias.clone();
        gemm(
            &mut bias,
            &self.weight,
            Op::N,
            &inner.bias,
            Op::N,
            m,
            k,
            1,
            1.0,
            1.0,
        );
        AffineMap {
            weight,
            bias,
            out: m,
            inp: n,
        }
    }

    /// The single rounding to f32.
    pub fn round_to_f32(&self) -> FoldedLinear {
        FoldedLinear {
            weight: self.weight.iter().map(|&w| w as f32).collect(),
            bias: self.bias.iter().map(|&b| b as f32).collect(),
            out: self.out,
            inp: self.inp,
        }
    }
}
