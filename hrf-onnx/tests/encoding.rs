//! ONNX export, the encoder without ONNX Runtime: hand-computed protobuf bytes, a decode of
//! every preset's export back through `prost`, and graph well-formedness (every node input is
//! produced earlier, an initializer or the graph input; names unique; the metadata present).

mod common;

use std::collections::BTreeSet;

use hrf_onnx::proto::{
    Dimension, DimensionValue, ModelProto, OperatorSetIdProto, StringStringEntryProto,
};
use hrf_onnx::{ExportError, INPUT, OPSET, OUTPUT, model_proto, to_onnx_bytes};
use prost::Message;

#[test]
fn messages_encode_to_hand_computed_bytes() {
    // field 1 (domain, wire type 2) = "", field 2 (version, varint) = 17
    let opset = OperatorSetIdProto {
        domain: Some(String::new()),
        version: Some(17),
    };
    assert_eq!(opset.encode_to_vec(), [0x0a, 0x00, 0x10, 0x11]);
    let entry = StringStringEntryProto {
        key: Some("a".into()),
        value: Some("b".into()),
    };
    assert_eq!(entry.encode_to_vec(), [0x0a, 0x01, b'a', 0x12, 0x01, b'b']);
    // 300 = 0b10_0101100 → varint ac 02; dim_param is field 2, a string.
    let fixed = Dimension {
        value: Some(DimensionValue::DimValue(300)),
    };
    assert_eq!(fixed.encode_to_vec(), [0x08, 0xac, 0x02]);
    let named = Dimension {
        value: Some(DimensionValue::DimParam("T".into())),
    };
    assert_eq!(named.encode_to_vec(), [0x12, 0x01, b'T']);
}

#[test]
fn every_preset_exports_a_well_formed_graph_that_decodes_back() {
    for (k, (name, plan)) in common::presets().into_iter().enumerate() {
        let weights = common::folded_weights(plan, 500 + k as u64);
        let model = model_proto(plan, &weights).expect("export");
        let bytes = to_onnx_bytes(plan, &weights).expect("export");
        let back = ModelProto::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(back, model, "{name}: decode(encode(m)) == m");
        assert_eq!(back.opset_import[0].version, Some(OPSET));

        let meta: Vec<(&str, &str)> = back
            .metadata_props
            .iter()
            .map(|e| (e.key.as_deref().unwrap(), e.value.as_deref().unwrap()))
            .collect();
        assert!(meta.contains(&("hrf.spec_name", plan.name)), "{name}");
        assert!(meta.contains(&("hrf.spec_hash", plan.spec_hash)), "{name}");
        let classes = meta.iter().find(|(k, _)| *k == "hrf.classes").unwrap().1;
        for c in plan.classes {
            assert!(classes.contains(&format!("\"{c}\"")), "{name}: {classes}");
        }

        let graph = back.graph.expect("graph");
        let mut known: BTreeSet<&str> = graph
            .initializer
            .iter()
            .map(|t| t.name.as_deref().unwrap())
            .collect();
        assert_eq!(
            known.len(),
            graph.initializer.len(),
            "{name}: initializer names unique"
        );
        assert_eq!(graph.input.len(), 1);
        assert_eq!(graph.input[0].name.as_deref(), Some(INPUT));
        known.insert(INPUT);
        for node in &graph.node {
            for i in &node.input {
                assert!(
                    known.contains(i.as_str()),
                    "{name}: {:?} reads {i} before it exists",
                    node.name
                );
            }
            for o in &node.output {
                assert!(known.insert(o.as_str()), "{name}: {o} written twice");
            }
        }
        assert!(known.contains(OUTPUT), "{name}: no node writes {OUTPUT}");
        // Every initializer holds as many bytes as its dims say.
        for t in &graph.initializer {
            let n: i64 = t.dims.iter().product();
            let width = if t.data_type == Some(hrf_onnx::proto::DATA_TYPE_INT64) {
                8
            } else {
                4
            };
            assert_eq!(
                t.raw_data.as_ref().unwrap().len() as i64,
                n * width,
                "{name}: {:?}",
                t.name
            );
        }
    }
}

#[test]
fn a_wrong_length_arena_is_refused() {
    let (_, plan) = common::presets().into_iter().next().unwrap();
    let n = plan.folded.params_len() + plan.folded.buffers_len();
    let err = model_proto(plan, &vec![0.0; n - 1]).unwrap_err();
    assert!(matches!(err, ExportError::WeightsLength { .. }), "{err}");
}
