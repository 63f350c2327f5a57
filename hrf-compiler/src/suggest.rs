//! "Did you mean …?" for diagnostics: the closest known word by Levenshtein edit distance.

/// Edit distance (insertions, deletions, substitutions), one row of the DP table at a time:
/// `row[j]` = distance between `a[..i]` and `b[..j]`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The candidate closest to `word`, if it is within a third of the word's length (at least 1).
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&word.to_lowercase(), c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("heads", "heads"), 0);
        assert_eq!(edit_distance("haeds", "heads"), 2);
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(closest("head", &["heads", "window"]), Some("heads"));
        assert_eq!(closest("swich", &["relu", "swish", "gelu"]), Some("swish"));
        assert_eq!(closest("banana", &["relu", "swish", "gelu"]), None);
    }
}
