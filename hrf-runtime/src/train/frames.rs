//! Packed batch geometry for the training engine: per-utterance valid frames stored back to
//! back (no padding rows), and disjoint per-utterance views that rayon tasks write in parallel.

use core::marker::PhantomData;
use core::ops::Range;
use std::vec::Vec;

/// Valid frames of every utterance at one point of the network, packed contiguously:
/// utterance `u` owns rows `offsets[u] .. offsets[u + 1]` of every `(rows, width)` activation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frames {
    /// (batch) — valid frames of each utterance.
    pub lengths: Vec<usize>,
    /// (batch + 1) — prefix sums of `lengths`.
    pub offsets: Vec<usize>,
}

impl Frames {
    /// Refills from `lengths` (reusing the allocations).
    pub fn set(&mut self, lengths: impl Iterator<Item = usize>) {
        self.lengths.clear();
        self.lengths.extend(lengths);
        self.offsets.clear();
        self.offsets.push(0);
        let mut total = 0;
        for &l in &self.lengths {
            total += l;
            self.offsets.push(total);
        }
    }

    /// Utterances.
    pub fn batch(&self) -> usize {
        self.lengths.len()
    }

    /// Σ lengths: rows of a packed activation.
    pub fn total(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// Utterance `u`'s rows.
    pub fn rows(&self, u: usize) -> Range<usize> {
        self.offsets[u]..self.offsets[u + 1]
    }
}

/// A buffer that parallel tasks write in disjoint row ranges (one utterance each).
///
/// Rayon tasks cannot each hold a `&mut` into one `Vec` through safe splitting without building
/// a list of slices every call (an allocation per step); this hands out sub-slices from a raw
/// pointer instead, and every caller passes ranges that belong to distinct utterances.
pub(crate) struct DisjointRows<'a, T> {
    ptr: *mut T,
    len: usize,
    /// Values per row.
    width: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: `DisjointRows` is a `&mut [T]` split at run time; sending it to other threads is sound
// for `T: Send` because each task only touches the rows it is given (see `rows`).
unsafe impl<T: Send> Send for DisjointRows<'_, T> {}
// SAFETY: shared access only creates slices for disjoint row ranges (contract of `rows`).
unsafe impl<T: Send> Sync for DisjointRows<'_, T> {}

impl<'a, T> DisjointRows<'a, T> {
    /// Borrows `buf`, viewed as rows of `width` values.
    pub fn new(buf: &'a mut [T], width: usize) -> Self {
        Self {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
            width,
            _borrow: PhantomData,
        }
    }

    /// Rows `rows` as a mutable slice.
    ///
    /// # Safety
    /// While the returned slice lives, no other call may return a slice overlapping `rows`
    /// (callers pass each utterance's own rows, which never overlap).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn rows(&self, rows: Range<usize>) -> &'a mut [T] {
        let (start, end) = (rows.start * self.width, rows.end * self.width);
        assert!(
            start <= end && end <= self.len,
            "DisjointRows: rows out of bounds"
        );
        // SAFETY: in bounds (asserted); exclusive by the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(start), end - start) }
    }
}

/// Resizes `buf` to `n` values set to zero; after the first (largest) batch no reallocation.
pub(crate) fn zeroed<T: crate::real::Real>(buf: &mut Vec<T>, n: usize) {
    buf.clear();
    buf.resize(n, T::ZERO);
}

/// Resizes `buf` to `n` values without caring about their contents (they get overwritten).
pub(crate) fn sized<T: crate::real::Real>(buf: &mut Vec<T>, n: usize) {
    if buf.len() != n {
        buf.resize(n, T::ZERO);
    }
}
