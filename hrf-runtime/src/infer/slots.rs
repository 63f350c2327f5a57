//! Folded inference, weight access: a cursor that hands the executor each folded slot's values
//! in table order, checking the slot's name and length against what the op list expects.

use super::InputError;
use crate::plan::SlotPlan;

/// A cursor over one slot list of the folded table, handing out each slot's values in order
/// after checking its name and length.
pub(crate) struct Slots<'w> {
    slots: &'static [SlotPlan],
    next: usize,
    arena: &'w [f32],
    base: usize,
}

impl<'w> Slots<'w> {
    pub(crate) fn new(slots: &'static [SlotPlan], arena: &'w [f32], base: usize) -> Self {
        Slots {
            slots,
            next: 0,
            arena,
            base,
        }
    }

    /// Whether the next slot is `{layer}.{part}`.
    pub(crate) fn next_is(&self, layer: &str, part: &str) -> bool {
        self.slots.get(self.next).is_some_and(|s| {
            let name = s.name;
            name.len() == layer.len() + 1 + part.len()
                && name.starts_with(layer)
                && name.ends_with(part)
                && name.as_bytes()[layer.len()] == b'.'
        })
    }

    /// The values of the next slot, which must be `{layer}.{part}` with `len` values.
    pub(crate) fn take(
        &mut self,
        layer: &'static str,
        part: &'static str,
        len: usize,
    ) -> Result<&'w [f32], InputError> {
        let mismatch = |found| InputError::WeightsMismatch {
            expected_layer: layer,
            expected_part: part,
            found,
        };
        let slot = self.slots.get(self.next).ok_or(mismatch(""))?;
        if !self.next_is(layer, part) || slot.len() != len {
            return Err(mismatch(slot.name));
        }
        let start = self.base + slot.offset;
        let values = self
            .arena
            .get(start..start + len)
            .ok_or(mismatch(slot.name))?;
        self.next += 1;
        Ok(values)
    }

    /// Every slot was used (otherwise the table has layers the op list does not run).
    pub(crate) fn finish(&self) -> Result<(), InputError> {
        match self.slots.get(self.next) {
            None => Ok(()),
            Some(s) => Err(InputError::WeightsMismatch {
                expected_layer: "(end of the folded table)",
                expected_part: "",
                found: s.name,
            }),
        }
    }
}
