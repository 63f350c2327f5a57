//! Built-in synthesiser, text side: a seeded syllable grammar that writes the corpus's
//! "sentences" (pseudo-words, not meant to be intelligible): sentence → phrases → words →
//! CV/CVC/CCV(C) syllables, with lexical stress and a nuclear accent per phrase.

use super::super::prosody::ClipRng;
use super::phonemes::{CONSONANTS, Phoneme, VOWELS, by_symbol};

/// One syllable: onset consonants, the vowel nucleus, coda consonants.
#[derive(Clone, Debug, PartialEq)]
pub struct Syllable {
    pub onset: Vec<&'static Phoneme>,
    pub nucleus: &'static Phoneme,
    pub coda: Vec<&'static Phoneme>,
    /// Carries the word's lexical stress.
    pub stressed: bool,
    /// Carries a pitch accent (stressed syllables only; the phrase's last one always does).
    pub accented: bool,
}

/// A phrase: the syllables of its words, with the word boundaries.
#[derive(Clone, Debug, PartialEq)]
pub struct Phrase {
    pub syllables: Vec<Syllable>,
    /// Index of the first syllable of each word.
    pub word_starts: Vec<usize>,
}

/// A sentence: phrases separated by pauses; the last one ends in a terminal fall.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentence {
    pub phrases: Vec<Phrase>,
}

impl Sentence {
    /// Total syllables.
    pub fn syllables(&self) -> usize {
        self.phrases.iter().map(|p| p.syllables.len()).sum()
    }

    /// The phoneme symbols, words joined by `-`, phrases by ` | ` (for tests and debugging).
    pub fn transcription(&self) -> String {
        let mut out = Vec::new();
        for phrase in &self.phrases {
            let mut words = Vec::new();
            for (w, &start) in phrase.word_starts.iter().enumerate() {
                let end = phrase
                    .word_starts
                    .get(w + 1)
                    .copied()
                    .unwrap_or(phrase.syllables.len());
                let word: Vec<String> = phrase.syllables[start..end]
                    .iter()
                    .map(|s| {
                        let mark = if s.stressed { "'" } else { "" };
                        let sym = |p: &[&Phoneme]| p.iter().map(|p| p.symbol).collect::<String>();
                        format!(
                            "{mark}{}{}{}",
                            sym(&s.onset),
                            s.nucleus.symbol,
                            sym(&s.coda)
                        )
                    })
                    .collect();
                words.push(word.join("."));
            }
            out.push(words.join(" "));
        }
        out.join(" | ")
    }
}

/// Two-consonant onsets (English-like).
const ONSET_CLUSTERS: [&str; 20] = [
    "p l", "p r", "b l", "b r", "t r", "d r", "k l", "k r", "g l", "g r", "f l", "f r", "s p",
    "s t", "s k", "s m", "s n", "s l", "s w", "k w",
];
/// Two-consonant codas.
const CODA_CLUSTERS: [&str; 6] = ["s t", "n d", "n t", "k s", "m p", "l d"];
/// Single codas.
const CODAS: [&str; 12] = ["n", "m", "ng", "t", "d", "k", "s", "z", "l", "r", "p", "f"];

/// Syllables per sentence, inclusive bounds.
pub const SYLLABLES: (usize, usize) = (8, 16);

fn pick<'a, T>(rng: &mut ClipRng, items: &'a [T]) -> &'a T {
    let i = (rng.uniform() * items.len() as f64) as usize;
    &items[i.min(items.len() - 1)]
}

fn cluster(spec: &str) -> Vec<&'static Phoneme> {
    spec.split(' ').filter_map(by_symbol).collect()
}

