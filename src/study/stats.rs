//! Statistics of a study: mean ± sd over cells, and the paired comparison of a spec with the
//! baseline over identical (fold, seed) cells — mean difference with a paired t interval and a
//! seeded bootstrap interval, Wilcoxon's signed-rank test (exact, conditional on the ranks, so
//! ties and small n are handled without a normal approximation), the sign test, and wins /
//! ties / losses.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Differences at most this far from 0 count as ties (UA is a ratio of small integers, so
/// equal scores differ by rounding only).
pub const TIE: f64 = 1e-12;

/// Bootstrap resamples of the paired differences.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// Mean and sample standard deviation (n − 1); sd is 0 for a single value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

pub fn mean_sd(values: &[f64]) -> Option<MeanSd> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(MeanSd { mean, sd, n })
}

/// A two-sided 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// The paired comparison of `candidate − baseline` over matched cells.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Paired {
    pub n: usize,
    pub mean_difference: f64,
    pub sd_difference: f64,
    /// Paired t interval (`None` below 2 pairs).
    pub t_interval: Option<Interval>,
    /// Percentile bootstrap over the pairs (seeded, [`BOOTSTRAP_RESAMPLES`] resamples).
    pub bootstrap_interval: Option<Interval>,
    /// Wilcoxon signed-rank, two-sided (zero differences dropped; exact conditional
    /// distribution of the rank sum). `None` when every difference is a tie.
    pub wilcoxon_p: Option<f64>,
    /// Sign test, two-sided (exact binomial over the non-tied pairs).
    pub sign_p: Option<f64>,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
}

pub fn paired(differences: &[f64]) -> Option<Paired> {
    let ms = mean_sd(differences)?;
    let n = differences.len();
    let wins = differences.iter().filter(|&&d| d > TIE).count();
    let losses = differences.iter().filter(|&&d| d < -TIE).count();
    Some(Paired {
        n,
        mean_difference: ms.mean,
        sd_difference: ms.sd,
        t_interval: t_interval(differences),
        bootstrap_interval: bootstrap_interval(differences, BOOTSTRAP_RESAMPLES, 0x5EED),
        wilcoxon_p: wilcoxon_signed_rank(differences),
        sign_p: sign_test(wins, losses),
        wins,
        ties: n - wins - losses,
        losses,
    })
}

/// Mean ± t(0.975, n − 1) · sd / √n.
pub fn t_interval(values: &[f64]) -> Option<Interval> {
    let ms = mean_sd(values)?;
    if ms.n < 2 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, (ms.n - 1) as f64)
        .ok()?
        .inverse_cdf(0.975);
    let half = t * ms.sd / (ms.n as f64).sqrt();
    Some(Interval {
        low: ms.mean - half,
        high: ms.mean + half,
    })
}

/// Percentile bootstrap of the mean: `resamples` resamples with replacement, drawn from a
/// SplitMix64 stream seeded with `seed` (so a report is reproducible).
pub fn bootstrap_interval(values: &[f64], resamples: usize, seed: u64) -> Option<Interval> {
    let n = values.len();
    if n < 2 || resamples == 0 {
        return None;
    }
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            (0..n)
                .map(|_| values[(next() % n as u64) as usize])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Some(Interval {
        low: at(0.025),
        high: at(0.975),
    })
}

