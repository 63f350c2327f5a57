//! Built-in synthesiser, inventory: the phonemes the syllable grammar draws from, with their
//! acoustic targets for an adult male vocal tract (formant frequencies scale with the speaker's
//! vocal-tract length).
//!
//! Vowel formants follow Peterson & Barney (1952) and Klatt (1980, Table III); consonant loci and
//! frication spectra follow Klatt (1980) and Stevens (1998, *Acoustic Phonetics*).

/// How a phoneme is produced, which decides the segments it becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manner {
    Vowel,
    /// Voiced, with a nasal zero at `nasal_zero` Hz.
    Nasal,
    /// Voiced, vowel-like, with its own formant targets.
    Approximant,
    /// Noise through a resonance; `voiced` adds voicing (z, v).
    Fricative,
    /// Aspiration through the vocal tract (h).
    Aspirate,
    /// Closure, burst and (voiceless) aspiration.
    Plosive,
}

/// One phoneme's targets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phoneme {
    /// ARPAbet-like symbol, for debugging and tests.
    pub symbol: &'static str,
    pub manner: Manner,
    pub voiced: bool,
    /// F1, F2, F3 targets (Hz, adult male); for stops and fricatives, the place's locus.
    pub formants: [f64; 3],
    /// Frication (or burst) resonance: centre Hz, bandwidth Hz, amplitude (linear).
    pub frication: (f64, f64, f64),
    /// Nasal zero (Hz); 0 for oral sounds.
    pub nasal_zero: f64,
    /// Intrinsic duration, ms, at a neutral rate in a stressed syllable.
    pub duration_ms: f64,
}

const fn vowel(symbol: &'static str, f1: f64, f2: f64, f3: f64, duration_ms: f64) -> Phoneme {
    Phoneme {
        symbol,
        manner: Manner::Vowel,
        voiced: true,
        formants: [f1, f2, f3],
        frication: (0.0, 0.0, 0.0),
        nasal_zero: 0.0,
        duration_ms,
    }
}

const fn consonant(
    symbol: &'static str,
    manner: Manner,
    voiced: bool,
    formants: [f64; 3],
    frication: (f64, f64, f64),
    nasal_zero: f64,
    duration_ms: f64,
) -> Phoneme {
    Phoneme {
        symbol,
        manner,
        voiced,
        formants,
        frication,
        nasal_zero,
        duration_ms,
    }
}

/// Monophthongs (Peterson & Barney 1952, men's means; durations after Klatt 1976).
pub const VOWELS: [Phoneme; 10] = [
    vowel("iy", 270.0, 2290.0, 3010.0, 130.0),
    vowel("ih", 390.0, 1990.0, 2550.0, 95.0),
    vowel("eh", 530.0, 1840.0, 2480.0, 105.0),
    vowel("ae", 660.0, 1720.0, 2410.0, 140.0),
    vowel("aa", 730.0, 1090.0, 2440.0, 135.0),
    vowel("ao", 570.0, 840.0, 2410.0, 135.0),
    vowel("uh", 440.0, 1020.0, 2240.0, 95.0),
    vowel("uw", 300.0, 870.0, 2240.0, 125.0),
    vowel("ah", 640.0, 1190.0, 2390.0, 100.0),
    vowel("er", 490.0, 1350.0, 1690.0, 120.0),
];

/// The schwa-like centre of the vowel space, towards which unstressed and hypo-articulated
/// vowels reduce.
pub const NEUTRAL_FORMANTS: [f64; 3] = [500.0, 1500.0, 2500.0];

use Manner::{Approximant, Aspirate, Fricative, Nasal, Plosive};

