//! ONNX export: a folded model (its `ModelPlan` and folded arena) → an ONNX `ModelProto` of
//! standard opset-17 ops that computes what `hrf_runtime::infer::predict_folded` computes.
//!
//! A crate of its own rather than a module of `hrf-runtime`: the runtime's core is `no_std` and
//! allocation-free, and this is a host-side, allocating file writer with its own dependency
//! (`prost`) that only the CLI and its tests need. It reads the plan and the arena and nothing
//! else of the runtime. See `ARCHITECTURE.md` for where it sits.
//!
//! # The graph's contract
//!
//! - Input `features`: `(batch, frames, features)` f32 raw log-Mel (CMVN is folded in), both
//!   `batch` and `frames` dynamic, `1 ≤ frames ≤ max_frames` (and enough frames for the
//!   frontend convs to produce one output, as `predict_folded` requires).
//! - **Every item of a batch has `frames` valid frames**: there is no lengths input and no
//!   padding mask. Utterances of different lengths go in separate runs (or batches of equal
//!   length); zero-padding a short utterance changes its logits, exactly as it would in hrf.
//! - Output `logits`: `(batch, classes)`, in the order of the `hrf.classes` metadata entry.
//! - `metadata_props`: `hrf.spec_name`, `hrf.spec_module`, `hrf.spec_hash`, `hrf.classes` (a
//!   JSON array), `hrf.features`, `hrf.max_frames`, `hrf.input`.

mod graph;
mod lower;
pub mod proto;

use hrf_runtime::plan::ModelPlan;
use prost::Message;

pub use lower::{INPUT, OUTPUT};
use proto::{
    DATA_TYPE_FLOAT, Dimension, DimensionValue, GraphProto, ModelProto, OperatorSetIdProto,
    StringStringEntryProto, TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};

/// The ONNX operator set the graph imports (`LayerNormalization` needs 17).
pub const OPSET: i64 = 17;
/// The IR version that goes with opset 17.
pub const IR_VERSION: i64 = 8;

/// The input convention, also written to the `hrf.input` metadata entry.
pub const INPUT_CONVENTION: &str = "features: (batch, frames, features) f32 raw log-Mel, dynamic \
batch and frames (1..=max_frames); every item of a batch has all `frames` frames valid (no \
lengths input, no padding mask): run utterances of different lengths separately";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error(
        "the folded arena has {got} floats but {spec} needs {expected}: it is not this spec's folded weights"
    )]
    WeightsLength {
        spec: String,
        expected: usize,
        got: usize,
    },
    #[error(
        "the folded layout has no slot `{0}` that the ONNX exporter expects (the exporter is out of step with the plan)"
    )]
    MissingSlot(String),
    #[error("folded slot `{slot}` has {got} values, the ONNX exporter expects {expected}")]
    SlotShape {
        slot: String,
        expected: usize,
        got: usize,
    },
    #[error("the ONNX exporter does not read folded slot `{0}`: it is out of step with the plan")]
    UnreadSlot(String),
    #[error("the ONNX exporter does not support {0}")]
    Unsupported(&'static str),
}

/// The ONNX model of `plan` with its folded arena `weights` (params then buffers).
pub fn model_proto(plan: &ModelPlan, weights: &[f32]) -> Result<ModelProto, ExportError> {
    let expected = plan.folded.params_len() + plan.folded.buffers_len();
    if weights.len() != expected {
        return Err(ExportError::WeightsLength {
            spec: plan.name.to_string(),
            expected,
            got: weights.len(),
        });
    }
    let g = lower::lower(plan, weights)?;
    let graph = GraphProto {
        node: g.nodes,
        name: Some(plan.module.to_string()),
        initializer: g.initializers,
        doc_string: Some(INPUT_CONVENTION.to_string()),
        input: vec![value_info(
            INPUT,
            &[
                Dim::Named("batch"),
                Dim::Named("frames"),
                Dim::Fixed(plan.features),
            ],
        )],
        output: vec![value_info(
            OUTPUT,
            &[Dim::Named("batch"), Dim::Fixed(plan.classes.len())],
        )],
    };
    let meta = [
        ("hrf.spec_name", plan.name.to_string()),
        ("hrf.spec_module", plan.module.to_string()),
        ("hrf.spec_hash", plan.spec_hash.to_string()),
        ("hrf.classes", json_strings(plan.classes)),
        ("hrf.features", plan.features.to_string()),
        ("hrf.max_frames", plan.max_frames.to_string()),
        ("hrf.input", INPUT_CONVENTION.to_string()),
    ];
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("hrf".to_string()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        domain: None,
        model_version: Some(1),
        doc_string: Some(format!("{} (folded), exported by hrf", plan.name)),
        graph: Some(graph),
        metadata_props: meta
            .into_iter()
            .map(|(k, v)| StringStringEntryProto {
                key: Some(k.to_string()),
                value: Some(v),
            })
            .collect(),
    })
}

/// The serialised ONNX file of `plan` with its folded arena.
pub fn to_onnx_bytes(plan: &ModelPlan, weights: &[f32]) -> Result<Vec<u8>, ExportError> {
    Ok(model_proto(plan, weights)?.encode_to_vec())
}

enum Dim {
    Fixed(usize),
    Named(&'static str),
}

fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => DimensionValue::DimValue(*n as i64),
                Dim::Named(s) => DimensionValue::DimParam(s.to_string()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(DATA_TYPE_FLOAT),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: None,
    }
}

/// `["a","b"]` with JSON string escapes.
fn json_strings(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| {
            let mut q = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => q.push_str("\\\""),
                    '\\' => q.push_str("\\\\"),
                    c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
                    c => q.push(c),
                }
            }
            q.push('"');
            q
        })
        .collect();
    format!("[{}]", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape() {
        assert_eq!(json_strings(&["a", "b\"c"]), r#"["a","b\"c"]"#);
    }
}