/// Two-sided Wilcoxon signed-rank p-value. Differences within [`TIE`] of 0 are dropped
/// (Wilcoxon's treatment); tied magnitudes get their average rank. The null distribution of
/// W⁺ is computed exactly from the actual ranks (each rank positive or negative with
/// probability ½), by dynamic programming over doubled ranks (which are integers even with
/// average ranks), so the p-value is exact for any n and any ties.
pub fn wilcoxon_signed_rank(differences: &[f64]) -> Option<f64> {
    let mut nonzero: Vec<f64> = differences
        .iter()
        .copied()
        .filter(|d| d.abs() > TIE)
        .collect();
    if nonzero.is_empty() {
        return None;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    // Doubled average ranks: a tie group over positions i..j (1-based i+1..=j) has rank
    // (i + 1 + j) / 2, doubled i + 1 + j.
    let n = nonzero.len();
    let mut doubled = vec![0usize; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && (nonzero[j].abs() - nonzero[i].abs()).abs() <= TIE {
            j += 1;
        }
        for r in &mut doubled[i..j] {
            *r = i + 1 + j;
        }
        i = j;
    }
    let total: usize = doubled.iter().sum();
    let observed: usize = doubled
        .iter()
        .zip(&nonzero)
        .filter(|(_, d)| **d > 0.0)
        .map(|(r, _)| *r)
        .sum();
    // counts[s] = number of sign assignments whose positive doubled-rank sum is s, as a
    // probability (divided by 2 at every rank, so it never overflows).
    let mut dist = vec![0.0f64; total + 1];
    dist[0] = 1.0;
    let mut reach = 0;
    for &r in &doubled {
        for s in (0..=reach).rev() {
            let p = dist[s] * 0.5;
            dist[s] = p;
            dist[s + r] += p;
        }
        reach += r;
    }
    let lower: f64 = dist[..=observed].iter().sum();
    let upper: f64 = dist[observed..].iter().sum();
    Some((2.0 * lower.min(upper)).min(1.0))
}

/// Two-sided exact sign test: `wins` successes out of `wins + losses` at p = ½.
pub fn sign_test(wins: usize, losses: usize) -> Option<f64> {
    let n = wins + losses;
    if n == 0 {
        return None;
    }
    let k = wins.min(losses);
    // P(X ≤ k) for X ~ Binomial(n, ½), summed in log space for large n.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose + ln_half_n).exp();
    }
    Some((2.0 * tail).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mean_and_sd_by_hand() {
        let m = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(m.mean, 5.0);
        // Sum of squares 32, n − 1 = 7.
        assert!(close(m.sd, (32.0f64 / 7.0).sqrt(), 1e-12));
        assert_eq!(mean_sd(&[3.0]).unwrap().sd, 0.0);
        assert!(mean_sd(&[]).is_none());
    }

    #[test]
    fn paired_t_interval_by_hand() {
        // d = 1..5: mean 3, sd √2.5, se √0.5; t(0.975, 4) = 2.776445105.
        let ci = t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let half = 2.776_445_105 * 0.5f64.sqrt();
        assert!(close(ci.low, 3.0 - half, 1e-6), "{ci:?}");
        assert!(close(ci.high, 3.0 + half, 1e-6), "{ci:?}");
        assert!(ci.excludes_zero());
        assert!(t_interval(&[1.0]).is_none());
    }

    #[test]
    fn wilcoxon_exact_cases_by_hand() {
        // All 5 positive: W⁺ = 15 is the largest of 32 equally likely sums → p = 2/32.
        assert!(close(
            wilcoxon_signed_rank(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap(),
            0.0625,
            1e-12
        ));
        // d = (1, −2, 3, 4, 5): W⁺ = 13; sums ≥ 13 of ranks 1..5: 15, 14 (no 1), 13 (no 2) → 3/32;
        // p = 6/32.
        assert!(close(
            wilcoxon_signed_rank(&[1.0, -2.0, 3.0, 4.0, 5.0]).unwrap(),
            0.1875,
            1e-12
        ));
        // Zeros are dropped: same as the first case with n = 5.
        assert!(close(
            wilcoxon_signed_rank(&[0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 5.0]).unwrap(),
            0.0625,
            1e-12
        ));
        // Ties: |d| = (1, 1, 2) → ranks 1.5, 1.5, 3; d = (+1, −1, +2): W⁺ = 4.5 of total 6.
        // Sign patterns (8): positive sums {0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6}; P(W⁺ ≥ 4.5) = 3/8,
        // P(W⁺ ≤ 4.5) = 7/8 → p = 6/8.
        assert!(close(
            wilcoxon_signed_rank(&[1.0, -1.0, 2.0]).unwrap(),
            0.75,
            1e-12
        ));
        assert!(wilcoxon_signed_rank(&[0.0, 0.0]).is_none());
        // Symmetric: negating every difference gives the same p.
        let d = [0.3, -0.1, 0.7, 0.2, -0.4, 0.9, 0.6];
        let neg: Vec<f64> = d.iter().map(|x| -x).collect();
        assert!(close(
            wilcoxon_signed_rank(&d).unwrap(),
            wilcoxon_signed_rank(&neg).unwrap(),
            1e-12
        ));
    }

    #[test]
    fn wilcoxon_matches_the_normal_approximation_for_large_n() {
        // 60 distinct differences, 40 positive: the exact p is close to the continuity-
        // corrected normal approximation z = (W⁺ − n(n+1)/4) / √(n(n+1)(2n+1)/24).
        let d: Vec<f64> = (1..=60)
            .map(|i| if i % 3 == 0 { -(i as f64) } else { i as f64 })
            .collect();
        let w_plus: f64 = (1..=60).filter(|i| i % 3 != 0).map(|i| i as f64).sum();
        let n = 60.0f64;
        let mu = n * (n + 1.0) / 4.0;
        let sigma = (n * (n + 1.0) * (2.0 * n + 1.0) / 24.0).sqrt();
        let z = (w_plus - mu - 0.5) / sigma;
        let normal = statrs::distribution::Normal::new(0.0, 1.0).unwrap();
        let approx = 2.0 * (1.0 - normal.cdf(z));
        let exact = wilcoxon_signed_rank(&d).unwrap();
        assert!(close(exact, approx, 0.01), "exact {exact}, normal {approx}");
    }

    #[test]
    fn sign_test_by_hand() {
        // 5 wins, 0 losses: 2 · (1/32).
        assert!(close(sign_test(5, 0).unwrap(), 0.0625, 1e-12));
        // 4 wins, 1 loss: 2 · (1 + 5)/32.
        assert!(close(sign_test(4, 1).unwrap(), 0.375, 1e-12));
        assert_eq!(sign_test(3, 3).unwrap(), 1.0);
        assert!(sign_test(0, 0).is_none());
        // Large n stays finite: 600 vs 400 is far below 0.001.
        assert!(sign_test(600, 400).unwrap() < 1e-9);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let d = [0.02, 0.05, -0.01, 0.03, 0.04, 0.00, 0.06, 0.01];
        let a = bootstrap_interval(&d, 2000, 7).unwrap();
        assert_eq!(a, bootstrap_interval(&d, 2000, 7).unwrap());
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        assert!(a.low < mean && mean < a.high, "{a:?}");
        // Narrower than the range of the data, wider than nothing.
        assert!(a.low > -0.01 && a.high < 0.06);
        // Constant differences: a point interval.
        let c = bootstrap_interval(&[0.5; 4], 100, 1).unwrap();
        assert_eq!((c.low, c.high), (0.5, 0.5));
    }

    #[test]
    fn paired_counts_wins_ties_losses() {
        let p = paired(&[0.1, 0.0, -0.2, 0.3, 0.0]).unwrap();
        assert_eq!((p.wins, p.ties, p.losses), (2, 2, 1));
        assert_eq!(p.n, 5);
        assert!(close(p.mean_difference, 0.04, 1e-12));
        assert!(close(p.sign_p.unwrap(), 1.0, 1e-12));
    }
}
