//! Synthetic corpus, prosody side: per-emotion rules (pitch level and range, rate, loudness) plus
//! seeded per-clip variation, rendered as an SSML `<prosody>` element for espeak-ng.
//!
//! Every rule is a multiplicative factor relative to the speaker's neutral voice. A clip's factor
//! is `rule^(intensity · expressiveness) · jitter`, computed in the log domain:
//! `ln f = level · e · ln rule + σ · z`, where `level` is 1 (normal) or 1.8 (strong), `e` is the
//! clip's expressiveness drawn uniformly from [E_MIN, E_MAX] (some takes are barely emotional),
//! and `z ~ N(0, 1)` is independent per parameter. The jitter keeps classes overlapping, as real
//! acted corpora do.

/// The emotions the corpus can hold; the first four are the default IEMOCAP-style set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Emotion {
    Neutral,
    Angry,
    Happy,
    Sad,
    Fear,
    Disgust,
}

impl Emotion {
    /// The default 4-class set (neutral, angry, happy, sad), in label order.
    pub const FOUR: [Emotion; 4] = [
        Emotion::Neutral,
        Emotion::Angry,
        Emotion::Happy,
        Emotion::Sad,
    ];
    /// The 6-class set (`--six`): the four plus fear and disgust.
    pub const ALL_SIX: [Emotion; 6] = [
        Emotion::Neutral,
        Emotion::Angry,
        Emotion::Happy,
        Emotion::Sad,
        Emotion::Fear,
        Emotion::Disgust,
    ];

    /// The manifest label.
    pub fn label(self) -> &'static str {
        match self {
            Emotion::Neutral => "neutral",
            Emotion::Angry => "angry",
            Emotion::Happy => "happy",
            Emotion::Sad => "sad",
            Emotion::Fear => "fear",
            Emotion::Disgust => "disgust",
        }
    }

    /// Three-letter code used in file and variant names.
    pub fn code(self) -> &'static str {
        match self {
            Emotion::Neutral => "neu",
            Emotion::Angry => "ang",
            Emotion::Happy => "hap",
            Emotion::Sad => "sad",
            Emotion::Fear => "fea",
            Emotion::Disgust => "dis",
        }
    }

    /// Parses a manifest label back.
    pub fn from_label(label: &str) -> Option<Emotion> {
        Emotion::ALL_SIX.into_iter().find(|e| e.label() == label)
    }

    /// Prosody directions after Murray & Arnott (1993), at normal intensity.
    fn rule(self) -> ProsodyFactors {
        let f = |pitch, range, rate, volume| ProsodyFactors {
            pitch,
            range,
            rate,
            volume,
        };
        match self {
            Emotion::Neutral => f(1.0, 1.0, 1.0, 1.0),
            // much higher pitch, much wider range, slightly faster, louder
            Emotion::Angry => f(1.16, 1.45, 1.06, 1.40),
            // much higher pitch, much wider range, faster, somewhat louder
            Emotion::Happy => f(1.22, 1.55, 1.12, 1.12),
            // slightly lower pitch, narrower range, slower, softer
            Emotion::Sad => f(0.92, 0.65, 0.84, 0.72),
            // very much higher pitch, wider range, much faster, normal loudness
            Emotion::Fear => f(1.30, 1.20, 1.22, 1.00),
            // very much lower pitch, slightly wider range, very much slower, softer
            Emotion::Disgust => f(0.86, 1.10, 0.78, 0.90),
        }
    }
}

/// How strongly an emotion is acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intensity {
    Normal,
    Strong,
}

impl Intensity {
    pub const BOTH: [Intensity; 2] = [Intensity::Normal, Intensity::Strong];

    /// 1 for normal, 2 for strong (used in names and as voice-quality steps).
    pub fn level(self) -> u8 {
        match self {
            Intensity::Normal => 1,
            Intensity::Strong => 2,
        }
    }

    /// Name used in file names.
    pub fn name(self) -> &'static str {
        match self {
            Intensity::Normal => "normal",
            Intensity::Strong => "strong",
        }
    }

    /// Exponent applied to the emotion's log-factors: strong acting exaggerates by 1.8×.
    fn exponent(self) -> f64 {
        match self {
            Intensity::Normal => 1.0,
            Intensity::Strong => 1.8,
        }
    }
}

/// Multiplicative prosody factors relative to the speaker's neutral voice (1.0 = unchanged).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProsodyFactors {
    /// Pitch level (espeak-ng's pitch parameter, which shifts F0 up from the voice's base).
    pub pitch: f64,
    /// Pitch range (the spread of the intonation contour).
    pub range: f64,
    /// Speaking rate (words per minute).
    pub rate: f64,
    /// Loudness (amplitude).
    pub volume: f64,
}

/// Expressiveness bounds: a take realises between 45% and 130% of its emotion's rule.
const E_MIN: f64 = 0.45;
const E_MAX: f64 = 1.30;

/// Per-clip log-domain jitter σ for (pitch, range, rate, volume). Volume also stands in for
/// microphone distance and gain, hence the largest spread.
const JITTER_SIGMA: [f64; 4] = [0.06, 0.18, 0.07, 0.22];

/// A small counter-based generator (SplitMix64) keyed by (seed, clip): each clip's draws depend
/// only on its own key, so clips can be synthesised in any order on any thread.
#[derive(Clone, Debug)]
pub struct ClipRng(u64);

impl ClipRng {
    /// A generator for one clip: `key` must be unique per clip within a corpus.
    pub fn new(seed: u64, key: u64) -> Self {
        // Both inputs go through the SplitMix64 finaliser first: a plain `seed ^ γ·key` start
        // puts key k + 1's stream one draw behind key k's (the state advances by γ per draw).
        let mut rng = ClipRng(mix64(seed ^ mix64(key.wrapping_add(0x632B_E59B_D9B4_E019))));
        rng.next_u64();
        rng
    }

