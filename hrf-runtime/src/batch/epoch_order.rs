//! Training input: the seeded order in which an epoch visits the dataset's utterances.

use std::vec::Vec;

use super::BatchError;

/// The batches of one epoch: utterance indices `0..n` in a seeded random order, cut into
/// batches of `batch_size` (the last one may be smaller). The order depends only on
/// `(seed, epoch)`, so a resumed run sees the same batches.
pub fn epoch_batches(
    n: usize,
    batch_size: usize,
    seed: u64,
    epoch: u64,
) -> Result<Vec<Vec<usize>>, BatchError> {
    if batch_size == 0 {
        return Err(BatchError::BatchSize);
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64(seed ^ epoch.wrapping_mul(0xD1B5_4A32_D192_ED03));
    // Fisher–Yates: position i swaps with a uniform j ≤ i (multiply-shift, bias < 2⁻³²).
    for i in (1..n).rev() {
        let j = ((rng.next() >> 32) * (i as u64 + 1)) >> 32;
        order.swap(i, j as usize);
    }
    Ok(order.chunks(batch_size).map(<[usize]>::to_vec).collect())
}

/// SplitMix64 (Steele et al.): a tiny, seedable, portable generator for the epoch order.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_batches_are_a_seeded_permutation() {
        let a = epoch_batches(10, 4, 42, 0).unwrap();
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(
            a,
            epoch_batches(10, 4, 42, 0).unwrap(),
            "same seed and epoch, same order"
        );
        assert_ne!(
            a.concat(),
            epoch_batches(10, 4, 42, 1).unwrap().concat(),
            "new epoch, new order"
        );
        assert_ne!(
            a.concat(),
            epoch_batches(10, 4, 43, 0).unwrap().concat(),
            "new seed, new order"
        );
        assert_ne!(a.concat(), (0..10).collect::<Vec<_>>(), "shuffled");
        assert_eq!(epoch_batches(0, 4, 1, 0).unwrap(), Vec::<Vec<usize>>::new());
        assert_eq!(epoch_batches(3, 0, 1, 0), Err(BatchError::BatchSize));
    }
}
