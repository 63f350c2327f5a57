//! Built-in synthesiser, filters: Klatt's (1980) second-order digital resonator and
//! anti-resonator, plus the one-pole spectral-tilt filter of the glottal source.
//!
//! Resonator with centre frequency `F` and bandwidth `BW` at sample period `T`:
//! `C = −e^{−2π·BW·T}`, `B = 2·e^{−π·BW·T}·cos(2π·F·T)`, `A = 1 − B − C`, and
//! `y[n] = A·x[n] + B·y[n−1] + C·y[n−2]` (unit gain at 0 Hz). The anti-resonator is its inverse,
//! `y[n] = A'·x[n] + B'·x[n−1] + C'·x[n−2]` with `A' = 1/A`, `B' = −B/A`, `C' = −C/A`.
//! Coefficients use `libm`, so every machine computes the same bits.

use core::f64::consts::PI;

/// Klatt's resonator: state and coefficients; [`Resonator::set`] may be called between
/// samples (the state carries over, so parameter changes are click-free).
#[derive(Clone, Copy, Debug, Default)]
pub struct Resonator {
    a: f64,
    b: f64,
    c: f64,
    y1: f64,
    y2: f64,
}

/// Coefficients `(A, B, C)` of a resonator at `freq` Hz with `bandwidth` Hz, `sample_rate` Hz.
fn coefficients(freq: f64, bandwidth: f64, sample_rate: f64) -> (f64, f64, f64) {
    let t = 1.0 / sample_rate;
    let c = -libm::exp(-2.0 * PI * bandwidth * t);
    let b = 2.0 * libm::exp(-PI * bandwidth * t) * libm::cos(2.0 * PI * freq * t);
    (1.0 - b - c, b, c)
}

impl Resonator {
    /// Sets centre frequency and bandwidth (Hz).
    pub fn set(&mut self, freq: f64, bandwidth: f64, sample_rate: f64) {
        (self.a, self.b, self.c) = coefficients(freq, bandwidth, sample_rate);
    }

    /// One sample through the resonator.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Klatt's anti-resonator (a pair of zeros): the nasal zero of the cascade branch.
#[derive(Clone, Copy, Debug, Default)]
pub struct AntiResonator {
    a: f64,
    b: f64,
    c: f64,
    x1: f64,
    x2: f64,
}

impl AntiResonator {
    /// Sets the zero's frequency and bandwidth (Hz).
    pub fn set(&mut self, freq: f64, bandwidth: f64, sample_rate: f64) {
        let (a, b, c) = coefficients(freq, bandwidth, sample_rate);
        (self.a, self.b, self.c) = (1.0 / a, -b / a, -c / a);
    }

    /// One sample through the anti-resonator.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.x1 + self.c * self.x2;
        self.x2 = self.x1;
        self.x1 = x;
        y
    }
}

/// One-pole low-pass `y[n] = (1 − a)·x[n] + a·y[n−1]`: the extra spectral tilt of the source
/// (Klatt's TL). `a` is chosen so the attenuation at 3 kHz is `tilt_db`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tilt {
    a: f64,
    y1: f64,
}

impl Tilt {
    /// Sets the attenuation at 3 kHz, in dB (0 = flat).
    ///
    /// |H(f)|² = (1−a)² / (1 − 2a·cos ω + a²), normalised to 1 at DC; solving |H(3 kHz)|² = g²
    /// for `a` gives the root of `(1 − g²)·a² − 2(1 − g²·cos ω)·a + (1 − g²) = 0` in [0, 1).
    pub fn set(&mut self, tilt_db: f64, sample_rate: f64) {
        let tilt_db = tilt_db.max(0.0);
        if tilt_db < 1e-6 {
            self.a = 0.0;
            return;
        }
        let g2 = libm::pow(10.0, -tilt_db / 10.0);
        let cos_w = libm::cos(2.0 * PI * 3000.0 / sample_rate);
        let p = 1.0 - g2;
        let q = 1.0 - g2 * cos_w;
        // a = (q − √(q² − p²)) / p, the root below 1.
        self.a = (q - (q * q - p * p).max(0.0).sqrt()) / p;
    }

    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        let y = (1.0 - self.a) * x + self.a * self.y1;
        self.y1 = y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |H(e^{jω})| of the resonator, from its coefficients.
    fn gain(r: &Resonator, freq: f64, sr: f64) -> f64 {
        let w = 2.0 * PI * freq / sr;
        // H = A / (1 − B z⁻¹ − C z⁻²)
        let re = 1.0 - r.b * w.cos() - r.c * (2.0 * w).cos();
        let im = r.b * w.sin() + r.c * (2.0 * w).sin();
        r.a / (re * re + im * im).sqrt()
    }

    #[test]
    fn resonator_has_unit_dc_gain_and_peaks_at_its_frequency() {
        let sr = 16_000.0;
        let mut r = Resonator::default();
        r.set(700.0, 80.0, sr);
        assert!((gain(&r, 0.0, sr) - 1.0).abs() < 1e-12);
        let peak = (1..8000)
            .map(|f| f as f64)
            .max_by(|a, b| gain(&r, *a, sr).total_cmp(&gain(&r, *b, sr)))
            .unwrap_or(0.0);
        assert!((peak - 700.0).abs() < 10.0, "peak at {peak}");
        // −3 dB points about BW apart.
        let half = gain(&r, peak, sr) / 2f64.sqrt();
        let above: Vec<f64> = (1..8000)
            .map(|f| f as f64)
            .filter(|&f| gain(&r, f, sr) >= half)
            .collect();
        let width = above.last().unwrap_or(&0.0) - above.first().unwrap_or(&0.0);
        assert!((width - 80.0).abs() < 8.0, "bandwidth {width}");
    }

    #[test]
    fn anti_resonator_inverts_the_resonator() {
        let sr = 16_000.0;
        let (mut r, mut z) = (Resonator::default(), AntiResonator::default());
        r.set(1200.0, 150.0, sr);
        z.set(1200.0, 150.0, sr);
        let mut state = 1u64;
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let y = z.step(r.step(x));
            assert!((y - x).abs() < 1e-9, "{x} → {y}");
        }
    }

    #[test]
    fn tilt_attenuates_3khz_by_the_requested_db() {
        let sr = 16_000.0;
        for db in [3.0, 10.0, 24.0] {
            let mut t = Tilt::default();
            t.set(db, sr);
            let w = 2.0 * PI * 3000.0 / sr;
            let h2 = (1.0 - t.a).powi(2) / (1.0 - 2.0 * t.a * w.cos() + t.a * t.a);
            let got = -10.0 * h2.log10();
            assert!((got - db).abs() < 1e-6, "{db} dB → {got}");
        }
    }
}
