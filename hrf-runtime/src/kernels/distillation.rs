//! Knowledge distillation (Hinton, Vinyals & Dean 2015): the student's logits pulled toward a
//! trained teacher's softened distribution, added to the training loss of `hrf train --teacher`.
//!
//! Layout: `student`, `teacher`, `p_student`, `p_teacher`, `dlogits`: `(rows, classes)`
//! row-major, one row per utterance.
//!
//! With temperature `T`, `p = softmax(z / T)` for both models and
//! `kd = T² · (1/rows) · Σ_r KL(p_teacher,r ‖ p_student,r)`
//! `   = T² · (1/rows) · Σ_r Σ_c p_t,rc · (ln p_t,rc − ln p_s,rc)`.
//! The `T²` keeps the gradient's scale independent of `T` (Hinton et al. §2):
//! `∂kd/∂student_rc = (T / rows) · (p_s,rc − p_t,rc)`. The teacher is a constant (no gradient).

use crate::real::Real;

/// Sizes of a distillation call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdDims {
    pub rows: usize,
    pub classes: usize,
}

/// `out = softmax(z / t)` per row (max-subtracted); returns `Σ_c out_c · ln out_c` terms via the
/// log-sum-exp, so `ln out_c = z_c/t − lse`. Returns the per-row `lse` in `lse`.
fn softened<T: Real>(out: &mut [T], lse: &mut [T], z: &[T], t: T, classes: usize) {
    for ((o, l), zr) in out
        .chunks_exact_mut(classes)
        .zip(lse.iter_mut())
        .zip(z.chunks_exact(classes))
    {
        let m = zr.iter().fold(zr[0] / t, |m, &x| m.max(x / t));
        let mut sum = T::ZERO;
        for (oc, &zc) in o.iter_mut().zip(zr) {
            *oc = (zc / t - m).exp();
            sum += *oc;
        }
        for oc in o.iter_mut() {
            *oc /= sum;
        }
        *l = m + sum.ln();
    }
}

/// Writes the softened distributions (saved for backward) and returns `kd` (module docs).
/// `lse_s`, `lse_t`: `(rows)` scratch.
#[allow(clippy::too_many_arguments)]
pub fn kd_forward<T: Real>(
    p_student: &mut [T],
    p_teacher: &mut [T],
    lse_s: &mut [T],
    lse_t: &mut [T],
    student: &[T],
    teacher: &[T],
    temperature: T,
    dims: KdDims,
) -> T {
    let KdDims { rows, classes } = dims;
    if rows == 0 {
        return T::ZERO;
    }
    softened(p_student, lse_s, student, temperature, classes);
    softened(p_teacher, lse_t, teacher, temperature, classes);
    let mut total = T::ZERO;
    for r in 0..rows {
        for c in 0..classes {
            let i = r * classes + c;
            let pt = p_teacher[i];
            if pt > T::ZERO {
                // ln p_t − ln p_s = (t/T − lse_t) − (s/T − lse_s).
                let log_ratio =
                    (teacher[i] / temperature - lse_t[r]) - (student[i] / temperature - lse_s[r]);
                total += pt * log_ratio;
            }
        }
    }
    temperature * temperature * total / T::from_usize(rows)
}

/// Accumulates `scale · ∂kd/∂student` into `dlogits` (module docs).
pub fn kd_backward<T: Real>(
    dlogits: &mut [T],
    p_student: &[T],
    p_teacher: &[T],
    temperature: T,
    scale: T,
    dims: KdDims,
) {
    let KdDims { rows, classes } = dims;
    if rows == 0 {
        return;
    }
    let k = scale * temperature / T::from_usize(rows);
    for ((d, &ps), &pt) in dlogits[..rows * classes]
        .iter_mut()
        .zip(p_student)
        .zip(p_teacher)
    {
        *d += k * (ps - pt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Rng, check_gradient};

    #[test]
    fn hand_computed_two_classes() {
        // T = 1, one row: teacher logits (0, ln 3) → p_t = (1/4, 3/4); student (0, 0) → (1/2, 1/2).
        // KL = 1/4 ln(1/2) + 3/4 ln(3/2).
        let dims = KdDims {
            rows: 1,
            classes: 2,
        };
        let (mut ps, mut pt, mut ls, mut lt) = ([0.0f64; 2], [0.0f64; 2], [0.0f64], [0.0f64]);
        let kd = kd_forward(
            &mut ps,
            &mut pt,
            &mut ls,
            &mut lt,
            &[0.0, 0.0],
            &[0.0, 3f64.ln()],
            1.0,
            dims,
        );
        let want = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
        assert!((kd - want).abs() < 1e-12, "{kd} vs {want}");
        let mut d = [1.0f64, 1.0];
        kd_backward(&mut d, &ps, &pt, 1.0, 1.0, dims);
        // Accumulated onto 1: 1 + (1/2 − 1/4), 1 + (1/2 − 3/4).
        assert!(
            (d[0] - 1.25).abs() < 1e-12 && (d[1] - 0.75).abs() < 1e-12,
            "{d:?}"
        );
        // T = 2 on the same logits: p_t = softmax(0, ln3/2) = (1/(1+√3), √3/(1+√3)).
        let kd2 = kd_forward(
            &mut ps,
            &mut pt,
            &mut ls,
            &mut lt,
            &[0.0, 0.0],
            &[0.0, 3f64.ln()],
            2.0,
            dims,
        );
        let s3 = 3f64.sqrt();
        let (a, b) = (1.0 / (1.0 + s3), s3 / (1.0 + s3));
        let want2 = 4.0 * (a * (2.0 * a).ln() + b * (2.0 * b).ln());
        assert!((kd2 - want2).abs() < 1e-12, "{kd2} vs {want2}");
        // Identical logits: zero loss.
        let same = kd_forward(
            &mut ps,
            &mut pt,
            &mut ls,
            &mut lt,
            &[1.0, -2.0],
            &[1.0, -2.0],
            3.0,
            dims,
        );
        assert!(same.abs() < 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for temperature in [1.0, 2.0, 4.5] {
            let mut rng = Rng::new(17);
            let dims = KdDims {
                rows: 3,
                classes: 4,
            };
            let mut student = rng.vec(12, 3.0);
            let teacher = rng.vec(12, 3.0);
            let (mut ps, mut pt) = (vec![0.0; 12], vec![0.0; 12]);
            let (mut ls, mut lt) = (vec![0.0; 3], vec![0.0; 3]);
            kd_forward(
                &mut ps,
                &mut pt,
                &mut ls,
                &mut lt,
                &student,
                &teacher,
                temperature,
                dims,
            );
            let scale = 0.6;
            let mut d = vec![0.0; 12];
            kd_backward(&mut d, &ps, &pt, temperature, scale, dims);
            let (mut a, mut b, mut c, mut e) =
                (vec![0.0; 12], vec![0.0; 12], vec![0.0; 3], vec![0.0; 3]);
            check_gradient("kd dlogits", &mut student, &d, 1e-6, |z| {
                scale
                    * kd_forward(
                        &mut a,
                        &mut b,
                        &mut c,
                        &mut e,
                        z,
                        &teacher,
                        temperature,
                        dims,
                    )
            });
        }
    }
}
