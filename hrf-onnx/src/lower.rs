//! ONNX export, the op walk: `plan.ops` → ONNX nodes over token-major `(batch, frames, width)`
//! values, in `predict_folded`'s order and with its rules (LayerNorm γ/β folded into the next
//! linear, the closing norm folded into the classifier, CMVN folded into the first conv with
//! its edge correction, partial last merge window, local attention windows).

use std::collections::BTreeSet;
use std::f64::consts::FRAC_1_SQRT_2;

use hrf_runtime::kernels::activation::Activation;
use hrf_runtime::kernels::layer_norm::LAYER_NORM_EPS;
use hrf_runtime::kernels::positions::sinusoidal_table;
use hrf_runtime::plan::{BlockPlan, ConvPlan, ModelPlan, PlanOp, SublayerKindPlan};

use crate::ExportError;
use crate::graph::{Attr, Graph, f32_tensor};

/// The name of the graph input, `(batch, frames, features)` raw log-Mel.
pub const INPUT: &str = "features";
/// The name of the graph output, `(batch, classes)`.
pub const OUTPUT: &str = "logits";

/// The current value and its layout.
struct Value {
    name: String,
    /// `(batch, channels, frames)` when true, `(batch, frames, channels)` otherwise.
    channel_major: bool,
}

/// The walk's state: the graph, the folded arena and which of its slots were read.
struct Lowering<'a> {
    g: Graph,
    plan: &'a ModelPlan,
    weights: &'a [f32],
    used: BTreeSet<&'static str>,
}

