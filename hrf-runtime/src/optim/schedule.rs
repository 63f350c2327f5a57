//! Training step: the learning rate for each optimizer step (linear warmup, then cosine decay).
//!
//! With `W` warmup steps, `T` total steps, peak rate `η` and floor `η_min`, the rate for the
//! 0-based step `s` (the step about to be taken) is
//!
//! ```text
//! s < W:       η · (s + 1) / W                                   (the first step is not wasted at 0)
//! W ≤ s < T:   η_min + (η − η_min) · ½ · (1 + cos(π · (s − W) / (T − W)))
//! s ≥ T:       η_min
//! ```
//!
//! so the last warmup step reaches `η`, the cosine starts at `η` and reaches `η_min` at `s = T`.

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error("LR schedule: peak_lr = {peak_lr} must be finite and > 0")]
    Peak { peak_lr: f64 },
    #[error("LR schedule: floor_lr = {floor_lr} must be in [0, peak_lr = {peak_lr}]")]
    Floor { floor_lr: f64, peak_lr: f64 },
    #[error(
        "LR schedule: warmup_steps = {warmup_steps} must be ≤ total_steps = {total_steps}, and \
         total_steps must be > 0; lower the warmup or train longer"
    )]
    Steps { warmup_steps: u64, total_steps: u64 },
}

/// Linear warmup to `peak_lr`, then cosine decay to `floor_lr` at `total_steps`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmupCosine {
    peak_lr: f64,
    floor_lr: f64,
    warmup_steps: u64,
    total_steps: u64,
}

impl WarmupCosine {
    /// Checks `0 ≤ floor_lr ≤ peak_lr`, `peak_lr > 0` and `warmup_steps ≤ total_steps > 0`.
    pub fn new(
        peak_lr: f64,
        floor_lr: f64,
        warmup_steps: u64,
        total_steps: u64,
    ) -> Result<Self, ScheduleError> {
        if !(peak_lr.is_finite() && peak_lr > 0.0) {
            return Err(ScheduleError::Peak { peak_lr });
        }
        if !(floor_lr >= 0.0 && floor_lr <= peak_lr) {
            return Err(ScheduleError::Floor { floor_lr, peak_lr });
        }
        if total_steps == 0 || warmup_steps > total_steps {
            return Err(ScheduleError::Steps {
                warmup_steps,
                total_steps,
            });
        }
        Ok(WarmupCosine {
            peak_lr,
            floor_lr,
            warmup_steps,
            total_steps,
        })
    }

    /// The learning rate for 0-based step `step` (see the module docs for the formula).
    pub fn lr(&self, step: u64) -> f32 {
        let WarmupCosine {
            peak_lr,
            floor_lr,
            warmup_steps,
            total_steps,
        } = *self;
        let rate = if step < warmup_steps {
            peak_lr * (step + 1) as f64 / warmup_steps as f64
        } else if step < total_steps {
            let progress = (step - warmup_steps) as f64 / (total_steps - warmup_steps) as f64;
            floor_lr + (peak_lr - floor_lr) * 0.5 * (1.0 + (core::f64::consts::PI * progress).cos())
        } else {
            floor_lr
        };
        rate as f32
    }

    /// Total number of steps the schedule was built for.
    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f32 rounding of rates around 1e-3.
    const LR_TOL: f32 = 1e-9;

    fn close(got: f32, want: f64) -> bool {
        (got as f64 - want).abs() <= LR_TOL as f64
    }

    #[test]
    fn warmup_cosine_matches_hand_values() {
        // η = 1e-3, η_min = 1e-5, W = 10, T = 110 (so the cosine spans 100 steps).
        let s = WarmupCosine::new(1e-3, 1e-5, 10, 110).unwrap();
        // step 0: 1e-3 · 1/10 = 1e-4
        assert!(close(s.lr(0), 1e-4), "{}", s.lr(0));
        // mid-warmup, step 4: 1e-3 · 5/10 = 5e-4
        assert!(close(s.lr(4), 5e-4), "{}", s.lr(4));
        // end of warmup, step 9: 1e-3 · 10/10 = 1e-3; step 10 starts the cosine at cos 0 = 1
        assert!(close(s.lr(9), 1e-3), "{}", s.lr(9));
        assert!(close(s.lr(10), 1e-3), "{}", s.lr(10));
        // middle of the cosine, step 60: progress ½, cos(π/2) = 0 → 1e-5 + 0.99e-3 · ½ = 5.05e-4
        assert!(close(s.lr(60), 5.05e-4), "{}", s.lr(60));
        // a quarter in, step 35: 1e-5 + 0.99e-3 · ½(1 + cos(π/4)) = 1e-5 + 0.99e-3 · 0.853553390
        assert!(
            close(s.lr(35), 1e-5 + 0.99e-3 * 0.853_553_390_593),
            "{}",
            s.lr(35)
        );
        // last step, 109: progress 0.99, ½(1 + cos(0.99π)) = 2.4671981e-4
        assert!(
            close(s.lr(109), 1e-5 + 0.99e-3 * 2.467_198_171e-4),
            "{}",
            s.lr(109)
        );
        // end and beyond: the floor
        assert!(close(s.lr(110), 1e-5) && close(s.lr(10_000), 1e-5));
    }

    #[test]
    fn no_warmup_starts_at_peak_and_decays_monotonically() {
        let s = WarmupCosine::new(0.1, 0.0, 0, 50).unwrap();
        assert_eq!(s.lr(0), 0.1);
        let rates: Vec<f32> = (0..=50).map(|i| s.lr(i)).collect();
        assert!(rates.windows(2).all(|w| w[1] <= w[0]), "{rates:?}");
        assert_eq!(s.lr(50), 0.0);
    }

    #[test]
    fn invalid_schedules_are_errors() {
        assert_eq!(
            WarmupCosine::new(1e-3, 0.0, 20, 10)
                .unwrap_err()
                .to_string(),
            "LR schedule: warmup_steps = 20 must be ≤ total_steps = 10, and total_steps must be \
             > 0; lower the warmup or train longer"
        );
        assert!(matches!(
            WarmupCosine::new(0.0, 0.0, 0, 10),
            Err(ScheduleError::Peak { .. })
        ));
        assert!(matches!(
            WarmupCosine::new(1e-3, 2e-3, 0, 10),
            Err(ScheduleError::Floor { .. })
        ));
        assert!(matches!(
            WarmupCosine::new(1e-3, f64::NAN, 0, 10),
            Err(ScheduleError::Floor { .. })
        ));
        assert!(matches!(
            WarmupCosine::new(1e-3, 0.0, 0, 0),
            Err(ScheduleError::Steps { .. })
        ));
    }
}
