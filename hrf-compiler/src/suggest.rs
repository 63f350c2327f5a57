//! "Did you mean …?" for diagnostics: the closest known word by Levenshtein edit distance.

/// Optimal-string-alignment edit distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters (`haeds` → `heads` is 1). `dist[i][j]` = distance of `a[..i]`, `b[..j]`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut dist = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in dist.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in dist[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (dist[i - 1][j] + 1)
                .min(dist[i][j - 1] + 1)
                .min(dist[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(dist[i - 2][j - 2] + 1);
            }
            dist[i][j] = d;
        }
    }
    dist[a.len()][b.len()]
}

/// The candidate closest to `word`, if within a third of the word's length (rounded up, ≥ 1).
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = word.chars().count().div_ceil(3).max(1);
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
        assert_eq!(edit_distance("haeds", "heads"), 1);
        assert_eq!(edit_distance("ca", "abc"), 3);
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(closest("head", &["heads", "window"]), Some("heads"));
        assert_eq!(closest("swich", &["relu", "swish", "gelu"]), Some("swish"));
        assert_eq!(closest("banana", &["relu", "swish", "gelu"]), None);
    }
}
