//! Merge (pool-by-factor) between SpeechFormer stages: averages each group of `factor`
//! consecutive frames, shortening the sequence from one scale (frame, phone, word) to the next.
//!
//! Layout (one utterance): `inp: (t, d)` row-major with `len ≤ t` valid frames;
//! `out: (⌈t/factor⌉, d)` with `⌈len/factor⌉` valid rows ([`merged_len`]).
//! Output row `g` averages input frames `g·factor .. min((g+1)·factor, len)`: a partial last
//! group averages only its valid frames (it divides by their count, not by `factor`), so
//! padding never enters. Output rows past the valid ones are written as zeros; padded input
//! rows are never read and receive no gradient.

use crate::real::Real;

/// Sizes of one merge call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeDims {
    /// Input buffer frames `t` (valid + padding).
    pub frames: usize,
    /// Features per frame.
    pub d: usize,
    /// Frames averaged into one (`≥ 1`).
    pub factor: usize,
}

impl MergeDims {
    /// Output buffer rows `⌈t/factor⌉`.
    pub fn out_frames(&self) -> usize {
        merged_len(self.frames, self.factor)
    }
}

/// Valid output rows for `len` valid input frames: `⌈len/factor⌉`.
pub fn merged_len(len: usize, factor: usize) -> usize {
    len.div_ceil(factor.max(1))
}

/// The valid input frames that output row `g` averages.
fn group(g: usize, len: usize, factor: usize) -> core::ops::Range<usize> {
    g * factor..len.min((g + 1) * factor)
}

/// `out[g] = mean(inp[g·f .. min((g+1)·f, len)])` for valid groups, zeros after (overwrites
/// `out`).
///
/// Shapes: `out: (⌈t/f⌉, d)`, `inp: (t, d)`, `len ≤ t`.
pub fn merge_forward<T: Real>(out: &mut [T], inp: &[T], len: usize, dims: MergeDims) {
    let MergeDims { frames, d, factor } = dims;
    debug_assert!(factor >= 1, "merge_forward: factor must be ≥ 1");
    debug_assert_eq!(inp.len(), frames * d, "merge_forward: inp is (t, d)");
    debug_assert_eq!(
        out.len(),
        dims.out_frames() * d,
        "merge_forward: out is (⌈t/f⌉, d)"
    );
    debug_assert!(len <= frames, "merge_forward: len {len} > frames {frames}");
    out.fill(T::ZERO);
    if d == 0 || factor == 0 {
        return;
    }
    for (g, o) in out
        .chunks_exact_mut(d)
        .take(merged_len(len, factor))
        .enumerate()
    {
        let rows = group(g, len, factor);
        let inv_count = T::ONE / T::from_usize(rows.len());
        for row in inp[rows.start * d..rows.end * d].chunks_exact(d) {
            for (o, &x) in o.iter_mut().zip(row) {
                *o += x;
            }
        }
        for o in o.iter_mut() {
            *o *= inv_count;
        }
    }
}

/// Backward of [`merge_forward`]: each valid input frame of group `g` gets `dout[g]/count_g`.
/// Accumulates into `dinp`; padded input rows are left untouched.
///
/// Shapes: `dinp: (t, d)`, `dout: (⌈t/f⌉, d)`.
pub fn merge_backward<T: Real>(dinp: &mut [T], dout: &[T], len: usize, dims: MergeDims) {
    let MergeDims { frames, d, factor } = dims;
    debug_assert_eq!(dinp.len(), frames * d, "merge_backward: dinp is (t, d)");
    debug_assert_eq!(
        dout.len(),
        dims.out_frames() * d,
        "merge_backward: dout is (⌈t/f⌉, d)"
    );
    debug_assert!(len <= frames, "merge_backward: len {len} > frames {frames}");
    if d == 0 || factor == 0 {
        return;
    }
    for (g, dy) in dout
        .chunks_exact(d)
        .take(merged_len(len, factor))
        .enumerate()
    {
        let rows = group(g, len, factor);
        let inv_count = T::ONE / T::from_usize(rows.len());
        for dx in dinp[rows.start * d..rows.end * d].chunks_exact_mut(d) {
            for (dx, &dy) in dx.iter_mut().zip(dy) {
                *dx += dy * inv_count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{Rng, check_gradient, dot};
    use std::vec;
    use std::vec::Vec;

    /// Relative tolerance of the f64 finite-difference check (merging is linear).
    const MERGE_GRAD_TOL: f64 = 1e-8;

    const DIMS: MergeDims = MergeDims {
        frames: 7,
        d: 2,
        factor: 3,
    };

    fn forward(x: &[f64], len: usize) -> Vec<f64> {
        let mut y = vec![f64::NAN; DIMS.out_frames() * DIMS.d];
        merge_forward(&mut y, x, len, DIMS);
        y
    }

    #[test]
    fn merge_averages_groups_and_partial_last_group() {
        // len = 5, factor 3: groups {0, 1, 2} and {3, 4} (partial, divided by 2); row 2 is padding.
        let mut x = vec![1e3; 14];
        x[..10].copy_from_slice(&[1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0, 6.0, 60.0]);
        assert_eq!(merged_len(5, 3), 2);
        assert_eq!(forward(&x, 5), [2.0, 20.0, 5.0, 50.0, 0.0, 0.0]);
    }

    #[test]
    fn merge_backward_matches_finite_differences_and_skips_padding() {
        let mut rng = Rng::new(81);
        for len in [7, 5, 1] {
            let mut x = rng.vec(DIMS.frames * DIMS.d, 1.0);
            let up = rng.vec(DIMS.out_frames() * DIMS.d, 1.0);
            let mut dx = vec![0.0; x.len()];
            merge_backward(&mut dx, &up, len, DIMS);
            assert!(
                dx[len * DIMS.d..].iter().all(|&g| g == 0.0),
                "len {len}: padded rows"
            );
            check_gradient("merge dinp", &mut x, &dx, MERGE_GRAD_TOL, |x| {
                dot(&up, &forward(x, len))
            });
        }
    }
}
