//! ONNX export, the graph builder: nodes appended in execution order (so the graph is
//! topologically sorted by construction), initializers, fresh value names and attributes.

use crate::proto::{
    AttributeProto, AttributeType, DATA_TYPE_FLOAT, DATA_TYPE_INT64, NodeProto, TensorProto,
};

/// A graph under construction: `nodes` in execution order and the constant tensors they read.
#[derive(Default)]
pub(crate) struct Graph {
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    next: usize,
}

/// One node attribute.
pub(crate) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Tensor(TensorProto),
}

impl Graph {
    fn fresh(&mut self, op: &str) -> String {
        self.next += 1;
        format!("{}_{}", op.to_ascii_lowercase(), self.next)
    }

    /// Appends `op(inputs) {attrs}` with one fresh output, returned.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = self.fresh(op);
        self.op_into(op, inputs, attrs, &out);
        out
    }

    /// Appends `op(inputs) {attrs}` writing the named output `out`.
    pub fn op_into(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)], out: &str) {
        let attribute = attrs.iter().map(|(name, a)| attribute(name, a)).collect();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            name: Some(format!("n{}_{}", self.nodes.len(), op)),
            op_type: Some(op.to_string()),
            domain: None,
            attribute,
        });
    }

    /// A float initializer `name: dims`, row-major.
    pub fn f32s(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        debug_assert_eq!(dims.iter().product::<usize>(), data.len());
        self.initializers.push(f32_tensor(name, dims, data));
        name.to_string()
    }

    /// An int64 initializer (shapes, axes, indices).
    pub fn i64s(&mut self, name: &str, data: &[i64]) -> String {
        self.initializers.push(TensorProto {
            dims: vec![data.len() as i64],
            data_type: Some(DATA_TYPE_INT64),
            name: Some(name.to_string()),
            raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        });
        name.to_string()
    }

    /// Whether an initializer called `name` exists already (shared constants).
    pub fn has(&self, name: &str) -> bool {
        self.initializers
            .iter()
            .any(|t| t.name.as_deref() == Some(name))
    }
}

/// A float tensor with its bytes in `raw_data` (little-endian IEEE 754).
pub(crate) fn f32_tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(DATA_TYPE_FLOAT),
        name: Some(name.to_string()),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
    }
}

fn attribute(name: &str, a: &Attr) -> AttributeProto {
    let mut p = AttributeProto {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let ty = match a {
        Attr::Int(i) => {
            p.i = Some(*i);
            AttributeType::Int
        }
        Attr::Ints(v) => {
            p.ints = v.clone();
            AttributeType::Ints
        }
        Attr::Float(f) => {
            p.f = Some(*f);
            AttributeType::Float
        }
        Attr::Tensor(t) => {
            p.t = Some(t.clone());
            AttributeType::Tensor
        }
    };
    p.r#type = Some(ty as i32);
    p
}
