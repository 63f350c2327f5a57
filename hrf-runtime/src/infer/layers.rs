//! Folded inference, storage: the `#[repr(C)]` layer types a generated `<Name>Folded` struct is
//! made of, and the [`F32Arena`] view that lets the plan-driven executor read such a struct as
//! the one flat folded arena (`plan.folded` params, then buffers).
//!
//! Every type is `#[repr(C)]` over `f32` arrays only, with its fields in the folded layout
//! table's slot order (`weight`, `bias`, …), so a struct of these types has no padding and its
//! bytes are exactly the arena's `f32`s.

/// `y = x·Wᵀ + b`: `weight: (O, I)` row-major (`{name}.weight`), `bias: (O)` (`{name}.bias`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear<const I: usize, const O: usize> {
    /// (O, I)
    pub weight: [[f32; I]; O],
    /// (O)
    pub bias: [f32; O],
}

/// Conv1d over time: `weight: (CO, CI, K)` (PyTorch `Conv1d.weight`), `bias: (CO)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv1d<const CI: usize, const CO: usize, const K: usize> {
    /// (CO, CI, K)
    pub weight: [[[f32; K]; CI]; CO],
    /// (CO)
    pub bias: [f32; CO],
}

/// The first frontend conv with the feature statistics (CMVN) folded in, reading raw log-Mel
/// frames. `edge_bias: (CO, K)` is `e[co][kk] = Σ_ci W[co][ci][kk]·μ_ci/σ_ci`, added back for
/// every tap that reads the zero padding (see `fold::feature_stats_into_input`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputConv1d<const CI: usize, const CO: usize, const K: usize> {
    /// (CO, CI, K) — `W/σ` per input channel.
    pub weight: [[[f32; K]; CI]; CO],
    /// (CO) — `b − Σ_kk e[·][kk]`.
    pub bias: [f32; CO],
    /// (CO, K)
    pub edge_bias: [[f32; K]; CO],
}

/// Depthwise conv (Conformer conv module) with the BatchNorm folded in: `weight: (C, K)`,
/// `bias: (C)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseConv1d<const C: usize, const K: usize> {
    /// (C, K)
    pub weight: [[f32; K]; C],
    /// (C)
    pub bias: [f32; C],
}

/// A LayerNorm whose affine could not be folded (a Conformer block's closing norm feeding the
/// next block): `gamma, beta: (D)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm<const D: usize> {
    /// (D)
    pub gamma: [f32; D],
    /// (D)
    pub beta: [f32; D],
}

/// Feature statistics kept as such (only when no conv follows to fold them into):
/// `x̂ = (x − mean)/std`, both `(F)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeatureNorm<const F: usize> {
    /// (F)
    pub mean: [f32; F],
    /// (F)
    pub std: [f32; F],
}

/// A value that is, byte for byte, a flat array of `f32`s.
///
/// # Safety
/// Implement only for `#[repr(C)]` types made solely of `f32`, `f32` arrays and the layer types
/// of this module (no padding, no other field types), so that every byte is part of an `f32`
/// and every bit pattern is a valid value. Generated `<Name>Folded` and `<Name>Scratch` structs
/// implement it and assert their size and field offsets at compile time.
pub unsafe trait F32Arena: Sized {
    /// The value as `size_of::<Self>() / 4` `f32`s.
    fn as_f32s(&self) -> &[f32] {
        // SAFETY: by the trait's contract `Self` is a padding-free sequence of `f32`s, whose
        // alignment (4) `Self`'s alignment is at least.
        unsafe {
            core::slice::from_raw_parts(
                (self as *const Self).cast::<f32>(),
                core::mem::size_of::<Self>() / 4,
            )
        }
    }

    /// Mutable [`F32Arena::as_f32s`].
    fn as_f32s_mut(&mut self) -> &mut [f32] {
        // SAFETY: as `as_f32s`; every bit pattern is a valid `f32`, so any write keeps `Self`
        // valid.
        unsafe {
            core::slice::from_raw_parts_mut(
                (self as *mut Self).cast::<f32>(),
                core::mem::size_of::<Self>() / 4,
            )
        }
    }
}