/// Builds the graph of `plan` over its folded arena; every folded slot must be read exactly
/// as the executor reads it, and an unread slot is an error (the exporter is behind the plan).
pub(crate) fn lower(plan: &ModelPlan, weights: &[f32]) -> Result<Graph, ExportError> {
    let mut l = Lowering {
        g: Graph::default(),
        plan,
        weights,
        used: BTreeSet::new(),
    };
    let mut x = Value {
        name: INPUT.to_string(),
        channel_major: false,
    };
    let closing_norm_block = plan.closing_norm_block();
    let mut pooled = None;
    for (i, op) in plan.ops.iter().enumerate() {
        match op {
            PlanOp::FeatureNorm { name, features } => {
                // Kept only when no conv took it (as in the executor).
                if plan.folded.buffer(&format!("{name}.mean")).is_some() {
                    let mean = l.buffer(name, "mean", &[*features])?;
                    let std = l.buffer(name, "std", &[*features])?;
                    let t = l.token_major(x);
                    let centred = l.g.op("Sub", &[&t, &mean], &[]);
                    x = tok(l.g.op("Div", &[&centred, &std], &[]));
                }
            }
            PlanOp::ConvSubsample(c) => x = l.conv(x, c)?,
            PlanOp::Positions { width } => {
                // PE(t, j) for t < frames, from a table over the longest input the plan takes.
                let rows = plan.frames_after(plan.max_frames, i).max(1);
                let mut table = vec![0.0f32; rows * width];
                sinusoidal_table(&mut table, *width);
                let name = format!("positions.{i}");
                let table = l.g.f32s(&name, &[rows, *width], &table);
                let t = l.token_major(x);
                let frames = l.dim(&t, 1);
                // Slice(table, starts = [0], ends = [frames], axes = [0])
                let zero = l.const_i64("zero", &[0]);
                let pe = l.g.op("Slice", &[&table, &zero, &frames, &zero], &[]);
                x = tok(l.g.op("Add", &[&t, &pe], &[]));
            }
            PlanOp::Block(b) => {
                let closing_foldable = Some(i) == closing_norm_block;
                x = l.block(x, b, closing_foldable)?;
            }
            PlanOp::Merge(m) => {
                // Mean of each `factor` frames, the last group over its valid frames only.
                let cm = l.channel_major(x);
                let f = m.factor as i64;
                let pool = l.g.op(
                    "AveragePool",
                    &[&cm],
                    &[
                        ("kernel_shape", Attr::Ints(vec![f])),
                        ("strides", Attr::Ints(vec![f])),
                        ("ceil_mode", Attr::Int(1)),
                        ("count_include_pad", Attr::Int(0)),
                    ],
                );
                let t = l.token_major(Value {
                    name: pool,
                    channel_major: true,
                });
                // The merge's LayerNorm: γ/β are folded into `proj`.
                let n = l.layer_norm(&t, m.in_width, None);
                let y = l.linear(&n, m.name, "proj", m.out_width, m.in_width)?;
                x = tok(y);
            }
            PlanOp::FinalNorm { width, .. } => {
                // Followed only by pooling and the classifier: γ/β are folded there.
                let t = l.token_major(x);
                x = tok(l.layer_norm(&t, *width, None));
            }
            PlanOp::Pool { .. } => {
                // Every frame of every item is valid (the input convention): a plain mean.
                let t = l.token_major(x);
                let p = l.g.op(
                    "ReduceMean",
                    &[&t],
                    &[("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
                );
                pooled = Some(p.clone());
                x = tok(p);
            }
            PlanOp::Classifier {
                name,
                width,
                classes,
            } => {
                let p = pooled.take().ok_or(ExportError::Unsupported(
                    "a classifier that does not follow a pool",
                ))?;
                let w = l.weight_t(name, "weight", *classes, *width)?;
                let b = l.param(name, "bias", &[*classes])?;
                let y = l.g.op("MatMul", &[&p, &w], &[]);
                l.g.op_into("Add", &[&y, &b], &[], OUTPUT);
                x = tok(OUTPUT.to_string());
            }
        }
    }
    if x.name != OUTPUT {
        return Err(ExportError::Unsupported(
            "a plan that does not end in a classifier",
        ));
    }
    let unused: Vec<&str> = plan
        .folded
        .params
        .iter()
        .chain(plan.folded.buffers)
        .map(|s| s.name)
        .filter(|n| !l.used.contains(n))
        .collect();
    if let Some(first) = unused.first() {
        return Err(ExportError::UnreadSlot(first.to_string()));
    }
    Ok(l.g)
}

fn tok(name: String) -> Value {
    Value {
        name,
        channel_major: false,
    }
}

impl Lowering<'_> {
    fn slot_data(
        &mut self,
        params: bool,
        layer: &str,
        part: &str,
        shape: &[usize],
    ) -> Result<(&'static str, &[f32]), ExportError> {
        let full = format!("{layer}.{part}");
        let table = &self.plan.folded;
        let (slot, base) = if params {
            (table.param(&full), 0)
        } else {
            (table.buffer(&full), table.params_len())
        };
        let slot = slot.ok_or_else(|| ExportError::MissingSlot(full.clone()))?;
        let want: usize = shape.iter().product();
        if slot.len() != want {
            return Err(ExportError::SlotShape {
                slot: full,
                expected: want,
                got: slot.len(),
            });
        }
        self.used.insert(slot.name);
        let r = slot.range();
        Ok((slot.name, &self.weights[base + r.start..base + r.end]))
    }

    /// A folded param as an initializer of `shape` named after its slot.
    fn param(&mut self, layer: &str, part: &str, shape: &[usize]) -> Result<String, ExportError> {
        let (name, data) = self.slot_data(true, layer, part, shape)?;
        let data = data.to_vec();
        Ok(self.g.f32s(name, shape, &data))
    }

    fn buffer(&mut self, layer: &str, part: &str, shape: &[usize]) -> Result<String, ExportError> {
        let (name, data) = self.slot_data(false, layer, part, shape)?;
        let data = data.to_vec();
        Ok(self.g.f32s(name, shape, &data))
    }

    /// A linear weight `(out, inp)` stored transposed, `(inp, out)`, for `x·Wᵀ` as one MatMul.
    fn weight_t(
        &mut self,
        layer: &str,
        part: &str,
        out: usize,
        inp: usize,
    ) -> Result<String, ExportError> {
        let (name, w) = self.slot_data(true, layer, part, &[out, inp])?;
        let mut t = vec![0.0f32; out * inp];
        for (o, row) in w.chunks_exact(inp).enumerate() {
            for (k, &v) in row.iter().enumerate() {
                t[k * out + o] = v;
            }
        }
        Ok(self.g.f32s(&format!("{name}.T"), &[inp, out], &t))
    }

    /// `y = x·Wᵀ + b` over the last axis, `W = {layer}.{part}.weight`.
    fn linear(
        &mut self,
        x: &str,
        layer: &str,
        part: &str,
        out: usize,
        inp: usize,
    ) -> Result<String, ExportError> {
        let w = self.weight_t(layer, &format!("{part}.weight"), out, inp)?;
        let b = self.param(layer, &format!("{part}.bias"), &[out])?;
        let y = self.g.op("MatMul", &[x, &w], &[]);
        Ok(self.g.op("Add", &[&y, &b], &[]))
    }

    fn const_i64(&mut self, name: &str, data: &[i64]) -> String {
        if self.g.has(name) {
            return name.to_string();
        }
        self.g.i64s(name, data)
    }

    fn const_f32(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        if self.g.has(name) {
            return name.to_string();
        }
        self.g.f32s(name, dims, data)
    }

    /// `Shape(x)[axis]` as a 1-element int64 tensor.
    fn dim(&mut self, x: &str, axis: i64) -> String {
        let shape = self.g.op("Shape", &[x], &[]);
        let idx = self.const_i64(&format!("axis{axis}"), &[axis]);
        self.g
            .op("Gather", &[&shape, &idx], &[("axis", Attr::Int(0))])
    }

    fn token_major(&mut self, x: Value) -> String {
        if x.channel_major {
            self.g.op(
                "Transpose",
                &[&x.name],
                &[("perm", Attr::Ints(vec![0, 2, 1]))],
            )
        } else {
            x.name
        }
    }

    fn channel_major(&mut self, x: Value) -> String {
        if x.channel_major {
            x.name
        } else {
            self.g.op(
                "Transpose",
                &[&x.name],
                &[("perm", Attr::Ints(vec![0, 2, 1]))],
            )
        }
    }

    /// LayerNorm over the last axis (ε as the kernels), with `(γ, β)` or the identity affine.
    fn layer_norm(&mut self, x: &str, width: usize, affine: Option<(String, String)>) -> String {
        let (gamma, beta) = affine.unwrap_or_else(|| {
            (
                self.const_f32(&format!("ones.{width}"), &[width], &vec![1.0; width]),
                self.const_f32(&format!("zeros.{width}"), &[width], &vec![0.0; width]),
            )
        });
        self.g.op(
            "LayerNormalization",
            &[x, &gamma, &beta],
            &[
                ("axis", Attr::Int(-1)),
                ("epsilon", Attr::Float(LAYER_NORM_EPS as f32)),
            ],
        )
    }

    fn activation(&mut self, x: &str, act: Activation) -> String {
        match act {
            Activation::Relu => self.g.op("Relu", &[x], &[]),
            Activation::Swish => self.swish(x),
            Activation::Gelu => {
                // x·½(1 + erf(x/√2))
                let r = self.const_f32("frac_1_sqrt_2", &[], &[FRAC_1_SQRT_2 as f32]);
                let one = self.const_f32("one", &[], &[1.0]);
                let half = self.const_f32("half", &[], &[0.5]);
                let s = self.g.op("Mul", &[x, &r], &[]);
                let e = self.g.op("Erf", &[&s], &[]);
                let e1 = self.g.op("Add", &[&e, &one], &[]);
                let xe = self.g.op("Mul", &[x, &e1], &[]);
                self.g.op("Mul", &[&xe, &half], &[])
            }
        }
    }

    fn swish(&mut self, x: &str) -> String {
        let s = self.g.op("Sigmoid", &[x], &[]);
        self.g.op("Mul", &[x, &s], &[])
    }

    /// Frontend conv + ReLU. With CMVN folded in, the zero padding of raw frames is corrected:
    /// `y[co][o] += Σ_kk e[co][kk]·[tap kk of o reads outside the input]`, computed as
    /// `Σ_kk e[co][kk] − Conv(ones(frames), e)[co][o]` (the same conv over an all-ones input).
    fn conv(&mut self, x: Value, c: &ConvPlan) -> Result<Value, ExportError> {
        let (ci, co, k) = (c.in_channels, c.out_channels, c.kernel);
        let x = self.channel_major(x);
        let w = self.param(c.name, "weight", &[co, ci, k])?;
        let b = self.param(c.name, "bias", &[co])?;
        let attrs = [
            ("kernel_shape", Attr::Ints(vec![k as i64])),
            ("strides", Attr::Ints(vec![c.stride as i64])),
            ("pads", Attr::Ints(vec![c.padding as i64, c.padding as i64])),
        ];
        let mut y = self.g.op("Conv", &[&x, &w, &b], &attrs);
        let edge_name = format!("{}.edge_bias", c.name);
        if self.plan.folded.param(&edge_name).is_some() {
            let (name, e) = self.slot_data(true, c.name, "edge_bias", &[co * k])?;
            let e = e.to_vec();
            let sums: Vec<f32> = e.chunks_exact(k).map(|r| r.iter().sum()).collect();
            let e = self.g.f32s(name, &[co, 1, k], &e);
            let sums = self.g.f32s(&format!("{name}.sum"), &[1, co, 1], &sums);
            // ones: (1, 1, frames)
            let frames = self.dim(&x, 2);
            let one_one = self.const_i64("one_one", &[1, 1]);
            let shape = self
                .g
                .op("Concat", &[&one_one, &frames], &[("axis", Attr::Int(0))]);
            let ones = self.g.op(
                "ConstantOfShape",
                &[&shape],
                &[("value", Attr::Tensor(f32_tensor("one", &[1], &[1.0])))],
            );
            let inside = self.g.op("Conv", &[&ones, &e], &attrs);
            let outside = self.g.op("Sub", &[&sums, &inside], &[]);
            y = self.g.op("Add", &[&y, &outside], &[]);
        }
        Ok(Value {
            name: self.g.op("Relu", &[&y], &[]),
            channel_major: true,
        })
    }

    /// One encoder block: residual sublayers `x += s·f(LN x)`, then the closing LayerNorm.
    fn block(
        &mut self,
        x: Value,
        b: &BlockPlan,
        closing_foldable: bool,
    ) -> Result<Value, ExportError> {
        let d = b.width;
        let mut x = self.token_major(x);
        for sub in b.sublayers {
            let name = sub.name;
            let normed = self.layer_norm(&x, d, None);
            let y = match &sub.kind {
                SublayerKindPlan::Ffn(f) => {
                    let h = self.linear(&normed, name, "w1", f.hidden, d)?;
                    let h = self.activation(&h, f.act);
                    self.linear(&h, name, "w2", d, f.hidden)?
                }
                SublayerKindPlan::Attention(a) => {
                    let qkv = self.linear(&normed, name, "qkv", 3 * d, d)?;
                    self.attention(&qkv, d, a.heads, a.head_dim, a.window, name)?
                }
                SublayerKindPlan::ConvModule { width, kernel } => {
                    let (w, k) = (*width, *kernel);
                    let pw1 = self.linear(&normed, name, "pw1", 2 * w, d)?;
                    // GLU: a·σ(g), pw1 = [a | g] along channels.
                    let split = self.const_i64(&format!("split.{w}.{w}"), &[w as i64, w as i64]);
                    let parts = self
                        .g
                        .op("Split", &[&pw1, &split], &[("axis", Attr::Int(2))]);
                    let (a, g) = (format!("{parts}_a"), format!("{parts}_g"));
                    let node = self.g.nodes.last_mut().expect("just pushed");
                    node.output = vec![a.clone(), g.clone()];
                    let sg = self.g.op("Sigmoid", &[&g], &[]);
                    let gated = self.g.op("Mul", &[&a, &sg], &[]);
                    let cm = self.channel_major(tok(gated));
                    // Depthwise "same" conv (BatchNorm folded in): output t reads t − k/2 + kk.
                    let dw_w = self.param(name, "dw.weight", &[w, 1, k])?;
                    let dw_b = self.param(name, "dw.bias", &[w])?;
                    let half = (k / 2) as i64;
                    let dw = self.g.op(
                        "Conv",
                        &[&cm, &dw_w, &dw_b],
                        &[
                            ("kernel_shape", Attr::Ints(vec![k as i64])),
                            ("group", Attr::Int(w as i64)),
                            ("pads", Attr::Ints(vec![half, k as i64 - 1 - half])),
                        ],
                    );
                    let dw = self.swish(&dw);
                    let t = self.token_major(Value {
                        name: dw,
                        channel_major: true,
                    });
                    self.linear(&t, name, "pw2", d, w)?
                }
            };
            let y = if sub.residual_scale != 1.0 {
                let s = self.const_f32(
                    &format!("scale.{}", sub.residual_scale),
                    &[],
                    &[sub.residual_scale],
                );
                self.g.op("Mul", &[&y, &s], &[])
            } else {
                y
            };
            x = self.g.op("Add", &[&x, &y], &[]);
        }
        if b.final_norm {
            let affine = if closing_foldable {
                None
            } else {
                Some((
                    self.param(b.name, "norm.gamma", &[d])?,
                    self.param(b.name, "norm.beta", &[d])?,
                ))
            };
            x = self.layer_norm(&x, d, affine);
        }
        Ok(tok(x))
    }

    /// Multi-head attention from packed `qkv: (B, T, 3d)` (q pre-scaled by 1/√dₕ), then the
    /// output projection `{name}.proj`. A window lets query i see keys with |i − j| ≤ w/2.
    fn attention(
        &mut self,
        qkv: &str,
        d: usize,
        heads: usize,
        dh: usize,
        window: Option<usize>,
        name: &str,
    ) -> Result<String, ExportError> {
        let split = self.const_i64(
            &format!("split.{d}.{d}.{d}"),
            &[d as i64, d as i64, d as i64],
        );
        let parts = self
            .g
            .op("Split", &[qkv, &split], &[("axis", Attr::Int(2))]);
        let (q, k, v) = (
            format!("{parts}_q"),
            format!("{parts}_k"),
            format!("{parts}_v"),
        );
        let node = self.g.nodes.last_mut().expect("just pushed");
        node.output = vec![q.clone(), k.clone(), v.clone()];
        let heads_shape = self.const_i64(
            &format!("shape.heads.{heads}.{dh}"),
            &[0, 0, heads as i64, dh as i64],
        );
        let split_heads = |l: &mut Self, t: &str, perm: Vec<i64>| {
            let r = l.g.op("Reshape", &[t, &heads_shape], &[]);
            l.g.op("Transpose", &[&r], &[("perm", Attr::Ints(perm))])
        };
        let q = split_heads(self, &q, vec![0, 2, 1, 3]); // (B, H, T, dh)
        let kt = split_heads(self, &k, vec![0, 2, 3, 1]); // (B, H, dh, T)
        let v = split_heads(self, &v, vec![0, 2, 1, 3]); // (B, H, T, dh)
        let mut scores = self.g.op("MatMul", &[&q, &kt], &[]); // (B, H, Tq, Tk)
        if let Some(w) = window {
            // bias[i][j] = −∞ where |i − j| > w/2, else 0; built for the run's frame count.
            let frames = self.dim(qkv, 1);
            let ax0 = self.const_i64("zero", &[0]);
            let ax1 = self.const_i64("axis1", &[1]);
            let t = self.g.op("Squeeze", &[&frames, &ax0], &[]);
            let zs = self.scalar_i64("int64.0", 0);
            let os = self.scalar_i64("int64.1", 1);
            let idx = self.g.op("Range", &[&zs, &t, &os], &[]); // (T)
            let col = self.g.op("Unsqueeze", &[&idx, &ax1], &[]);
            let row = self.g.op("Unsqueeze", &[&idx, &ax0], &[]);
            let diff = self.g.op("Sub", &[&col, &row], &[]);
            let dist = self.g.op("Abs", &[&diff], &[]);
            let half = self.scalar_i64(&format!("int64.{}", w / 2), (w / 2) as i64);
            let far = self.g.op("Greater", &[&dist, &half], &[]);
            let ninf = self.const_f32("neg_inf", &[], &[f32::NEG_INFINITY]);
            let zf = self.const_f32("zero_f32", &[], &[0.0]);
            let bias = self.g.op("Where", &[&far, &ninf, &zf], &[]);
            scores = self.g.op("Add", &[&scores, &bias], &[]);
        }
        let probs = self.g.op("Softmax", &[&scores], &[("axis", Attr::Int(-1))]);
        let ctx = self.g.op("MatMul", &[&probs, &v], &[]); // (B, H, T, dh)
        let ctx = self.g.op(
            "Transpose",
            &[&ctx],
            &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        );
        let merged_shape = self.const_i64(&format!("shape.merged.{d}"), &[0, 0, d as i64]);
        let ctx = self.g.op("Reshape", &[&ctx, &merged_shape], &[]);
        self.linear(&ctx, name, "proj", d, d)
    }

    /// A 0-d int64 initializer.
    fn scalar_i64(&mut self, name: &str, v: i64) -> String {
        if !self.g.has(name) {
            self.g.initializers.push(crate::proto::TensorProto {
                dims: vec![],
                data_type: Some(crate::proto::DATA_TYPE_INT64),
                name: Some(name.to_string()),
                raw_data: Some(v.to_le_bytes().to_vec()),
            });
        }
        name.to_string()
    }
}