/// Consonants. Plosive formants are loci (labial low F2, alveolar ~1800 Hz, velar high F2 with
/// F2–F3 close); frication centres: /s/ ~4.8 kHz, /ʃ/ ~2.6 kHz, /f θ/ weak and diffuse.
pub const CONSONANTS: [Phoneme; 21] = [
    consonant(
        "p",
        Plosive,
        false,
        [250.0, 850.0, 2200.0],
        (1500.0, 3000.0, 0.6),
        0.0,
        85.0,
    ),
    consonant(
        "b",
        Plosive,
        true,
        [250.0, 850.0, 2200.0],
        (1500.0, 3000.0, 0.4),
        0.0,
        70.0,
    ),
    consonant(
        "t",
        Plosive,
        false,
        [250.0, 1800.0, 2700.0],
        (4200.0, 1500.0, 1.0),
        0.0,
        80.0,
    ),
    consonant(
        "d",
        Plosive,
        true,
        [250.0, 1800.0, 2700.0],
        (4000.0, 1500.0, 0.7),
        0.0,
        65.0,
    ),
    consonant(
        "k",
        Plosive,
        false,
        [250.0, 2100.0, 2400.0],
        (2300.0, 800.0, 0.9),
        0.0,
        90.0,
    ),
    consonant(
        "g",
        Plosive,
        true,
        [250.0, 2100.0, 2400.0],
        (2200.0, 800.0, 0.6),
        0.0,
        70.0,
    ),
    consonant(
        "s",
        Fricative,
        false,
        [320.0, 1700.0, 2700.0],
        (4800.0, 1200.0, 0.9),
        0.0,
        110.0,
    ),
    consonant(
        "z",
        Fricative,
        true,
        [300.0, 1700.0, 2700.0],
        (4600.0, 1200.0, 0.5),
        0.0,
        85.0,
    ),
    consonant(
        "sh",
        Fricative,
        false,
        [300.0, 1850.0, 2400.0],
        (2600.0, 700.0, 0.9),
        0.0,
        115.0,
    ),
    consonant(
        "f",
        Fricative,
        false,
        [320.0, 1000.0, 2300.0],
        (6000.0, 4000.0, 0.3),
        0.0,
        105.0,
    ),
    consonant(
        "v",
        Fricative,
        true,
        [300.0, 1000.0, 2300.0],
        (6000.0, 4000.0, 0.2),
        0.0,
        70.0,
    ),
    consonant(
        "th",
        Fricative,
        false,
        [320.0, 1400.0, 2600.0],
        (5500.0, 3000.0, 0.25),
        0.0,
        100.0,
    ),
    consonant(
        "h",
        Aspirate,
        false,
        [500.0, 1500.0, 2500.0],
        (0.0, 0.0, 0.0),
        0.0,
        75.0,
    ),
    consonant(
        "m",
        Nasal,
        true,
        [280.0, 1000.0, 2200.0],
        (0.0, 0.0, 0.0),
        900.0,
        75.0,
    ),
    consonant(
        "n",
        Nasal,
        true,
        [280.0, 1600.0, 2600.0],
        (0.0, 0.0, 0.0),
        1600.0,
        65.0,
    ),
    consonant(
        "ng",
        Nasal,
        true,
        [280.0, 2000.0, 2400.0],
        (0.0, 0.0, 0.0),
        2800.0,
        80.0,
    ),
    consonant(
        "l",
        Approximant,
        true,
        [330.0, 1050.0, 2880.0],
        (0.0, 0.0, 0.0),
        0.0,
        65.0,
    ),
    consonant(
        "r",
        Approximant,
        true,
        [330.0, 1060.0, 1380.0],
        (0.0, 0.0, 0.0),
        0.0,
        70.0,
    ),
    consonant(
        "w",
        Approximant,
        true,
        [290.0, 610.0, 2150.0],
        (0.0, 0.0, 0.0),
        0.0,
        60.0,
    ),
    consonant(
        "y",
        Approximant,
        true,
        [260.0, 2070.0, 3020.0],
        (0.0, 0.0, 0.0),
        0.0,
        60.0,
    ),
    consonant(
        "ch",
        Fricative,
        false,
        [300.0, 1850.0, 2400.0],
        (2800.0, 900.0, 1.0),
        0.0,
        120.0,
    ),
];

/// Looks a phoneme up by symbol (tests and the grammar's cluster list).
pub fn by_symbol(symbol: &str) -> Option<&'static Phoneme> {
    VOWELS
        .iter()
        .chain(CONSONANTS.iter())
        .find(|p| p.symbol == symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_and_formants_ordered() {
        let all: Vec<&Phoneme> = VOWELS.iter().chain(CONSONANTS.iter()).collect();
        for (i, p) in all.iter().enumerate() {
            assert!(
                all[i + 1..].iter().all(|q| q.symbol != p.symbol),
                "{}",
                p.symbol
            );
            assert!(
                p.formants[0] < p.formants[1] && p.formants[1] < p.formants[2],
                "{}",
                p.symbol
            );
            assert_eq!(by_symbol(p.symbol).map(|q| q.symbol), Some(p.symbol));
        }
        assert!(
            CONSONANTS
                .iter()
                .filter(|c| c.manner == Manner::Nasal)
                .all(|c| c.nasal_zero > 0.0)
        );
    }
}