// SAFETY: each is `#[repr(C)]` over `f32` arrays only.
unsafe impl<const I: usize, const O: usize> F32Arena for Linear<I, O> {}
// SAFETY: as above.
unsafe impl<const CI: usize, const CO: usize, const K: usize> F32Arena for Conv1d<CI, CO, K> {}
// SAFETY: as above.
unsafe impl<const CI: usize, const CO: usize, const K: usize> F32Arena for InputConv1d<CI, CO, K> {}
// SAFETY: as above.
unsafe impl<const C: usize, const K: usize> F32Arena for DepthwiseConv1d<C, K> {}
// SAFETY: as above.
unsafe impl<const D: usize> F32Arena for LayerNorm<D> {}
// SAFETY: as above.
unsafe impl<const F: usize> F32Arena for FeatureNorm<F> {}
// SAFETY: an array of `f32`.
unsafe impl<const N: usize> F32Arena for [f32; N] {}

#[cfg(feature = "std")]
pub use boxed::{ArenaLenError, boxed_from_f32s, boxed_zeroed};

#[cfg(feature = "std")]
mod boxed {
    use super::F32Arena;
    use std::alloc::{Layout, alloc_zeroed, handle_alloc_error};
    use std::boxed::Box;

    /// A flat arena does not have the length of the type it should fill.
    #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
    #[error(
        "the folded weights have {got} f32s but `{type_name}` needs exactly {expected}; \
         fold or export them with the spec this model was generated from"
    )]
    pub struct ArenaLenError {
        pub type_name: &'static str,
        pub expected: usize,
        pub got: usize,
    }

    /// A zeroed `T` allocated directly on the heap (no stack temporary, so multi-megabyte
    /// scratch and weight structs work on small stacks).
    pub fn boxed_zeroed<T: F32Arena>() -> Box<T> {
        let layout = Layout::new::<T>();
        if layout.size() == 0 {
            // SAFETY: a zero-sized `T` made of `f32`s has exactly one value; a dangling,
            // aligned pointer is a valid `Box` of it.
            return unsafe { Box::from_raw(core::ptr::NonNull::<T>::dangling().as_ptr()) };
        }
        // SAFETY: `layout` has a non-zero size; all-zero bits are `0.0f32` everywhere, a valid
        // `T` by the `F32Arena` contract; the pointer comes from the global allocator with
        // `T`'s layout, as `Box` requires.
        unsafe {
            let ptr = alloc_zeroed(layout).cast::<T>();
            if ptr.is_null() {
                handle_alloc_error(layout);
            }
            Box::from_raw(ptr)
        }
    }

    /// Copies the flat arena `weights` into a new heap `T` (no stack copy).
    ///
    /// # Errors
    /// [`ArenaLenError`] when `weights.len()` is not `size_of::<T>() / 4`.
    pub fn boxed_from_f32s<T: F32Arena>(weights: &[f32]) -> Result<Box<T>, ArenaLenError> {
        let expected = core::mem::size_of::<T>() / 4;
        if weights.len() != expected {
            return Err(ArenaLenError {
                type_name: core::any::type_name::<T>(),
                expected,
                got: weights.len(),
            });
        }
        let mut value = boxed_zeroed::<T>();
        value.as_f32s_mut().copy_from_slice(weights);
        Ok(value)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Debug)]
    struct Tiny {
        conv: InputConv1d<2, 3, 2>,
        dw: DepthwiseConv1d<3, 2>,
        head: Linear<3, 2>,
    }
    // SAFETY: `#[repr(C)]` of layer types only.
    unsafe impl F32Arena for Tiny {}

    #[test]
    fn layer_types_are_their_slots_in_table_order() {
        // weight (3·2·2 = 12), bias 3, edge_bias (3·2 = 6); dw 6 + 3; head 6 + 2.
        assert_eq!(core::mem::size_of::<Tiny>(), 4 * (12 + 3 + 6 + 9 + 8));
        let w: std::vec::Vec<f32> = (0..38).map(|i| i as f32).collect();
        let t = boxed_from_f32s::<Tiny>(&w).unwrap();
        assert_eq!(t.conv.weight[1][0][1], 5.0); // (co 1, ci 0, k 1) = 1·4 + 0·2 + 1
        assert_eq!(t.conv.bias, [12.0, 13.0, 14.0]);
        assert_eq!(t.conv.edge_bias[2], [19.0, 20.0]);
        assert_eq!(t.dw.bias, [27.0, 28.0, 29.0]);
        assert_eq!(t.head.weight[1], [33.0, 34.0, 35.0]);
        assert_eq!(t.head.bias, [36.0, 37.0]);
        assert_eq!(t.as_f32s(), &w[..]);
        let err = boxed_from_f32s::<Tiny>(&w[..37]).unwrap_err();
        assert_eq!((err.expected, err.got), (38, 37));
        assert!(boxed_zeroed::<Tiny>().as_f32s().iter().all(|&v| v == 0.0));
    }
}
