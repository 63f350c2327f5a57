//! Deploy-time folds: the Q, K and V projections fused into one `(3·d, d_in)` linear, with the
//! attention scale `1/√dₕ` pre-applied to the Q rows.
//!
//! Attention scores are `(q·k)/√dₕ` with `q = W_q·x + b_q`. Scaling the Q rows and bias,
//! `W_q' = W_q/√dₕ` and `b_q' = b_q/√dₕ`, gives `q'·k = (q·k)/√dₕ`, so the deployed attention
//! skips the scale. The fused weight stacks `[W_q'; W_k; W_v]` row-wise, so each output frame is
//! `[q' (d) | k (d) | v (d)]`: the packed `qkv: (t, 3·d)` layout of `kernels/attention.rs`, head
//! `h` in columns `h·dₕ .. (h+1)·dₕ` of each part (the head split is unchanged by the fusion).
//!
//! The folded model's attention must then run with scale 1, not `1/√dₕ`.

use std::format;
use std::vec::Vec;

use super::{FoldError, FoldedLinear, LinearRef};

const FOLD: &str = "fuse_qkv";

/// Fuses `q`, `k`, `v` (each `(d, d_in)`, reading the same input) for `heads` heads
/// (`dₕ = d / heads`). Returns `W: (3·d, d_in)` and `b: (3·d)`; missing biases are zeros.
pub fn fuse_qkv(
    q: LinearRef<'_>,
    k: LinearRef<'_>,
    v: LinearRef<'_>,
    heads: usize,
) -> Result<FoldedLinear, FoldError> {
    for l in [&q, &k, &v] {
        l.check(FOLD)?;
    }
    for other in [&k, &v] {
        if (other.out, other.inp) != (q.out, q.inp) {
            return Err(FoldError::ShapeMismatch {
                fold: FOLD,
                left: q.name.into(),
                left_shape: q.shape(),
                right: other.name.into(),
                right_shape: other.shape(),
                rule: "Q, K and V must all be (d, d_in) over the same input (W: (out, in))",
            });
        }
    }
    let d = q.out;
    if heads == 0 || !d.is_multiple_of(heads) {
        return Err(FoldError::InvalidArgument {
            fold: FOLD,
            problem: format!(
                "heads = {heads} does not divide d = {d} (the width of `{}`); use a divisor of d",
                q.name
            ),
        });
    }
    let scale = 1.0 / ((d / heads) as f64).sqrt();
    let mut weight = Vec::with_capacity(3 * d * q.inp);
    let mut bias = Vec::with_capacity(3 * d);
    for (l, s) in [(&q, scale), (&k, 1.0), (&v, 1.0)] {
        // One f64 product per value, rounded once (K and V are copied exactly).
        weight.extend(l.weight.iter().map(|&w| (w as f64 * s) as f32));
        match l.bias {
            Some(b) => bias.extend(b.iter().map(|&b| (b as f64 * s) as f32)),
            None => bias.extend(core::iter::repeat_n(0.0, d)),
        }
    }
    Ok(FoldedLinear {
        weight,
        bias,
        out: 3 * d,
        inp: q.inp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::reference::{assert_outputs_match, linear, rand_vec};
    use crate::testing::Rng;
    use std::vec;

    /// Scaled dot-product scores `S[h][i][j] = (q_i·k_j)·scale` per head, from `q, k: (t, d)`.
    fn scores(q: &[f32], k: &[f32], t: usize, d: usize, heads: usize, scale: f32) -> Vec<f32> {
        let dh = d / heads;
        let mut s = vec![0.0f32; heads * t * t];
        for h in 0..heads {
            for i in 0..t {
                for j in 0..t {
                    let dot: f32 = (0..dh)
                        .map(|c| q[i * d + h * dh + c] * k[j * d + h * dh + c])
                        .sum();
                    s[(h * t + i) * t + j] = dot * scale;
                }
            }
        }
        s
    }

    /// Columns `part·d .. (part+1)·d` of `(t, 3·d)`.
    fn part(qkv: &[f32], t: usize, d: usize, part: usize) -> Vec<f32> {
        (0..t)
            .flat_map(|i| qkv[i * 3 * d + part * d..i * 3 * d + (part + 1) * d].to_vec())
            .collect()
    }

    #[test]
    fn fuse_qkv_preserves_scores_and_values() {
        let (d_in, d, heads, t) = (6, 8, 2, 5);
        let mut rng = Rng::new(51);
        let w: Vec<Vec<f32>> = (0..3).map(|_| rand_vec(&mut rng, d * d_in, 1.0)).collect();
        let b = [
            Some(rand_vec(&mut rng, d, 0.5)),
            None,
            Some(rand_vec(&mut rng, d, 0.5)),
        ];
        let l = |i: usize, name| LinearRef::new(name, &w[i], b[i].as_deref(), d, d_in);
        let fused = fuse_qkv(l(0, "attn.q"), l(1, "attn.k"), l(2, "attn.v"), heads).unwrap();
        assert_eq!((fused.out, fused.inp), (3 * d, d_in));

        let x = rand_vec(&mut rng, t * d_in, 1.5);
        let (q, k, v) = (
            linear(&x, &w[0], b[0].as_deref(), d, d_in),
            linear(&x, &w[1], None, d, d_in),
            linear(&x, &w[2], b[2].as_deref(), d, d_in),
        );
        let before = scores(&q, &k, t, d, heads, 1.0 / ((d / heads) as f32).sqrt());
        let qkv = linear(&x, &fused.weight, Some(&fused.bias), 3 * d, d_in);
        let after = scores(&part(&qkv, t, d, 0), &part(&qkv, t, d, 1), t, d, heads, 1.0);
        assert_outputs_match("attention scores", &before, &after);
        assert_outputs_match("keys", &k, &part(&qkv, t, d, 1));
        assert_outputs_match("values", &v, &part(&qkv, t, d, 2));
    }

    #[test]
    fn fuse_qkv_matches_hand_computed_case() {
        // d = 4, heads = 1 → scale 1/2. Q rows and bias halved; K, V copied; K's bias zero.
        let wq: Vec<f32> = (0..4).map(|i| i as f32).collect(); // (4, 1)
        let wk = [1.0f32; 4];
        let wv = [-1.0f32; 4];
        let bq = [2.0f32, 4.0, 6.0, 8.0];
        let f = fuse_qkv(
            LinearRef::new("q", &wq, Some(&bq), 4, 1),
            LinearRef::new("k", &wk, None, 4, 1),
            LinearRef::new("v", &wv, Some(&bq), 4, 1),
            1,
        )
        .unwrap();
        assert_eq!(
            f.weight,
            [
                0.0, 0.5, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0
            ]
        );
        assert_eq!(
            f.bias,
            [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 2.0, 4.0, 6.0, 8.0]
        );
    }

    #[test]
    fn fuse_qkv_reports_mismatches() {
        let w16 = [0.0f32; 16];
        let w12 = [0.0f32; 12];
        let err = fuse_qkv(
            LinearRef::new("enc.0.attn.q", &w16, None, 4, 4),
            LinearRef::new("enc.0.attn.k", &w12, None, 4, 3),
            LinearRef::new("enc.0.attn.v", &w16, None, 4, 4),
            2,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fuse_qkv: `enc.0.attn.q` is (4, 4) but `enc.0.attn.k` is (4, 3): Q, K and V must all \
             be (d, d_in) over the same input (W: (out, in))"
        );
        let q = LinearRef::new("enc.0.attn.q", &w16, None, 4, 4);
        assert_eq!(
            fuse_qkv(q, q, q, 3).unwrap_err().to_string(),
            "fuse_qkv: heads = 3 does not divide d = 4 (the width of `enc.0.attn.q`); use a divisor of d"
        );
        let bad_bias = [0.0f32; 3];
        let qb = LinearRef::new("enc.0.attn.q", &w16, Some(&bad_bias), 4, 4);
        assert!(matches!(
            fuse_qkv(qb, q, q, 2),
            Err(FoldError::BufferLength {
                expected: 4,
                got: 3,
                ..
            })
        ));
    }
}
