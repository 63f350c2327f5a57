//! Stage 5 (codegen, fields): the folded layout table → the fields of `<Name>Folded`, one per
//! layer, each typed by the runtime storage type whose `#[repr(C)]` fields are that layer's slots.
//!
//! Consecutive slots sharing a prefix (all but the last dotted segment) form one layer:
//! `encoder.0.ffn1.w1.weight` + `encoder.0.ffn1.w1.bias` → `encoder_0_ffn1_w1: Linear<64, 256>`.
//! The type follows from the slot suffixes, in table order, and their shapes.

use crate::CheckedModel;
use crate::ir::{Op, SublayerKind};
use crate::layout::{Layout, Slot};

/// One field of the generated folded struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldedField {
    /// Layer prefix in the folded table (`encoder.0.ffn1.w1`).
    pub prefix: String,
    /// Rust field name: the prefix with `.` → `_` (`encoder_0_ffn1_w1`).
    pub ident: String,
    pub layer: LayerType,
    /// Offset, in `f32`s, of the layer's first slot in the folded arena (params, then buffers).
    pub offset: usize,
    /// Number of `f32`s the layer stores.
    pub len: usize,
}

/// A runtime layer storage type (`hrf_runtime::infer`) with its const generics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerType {
    /// `weight (outputs, inputs)`, `bias (outputs)`.
    Linear { inputs: usize, outputs: usize },
    /// `weight (out, in, kernel)`, `bias (out)`.
    Conv1d {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
    },
    /// A first conv with CMVN folded in: `Conv1d` plus `edge_bias (out, kernel)`.
    InputConv1d {
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
    },
    /// `weight (channels, kernel)`, `bias (channels)`.
    DepthwiseConv1d { channels: usize, kernel: usize },
    /// `gamma (width)`, `beta (width)`.
    LayerNorm { width: usize },
    /// `mean (features)`, `std (features)`: CMVN kept as buffers when no conv can absorb it.
    FeatureNorm { features: usize },
}

impl LayerType {
    /// Type name in `::hrf_runtime::__private`.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerType::Linear { .. } => "Linear",
            LayerType::Conv1d { .. } => "Conv1d",
            LayerType::InputConv1d { .. } => "InputConv1d",
            LayerType::DepthwiseConv1d { .. } => "DepthwiseConv1d",
            LayerType::LayerNorm { .. } => "LayerNorm",
            LayerType::FeatureNorm { .. } => "FeatureNorm",
        }
    }

    /// Const generic arguments, in the order the runtime type declares them.
    pub fn generics(&self) -> Vec<usize> {
        match *self {
            LayerType::Linear { inputs, outputs } => vec![inputs, outputs],
            LayerType::Conv1d {
                in_channels,
                out_channels,
                kernel,
            }
            | LayerType::InputConv1d {
                in_channels,
                out_channels,
                kernel,
            } => vec![in_channels, out_channels, kernel],
            LayerType::DepthwiseConv1d { channels, kernel } => vec![channels, kernel],
            LayerType::LayerNorm { width } => vec![width],
            LayerType::FeatureNorm { features } => vec![features],
        }
    }

    /// `Linear<64, 256>`, as text (docs and tests).
    pub fn display(&self) -> String {
        let generics: Vec<String> = self.generics().iter().map(usize::to_string).collect();
        format!("{}<{}>", self.type_name(), generics.join(", "))
    }
}

