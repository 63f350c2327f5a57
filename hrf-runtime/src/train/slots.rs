//! Parameter lookup and initialisation for the training engine: resolves every slot an op needs
//! by its layout-table name once (at construction), and fills fresh arenas from the table.

use core::ops::Range;
use std::format;
use std::string::String;

use crate::plan::{ModelPlan, SlotPlan};
use crate::real::Real;

use super::TrainError;

/// A linear layer's slots: `weight: (out, in)` (any trailing dims folded into `in`), `bias: (out)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinearSlots {
    pub weight: Range<usize>,
    pub bias: Option<Range<usize>>,
    pub in_dim: usize,
    pub out_dim: usize,
}

/// A LayerNorm / BatchNorm affine pair: `gamma, beta: (width)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NormSlots {
    pub gamma: Range<usize>,
    pub beta: Range<usize>,
    pub width: usize,
}

/// Finds slots of `plan.train` by name and checks their sizes.
pub(crate) struct SlotResolver {
    pub plan: &'static ModelPlan,
}

impl SlotResolver {
    fn find(
        &self,
        slots: &'static [SlotPlan],
        table: &'static str,
        name: String,
        len: usize,
    ) -> Result<Range<usize>, TrainError> {
        let slot =
            slots
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| TrainError::MissingSlot {
                    spec: self.plan.name,
                    table,
                    slot: name.clone(),
                })?;
        if slot.len() != len {
            return Err(TrainError::SlotShape {
                spec: self.plan.name,
                slot: name,
                got: slot.len(),
                expected: len,
            });
        }
        Ok(slot.range())
    }

    /// The param slot `name` holding `len` values.
    pub fn param(&self, name: String, len: usize) -> Result<Range<usize>, TrainError> {
        self.find(self.plan.train.params, "param", name, len)
    }

    /// The buffer slot `name` holding `len` values.
    pub fn buffer(&self, name: String, len: usize) -> Result<Range<usize>, TrainError> {
        self.find(self.plan.train.buffers, "buffer", name, len)
    }

    /// Whether a param slot called `name` exists.
    pub fn has_param(&self, name: &str) -> bool {
        self.plan.train.param(name).is_some()
    }

    /// `{prefix}.weight (out, in)` and, if `bias`, `{prefix}.bias (out)`.
    pub fn linear(
        &self,
        prefix: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
    ) -> Result<LinearSlots, TrainError> {
        Ok(LinearSlots {
            weight: self.param(format!("{prefix}.weight"), in_dim * out_dim)?,
            bias: if bias {
                Some(self.param(format!("{prefix}.bias"), out_dim)?)
            } else {
                None
            },
            in_dim,
            out_dim,
        })
    }

    /// `{prefix}.gamma`, `{prefix}.beta`, both `(width)`.
    pub fn norm(&self, prefix: &str, width: usize) -> Result<NormSlots, TrainError> {
        Ok(NormSlots {
            gamma: self.param(format!("{prefix}.gamma"), width)?,
            beta: self.param(format!("{prefix}.beta"), width)?,
            width,
        })
    }
}

/// SplitMix64: a tiny seeded generator for reproducible initialisation.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`, 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Fills the params arena from the train table:
/// - `*.weight` with ≥ 2 dims (linear `(out, in)`, conv `(out, in, k)`, depthwise `(c, k)`, the
///   HRF layers included): uniform in `±1/√fan_in`, `fan_in = Π shape[1..]` (PyTorch's default
///   `kaiming_uniform_(a = √5)` bound for `nn.Linear`/`nn.Conv1d`). An HRF layer thus starts as
///   a generic random expansion, as in the HRF paper's plain initialisation;
/// - `*.gamma` = 1; every other param (biases, `*.beta`) = 0.
///
/// Each slot draws from its own stream `seed ⊕ slot index`, so adding a slot at the end of a
/// table leaves the others' values unchanged.
pub(crate) fn init_params<T: Real>(plan: &ModelPlan, params: &mut [T], seed: u64) {
    for (index, slot) in plan.train.params.iter().enumerate() {
        let values = &mut params[slot.range()];
        if slot.name.ends_with(".weight") && slot.shape.len() >= 2 {
            let fan_in: usize = slot.shape[1..].iter().product();
            let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
            let mut rng =
                SplitMix64::new(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
            for v in values {
                *v = T::from_f64(bound * rng.uniform());
            }
        } else if slot.name.ends_with(".gamma") {
            values.fill(T::ONE);
        } else {
            values.fill(T::ZERO);
        }
    }
}

/// Fills the buffers arena: BatchNorm `running_var` and CMVN `std` = 1, every other buffer
/// (running means, CMVN mean) = 0 — the identity normalisation.
pub(crate) fn init_buffers<T: Real>(plan: &ModelPlan, buffers: &mut [T]) {
    for slot in plan.train.buffers {
        let one = slot.name.ends_with(".running_var") || slot.name.ends_with(".std");
        buffers[slot.range()].fill(if one { T::ONE } else { T::ZERO });
    }
}

/// Whether AdamW's decoupled weight decay applies to a param slot: matrices and kernels
/// (`*.weight` with ≥ 2 dims), never norms or biases.
pub(crate) fn decays(slot: &SlotPlan) -> bool {
    slot.name.ends_with(".weight") && slot.shape.len() >= 2
}

/// `(ptr-disjoint)` mutable views of two non-overlapping ranges of one buffer.
pub(crate) fn two_mut<T>(buf: &mut [T], a: Range<usize>, b: Range<usize>) -> (&mut [T], &mut [T]) {
    assert!(
        a.end <= b.start || b.end <= a.start,
        "two_mut: ranges overlap"
    );
    if a.start < b.start {
        let (lo, hi) = buf.split_at_mut(b.start);
        (&mut lo[a], &mut hi[..b.end - b.start])
    } else {
        let (lo, hi) = buf.split_at_mut(a.start);
        (&mut hi[..a.end - a.start], &mut lo[b])
    }
}

/// Gradient views of a linear's weight and (optional) bias.
pub(crate) fn linear_grads<'a, T>(
    grads: &'a mut [T],
    slots: &LinearSlots,
) -> (&'a mut [T], Option<&'a mut [T]>) {
    match &slots.bias {
        Some(b) => {
            let (w, b) = two_mut(grads, slots.weight.clone(), b.clone());
            (w, Some(b))
        }
        None => (&mut grads[slots.weight.clone()], None),
    }
}