    /// SplitMix64 (Steele, Lea & Flood 2014).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller: `z = √(−2 ln u₁) · cos(2π u₂)`, u₁ ∈ (0, 1].
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(std::f64::consts::TAU * u2)
    }
}

/// SplitMix64's output function (a bijective 64-bit mixer).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The prosody factors of one clip: the emotion rule at the clip's intensity and expressiveness,
/// times independent log-normal jitter.
pub fn clip_prosody(emotion: Emotion, intensity: Intensity, rng: &mut ClipRng) -> ProsodyFactors {
    let rule = emotion.rule();
    let expressiveness = E_MIN + (E_MAX - E_MIN) * rng.uniform();
    let strength = intensity.exponent() * expressiveness;
    let mut factor =
        |rule_factor: f64, sigma: f64| (strength * rule_factor.ln() + sigma * rng.normal()).exp();
    ProsodyFactors {
        pitch: factor(rule.pitch, JITTER_SIGMA[0]),
        range: factor(rule.range, JITTER_SIGMA[1]),
        rate: factor(rule.rate, JITTER_SIGMA[2]),
        volume: factor(rule.volume, JITTER_SIGMA[3]),
    }
}

/// Renders `text` wrapped in an SSML `<prosody>` element.
///
/// espeak-ng reads an unsigned `N%` as "N percent of the current value" and truncates it to an
/// integer, so the factors are written as whole percentages (clamped to ranges espeak-ng
/// accepts: its pitch and range parameters saturate near 2× their default of 50).
pub fn ssml(text: &str, factors: &ProsodyFactors) -> String {
    let pct = |f: f64, lo: f64, hi: f64| (100.0 * f).round().clamp(lo, hi) as u32;
    format!(
        "<speak><prosody pitch=\"{}%\" range=\"{}%\" rate=\"{}%\" volume=\"{}%\">{}</prosody></speak>",
        pct(factors.pitch, 40.0, 198.0),
        pct(factors.range, 10.0, 198.0),
        pct(factors.rate, 50.0, 200.0),
        pct(factors.volume, 20.0, 200.0),
        escape_xml(text),
    )
}

/// Escapes the characters SSML reserves in text content.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_rng_is_keyed_and_reproducible() {
        let a: Vec<u64> = (0..4).map(|_| ClipRng::new(7, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(ClipRng::new(7, 3).next_u64(), ClipRng::new(7, 4).next_u64());
        assert_ne!(ClipRng::new(7, 3).next_u64(), ClipRng::new(8, 3).next_u64());
    }

    #[test]
    fn normal_draws_have_unit_moments() {
        let mut rng = ClipRng::new(1, 0);
        let n = 20_000;
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard error of the mean is 1/√n ≈ 0.007; of the variance ≈ √(2/n) ≈ 0.01.
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
    }

    #[test]
    fn neutral_is_pure_jitter_and_emotions_follow_murray_arnott_directions() {
        // Average log-factors over many clips: the jitter averages out, the rule remains.
        let mean_log = |emotion: Emotion, intensity: Intensity| {
            let mut rng = ClipRng::new(11, emotion as u64);
            let n = 4000;
            let mut acc = [0.0f64; 4];
            for _ in 0..n {
                let p = clip_prosody(emotion, intensity, &mut rng);
                for (a, f) in acc.iter_mut().zip([p.pitch, p.range, p.rate, p.volume]) {
                    *a += f.ln() / n as f64;
                }
            }
            acc
        };
        let neutral = mean_log(Emotion::Neutral, Intensity::Normal);
        assert!(neutral.iter().all(|m| m.abs() < 0.02), "{neutral:?}");

        let angry = mean_log(Emotion::Angry, Intensity::Normal);
        let sad = mean_log(Emotion::Sad, Intensity::Normal);
        assert!(
            angry[0] > 0.05 && angry[1] > 0.1 && angry[3] > 0.1,
            "{angry:?}"
        );
        assert!(
            sad[0] < 0.0 && sad[1] < -0.1 && sad[2] < -0.05 && sad[3] < -0.1,
            "{sad:?}"
        );

        // Strong = 1.8× the normal log-factor on average: E[e] = (0.45 + 1.30)/2 = 0.875, so the
        // mean pitch log-factor is 0.875 · ln 1.22 (normal) and 1.8× that (strong) for happy.
        let happy = mean_log(Emotion::Happy, Intensity::Normal);
        let happy_strong = mean_log(Emotion::Happy, Intensity::Strong);
        let expected = 0.875 * 1.22f64.ln();
        assert!(
            (happy[0] - expected).abs() < 0.01,
            "{} vs {expected}",
            happy[0]
        );
        assert!(
            (happy_strong[0] - 1.8 * expected).abs() < 0.015,
            "{}",
            happy_strong[0]
        );
    }

    #[test]
    fn ssml_writes_whole_percentages_and_escapes_text() {
        let factors = ProsodyFactors {
            pitch: 1.204,
            range: 0.5,
            rate: 3.0,
            volume: 1.0,
        };
        assert_eq!(
            ssml("Salt & pepper <now>", &factors),
            "<speak><prosody pitch=\"120%\" range=\"50%\" rate=\"200%\" volume=\"100%\">\
             Salt &amp; pepper &lt;now&gt;</prosody></speak>"
        );
    }

    #[test]
    fn labels_round_trip() {
        for e in Emotion::ALL_SIX {
            assert_eq!(Emotion::from_label(e.label()), Some(e));
        }
        assert_eq!(Emotion::from_label("bored"), None);
    }
}