/// The folded struct's fields, in arena order (param layers, then buffer layers). `Err` names a
/// layer whose slots match no runtime storage type (a layout/codegen mismatch, not a user error).
pub fn folded_fields(model: &CheckedModel) -> Result<Vec<FoldedField>, String> {
    let depthwise = depthwise_prefixes(model);
    let layout: &Layout = &model.folded;
    let params: Vec<&Slot> = layout.params().collect();
    let buffers: Vec<&Slot> = layout.buffers().collect();
    let params_len = layout.param_count();
    let mut fields = Vec::new();
    // The folded arena is the params arena followed by the buffers arena.
    for (slots, base) in [(params, 0), (buffers, params_len)] {
        let mut expected_offset = 0;
        for group in group_by_prefix(&slots) {
            let first = group.slots[0];
            if first.offset != expected_offset {
                return Err(format!(
                    "folded slot `{}` is at offset {} but the previous layer ends at {expected_offset}",
                    first.name, first.offset
                ));
            }
            let len: usize = group.slots.iter().map(|s| s.len()).sum();
            expected_offset += len;
            let layer = layer_type(&group, depthwise.contains(&group.prefix))?;
            fields.push(FoldedField {
                ident: group.prefix.replace('.', "_"),
                prefix: group.prefix,
                layer,
                offset: base + first.offset,
                len,
            });
        }
    }
    Ok(fields)
}

/// Prefixes of the conformer conv modules' depthwise convs (`encoder.0.conv.dw`): their
/// `(channels, kernel)` weight has the same rank as a linear's `(out, in)`.
fn depthwise_prefixes(model: &CheckedModel) -> Vec<String> {
    let mut out = Vec::new();
    for op in &model.ir.ops {
        if let Op::Block(block) = op {
            for sublayer in &block.sublayers {
                if let SublayerKind::ConvModule { .. } = sublayer.kind {
                    out.push(format!("{}.dw", sublayer.name));
                }
            }
        }
    }
    out
}

struct Group<'a> {
    prefix: String,
    slots: Vec<&'a Slot>,
}

/// Consecutive slots with the same prefix, in table order.
fn group_by_prefix<'a>(slots: &[&'a Slot]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for &slot in slots {
        let prefix = match slot.name.rsplit_once('.') {
            Some((prefix, _)) => prefix,
            None => slot.name.as_str(),
        };
        match groups.last_mut() {
            Some(group) if group.prefix == prefix => group.slots.push(slot),
            _ => groups.push(Group {
                prefix: prefix.to_string(),
                slots: vec![slot],
            }),
        }
    }
    groups
}

/// The storage type whose fields are exactly these slots (suffixes in order, shapes consistent).
fn layer_type(group: &Group<'_>, is_depthwise: bool) -> Result<LayerType, String> {
    let suffixes: Vec<&str> = group
        .slots
        .iter()
        .map(|s| s.name.rsplit('.').next().unwrap_or(""))
        .collect();
    let shapes: Vec<&[usize]> = group.slots.iter().map(|s| s.shape.as_slice()).collect();
    let layer = match (suffixes.as_slice(), shapes.as_slice()) {
        (["weight", "bias"], [[c, k], [b]]) if is_depthwise && b == c => {
            LayerType::DepthwiseConv1d {
                channels: *c,
                kernel: *k,
            }
        }
        (["weight", "bias"], [[o, i], [b]]) if !is_depthwise && b == o => LayerType::Linear {
            inputs: *i,
            outputs: *o,
        },
        (["weight", "bias"], [[o, i, k], [b]]) if b == o => LayerType::Conv1d {
            in_channels: *i,
            out_channels: *o,
            kernel: *k,
        },
        (["weight", "bias", "edge_bias"], [[o, i, k], [b], [eo, ek]])
            if b == o && eo == o && ek == k =>
        {
            LayerType::InputConv1d {
                in_channels: *i,
                out_channels: *o,
                kernel: *k,
            }
        }
        (["gamma", "beta"], [[g], [b]]) if g == b => LayerType::LayerNorm { width: *g },
        (["mean", "std"], [[m], [s]]) if m == s => LayerType::FeatureNorm { features: *m },
        _ => {
            let slots: Vec<String> = group
                .slots
                .iter()
                .map(|s| format!("{} {:?}", s.name, s.shape))
                .collect();
            return Err(format!(
                "folded layer `{}` has slots [{}], which no runtime layer type stores",
                group.prefix,
                slots.join(", ")
            ));
        }
    };
    Ok(layer)
}