fn syllable(rng: &mut ClipRng, word_initial: bool) -> Syllable {
    let u = rng.uniform();
    // Onsetless syllables only open words (no vowel hiatus inside a word).
    let onset = if word_initial && u < 0.15 {
        Vec::new()
    } else if u < 0.8 {
        // Any consonant but /ŋ/ may open a syllable.
        let onsets: Vec<&'static Phoneme> =
            CONSONANTS.iter().filter(|c| c.symbol != "ng").collect();
        vec![*pick(rng, &onsets)]
    } else {
        cluster(pick::<&str>(rng, &ONSET_CLUSTERS))
    };
    let nucleus = pick(rng, &VOWELS);
    let v = rng.uniform();
    let coda = if v < 0.5 {
        Vec::new()
    } else if v < 0.9 {
        cluster(pick::<&str>(rng, &CODAS))
    } else {
        cluster(pick::<&str>(rng, &CODA_CLUSTERS))
    };
    Syllable {
        onset,
        nucleus,
        coda,
        stressed: false,
        accented: false,
    }
}

/// A word of `n` syllables, stressed on the first (70%) or second syllable.
fn word(rng: &mut ClipRng, n: usize) -> Vec<Syllable> {
    let mut syllables: Vec<Syllable> = (0..n).map(|i| syllable(rng, i == 0)).collect();
    let stress = if n > 1 && rng.uniform() < 0.3 { 1 } else { 0 };
    syllables[stress].stressed = true;
    syllables
}

/// The sentence for `rng` (seeded by corpus seed, session and sentence number): 8–16 syllables
/// in one to three phrases of words of one to three syllables.
pub fn sentence(rng: &mut ClipRng) -> Sentence {
    let total = SYLLABLES.0 + (rng.uniform() * (SYLLABLES.1 - SYLLABLES.0 + 1) as f64) as usize;
    let total = total.min(SYLLABLES.1);
    let phrases = match total {
        0..=9 => 1 + usize::from(rng.uniform() < 0.3),
        10..=13 => 2,
        _ => 2 + usize::from(rng.uniform() < 0.5),
    };
    // Split `total` into `phrases` parts of at least 3 syllables.
    let mut sizes = vec![3; phrases];
    for _ in 0..total - 3 * phrases {
        let i = (rng.uniform() * phrases as f64) as usize;
        sizes[i.min(phrases - 1)] += 1;
    }
    let phrases = sizes
        .into_iter()
        .map(|size| {
            let mut syllables = Vec::new();
            let mut word_starts = Vec::new();
            while syllables.len() < size {
                let left = size - syllables.len();
                let n = (1 + (rng.uniform() * 3.0) as usize).min(3).min(left);
                word_starts.push(syllables.len());
                syllables.extend(word(rng, n));
            }
            // Pitch accents: about half the stressed syllables, and always the last (nuclear).
            let stressed: Vec<usize> = (0..syllables.len())
                .filter(|&i| syllables[i].stressed)
                .collect();
            for &i in &stressed {
                syllables[i].accented = rng.uniform() < 0.5;
            }
            if let Some(&last) = stressed.last() {
                syllables[last].accented = true;
            }
            Phrase {
                syllables,
                word_starts,
            }
        })
        .collect();
    Sentence { phrases }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_seeded_and_within_bounds() {
        let a = sentence(&mut ClipRng::new(1, 42));
        assert_eq!(a, sentence(&mut ClipRng::new(1, 42)));
        assert_ne!(a, sentence(&mut ClipRng::new(1, 43)));
        for key in 0..300 {
            let s = sentence(&mut ClipRng::new(9, key));
            assert!(
                (SYLLABLES.0..=SYLLABLES.1).contains(&s.syllables()),
                "{}",
                s.transcription()
            );
            for phrase in &s.phrases {
                assert!(phrase.syllables.len() >= 3);
                assert_eq!(phrase.word_starts[0], 0);
                let words = phrase.word_starts.len();
                let stressed = phrase.syllables.iter().filter(|x| x.stressed).count();
                assert_eq!(
                    stressed,
                    words,
                    "one stress per word: {}",
                    s.transcription()
                );
                assert!(phrase.syllables.iter().any(|x| x.accented));
                assert!(phrase.syllables.iter().all(|x| x.stressed || !x.accented));
            }
        }
    }
}
