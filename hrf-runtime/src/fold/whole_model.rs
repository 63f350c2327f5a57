//! Deploy-time folds, whole model: walks a plan's op list and turns the training arenas
//! (`plan.train` params and buffers) into the folded arena (`plan.folded` params, then buffers)
//! that the folded executor (`infer`) and generated `<Name>Folded` structs read.
//!
//! Per op: CMVN into the first conv (+ `edge_bias` when it pads); HRF chains into W1, then the
//! pre-LN's γ/β into W1 / the fused `qkv` / `pw1` / a merge's `proj`; Q/K/V fused with
//! `1/√dₕ`; BatchNorm into the depthwise conv; a LayerNorm followed only by pooling and the
//! classifier (final norm, or the last Conformer block's closing norm) into the classifier
//! (mean pooling is linear, so `mean(γ⊙n + β) = γ⊙mean(n) + β`). Everything else is copied.

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::{
    BatchNormRef, ConvRef, FeatureStatsRef, FoldError, FoldedLinear, LayerNormRef, LinearRef,
    fold_batch_norm_into_conv, fold_feature_stats_into_input, fold_hrf_into_ffn,
    fold_layer_norm_into_linear, fuse_qkv,
};
use crate::infer::ArenaLenError;
use crate::kernels::batch_norm::BATCH_NORM_EPS;
use crate::plan::{BlockPlan, ModelPlan, PlanOp, SlotPlan, SublayerKindPlan, TablePlan};

const FOLD: &str = "fold_model";

impl From<ArenaLenError> for FoldError {
    fn from(e: ArenaLenError) -> Self {
        FoldError::InvalidArgument {
            fold: FOLD,
            problem: e.to_string(),
        }
    }
}

/// Folds a trained model: `params` / `buffers` are the `plan.train` arenas; returns the folded
/// arena (`plan.folded` params, then its buffers). f64 accumulation inside every fold.
///
/// # Errors
/// Arena lengths that do not match the train table, invalid statistics (a std ≤ 0, a negative
/// running variance), or a folded table this walk does not fill exactly (plan inconsistency).
pub fn fold_model(
    plan: &ModelPlan,
    params: &[f32],
    buffers: &[f32],
) -> Result<Vec<f32>, FoldError> {
    for (what, arena, expected) in [
        ("params", params, plan.train.params_len()),
        ("buffers", buffers, plan.train.buffers_len()),
    ] {
        if arena.len() != expected {
            return Err(FoldError::BufferLength {
                fold: FOLD,
                tensor: format!("{} training {what} arena", plan.name),
                shape: format!("({expected})"),
                expected,
                got: arena.len(),
            });
        }
    }
    let mut out = Folded::new(plan);
    let train = Train {
        table: plan.train,
        params,
        buffers,
    };
    let closing_norm_block = plan.closing_norm_block();
    let mut feature_stats: Option<(&str, &[f32], &[f32])> = None;
    // A LayerNorm whose γ/β go into the classifier (through the mean pooling).
    let mut pending_norm: Option<String> = None;
    for (i, op) in plan.ops.iter().enumerate() {
        match op {
            PlanOp::FeatureNorm { name, .. } => {
                let mean = train.buffer(&format!("{name}.mean"))?;
                let std = train.buffer(&format!("{name}.std"))?;
                if out.has(&format!("{name}.mean")) {
                    out.put(&format!("{name}.mean"), mean)?;
                    out.put(&format!("{name}.std"), std)?;
                } else {
                    feature_stats = Some((name, mean, std));
                }
            }
            PlanOp::ConvSubsample(c) => {
                let (w, b) = (format!("{}.weight", c.name), format!("{}.bias", c.name));
                let conv = ConvRef {
                    name: c.name,
                    weight: train.param(&w)?,
                    bias: Some(train.param(&b)?),
                    channels_out: c.out_channels,
                    in_per_group: c.in_channels,
                    kernel: c.kernel,
                };
                match feature_stats.take() {
                    Some((name, mean, std)) => {
                        let stats = FeatureStatsRef { name, mean, std };
                        let folded = fold_feature_stats_into_input(stats, conv)?;
                        out.put(&w, &folded.conv.weight)?;
                        out.put(&b, &folded.conv.bias)?;
                        let edge = format!("{}.edge_bias", c.name);
                        if out.has(&edge) {
                            out.put(&edge, &folded.edge_bias)?;
                        }
                    }
                    None => {
                        out.put(&w, conv.weight)?;
                        out.put(&b, train.param(&b)?)?;
                    }
                }
            }
            PlanOp::Positions { .. } | PlanOp::Pool { .. } => {}
            PlanOp::Block(b) => {
                fold_block(&train, &mut out, b)?;
                if b.final_norm {
                    let norm = format!("{}.norm", b.name);
                    if Some(i) == closing_norm_block {
                        pending_norm = Some(norm);
                    } else {
                        out.copy(&train, &format!("{norm}.gamma"))?;
                        out.copy(&train, &format!("{norm}.beta"))?;
                    }
                }
            }
            PlanOp::Merge(m) => {
                let norm_name = format!("{}.norm", m.name);
                let norm = train.layer_norm(&norm_name)?;
                let proj = format!("{}.proj", m.name);
                let lin = train.linear(&proj, m.out_width, m.in_width, true)?;
                let folded = fold_layer_norm_into_linear(norm, &[lin])?;
                out.put_linear(&proj, &folded[0])?;
            }
            PlanOp::FinalNorm { name, .. } => pending_norm = Some(name.to_string()),
            PlanOp::Classifier {
                name,
                width,
                classes,
            } => {
                let lin = train.linear(name, *classes, *width, true)?;
                match pending_norm.take() {
                    Some(norm) => {
                        let folded = fold_layer_norm_into_linear(train.layer_norm(&norm)?, &[lin])?;
                        out.put_linear(name, &folded[0])?;
                    }
                    None => {
                        out.put(&format!("{name}.weight"), lin.weight)?;
                        out.put(&format!("{name}.bias"), lin.bias.unwrap_or(&[]))?;
                    }
                }
            }
        }
    }
    out.finish()
}

/// One block's sublayers: each pre-LN's γ/β into the linear(s) reading it.
fn fold_block(train: &Train<'_>, out: &mut Folded<'_>, b: &BlockPlan) -> Result<(), FoldError> {
    let d = b.width;
    for sub in b.sublayers {
        let name = sub.name;
        let norm_name = format!("{name}.norm");
        let norm = train.layer_norm(&norm_name)?;
        match &sub.kind {
            SublayerKindPlan::Ffn(f) => {
                let w1_name = format!("{name}.w1");
                let first = match &f.hrf {
                    Some(h) => {
                        // deHRF first (W1 = W1'·H_k·…·H₁, all (f, ·)), then the LN into it.
                        let names: Vec<String> =
                            (0..h.depth).map(|j| format!("{name}.hrf.{j}")).collect();
                        let mut chain = Vec::with_capacity(h.depth);
                        let mut inp = d;
                        for n in &names {
                            chain.push(train.linear(n, h.inner, inp, h.bias)?);
                            inp = h.inner;
                        }
                        let w1 = train.linear(&w1_name, f.hidden, h.inner, true)?;
                        fold_hrf_into_ffn(&chain, w1)?
                    }
                    None => {
                        let w1 = train.linear(&w1_name, f.hidden, d, true)?;
                        owned(&w1)
                    }
                };
                let first = LinearRef::new(&w1_name, &first.weight, Some(&first.bias), f.hidden, d);
                out.put_linear(&w1_name, &fold_layer_norm_into_linear(norm, &[first])?[0])?;
                out.copy(train, &format!("{name}.w2.weight"))?;
                out.copy(train, &format!("{name}.w2.bias"))?;
            }
            SublayerKindPlan::Attention(a) => {
                let [q, k, v] = ["q", "k", "v"].map(|p| format!("{name}.{p}"));
                let qkv = fuse_qkv(
                    train.linear(&q, d, d, true)?,
                    train.linear(&k, d, d, true)?,
                    train.linear(&v, d, d, true)?,
                    a.heads,
                )?;
                let qkv_name = format!("{name}.qkv");
                let fused = LinearRef::new(&qkv_name, &qkv.weight, Some(&qkv.bias), 3 * d, d);
                out.put_linear(&qkv_name, &fold_layer_norm_into_linear(norm, &[fused])?[0])?;
                out.copy(train, &format!("{name}.proj.weight"))?;
                out.copy(train, &format!("{name}.proj.bias"))?;
            }
            SublayerKindPlan::ConvModule { width, kernel } => {
                let pw1_name = format!("{name}.pw1");
                let pw1 = train.linear(&pw1_name, 2 * width, d, true)?;
                out.put_linear(&pw1_name, &fold_layer_norm_into_linear(norm, &[pw1])?[0])?;
                let dw_name = format!("{name}.dw");
                let dw = ConvRef {
                    name: &dw_name,
                    weight: train.param(&format!("{dw_name}.weight"))?,
                    bias: None,
                    channels_out: *width,
                    in_per_group: 1,
                    kernel: *kernel,
                };
                let bn_name = format!("{name}.bn");
                let bn = BatchNormRef {
                    name: &bn_name,
                    gamma: train.param(&format!("{bn_name}.gamma"))?,
                    beta: train.param(&format!("{bn_name}.beta"))?,
                    running_mean: train.buffer(&format!("{bn_name}.running_mean"))?,
                    running_var: train.buffer(&format!("{bn_name}.running_var"))?,
                    eps: BATCH_NORM_EPS,
                };
                let folded = fold_batch_norm_into_conv(dw, bn)?;
                out.put(&format!("{dw_name}.weight"), &folded.weight)?;
                out.put(&format!("{dw_name}.bias"), &folded.bias)?;
                out.copy(train, &format!("{name}.pw2.weight"))?;
                out.copy(train, &format!("{name}.pw2.bias"))?;
            }
        }
    }
    Ok(())
}

fn owned(l: &LinearRef<'_>) -> FoldedLinear {
    FoldedLinear {
        weight: l.weight.to_vec(),
        bias: l
            .bias
            .map_or_else(|| std::vec![0.0; l.out], <[f32]>::to_vec),
        out: l.out,
        inp: l.inp,
    }
}

/// The training arenas, looked up by slot name.
struct Train<'a> {
    table: TablePlan,
    params: &'a [f32],
    buffers: &'a [f32],
}

fn missing(name: &str, table: &str) -> FoldError {
    FoldError::InvalidArgument {
        fold: FOLD,
        problem: format!(
            "the {table} table has no slot `{name}` that the op list needs; the plan is \
             inconsistent (regenerate it from the spec)"
        ),
    }
}

impl<'a> Train<'a> {
    fn param(&self, name: &str) -> Result<&'a [f32], FoldError> {
        let slot = self
            .table
            .param(name)
            .ok_or_else(|| missing(name, "training params"))?;
        Ok(&self.params[slot.range()])
    }

    fn buffer(&self, name: &str) -> Result<&'a [f32], FoldError> {
        let slot = self
            .table
            .buffer(name)
            .ok_or_else(|| missing(name, "training buffers"))?;
        Ok(&self.buffers[slot.range()])
    }

    fn linear<'n>(
        &self,
        name: &'n str,
        out: usize,
        inp: usize,
        bias: bool,
    ) -> Result<LinearRef<'n>, FoldError>
    where
        'a: 'n,
    {
        let weight = self.param(&format!("{name}.weight"))?;
        let bias = if bias {
            Some(self.param(&format!("{name}.bias"))?)
        } else {
            None
        };
        Ok(LinearRef::new(name, weight, bias, out, inp))
    }

    fn layer_norm<'n>(&self, name: &'n str) -> Result<LayerNormRef<'n>, FoldError>
    where
        'a: 'n,
    {
        Ok(LayerNormRef {
            name,
            gamma: self.param(&format!("{name}.gamma"))?,
            beta: self.param(&format!("{name}.beta"))?,
        })
    }
}

/// The folded arena being filled, with a check that every slot is written exactly once.
struct Folded<'p> {
    plan: &'p ModelPlan,
    arena: Vec<f32>,
    written: Vec<bool>,
}

impl<'p> Folded<'p> {
    fn new(plan: &'p ModelPlan) -> Self {
        let slots = plan.folded.params.len() + plan.folded.buffers.len();
        Folded {
            plan,
            arena: std::vec![0.0; plan.folded.params_len() + plan.folded.buffers_len()],
            written: std::vec![false; slots],
        }
    }

    /// `(index among all slots, offset in the arena, slot)` of the folded slot `name`.
    fn find(&self, name: &str) -> Option<(usize, usize, &'static SlotPlan)> {
        let t = &self.plan.folded;
        let params_len = t.params_len();
        t.params
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.offset, s))
            .chain(
                t.buffers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (t.params.len() + i, params_len + s.offset, s)),
            )
            .find(|(_, _, s)| s.name == name)
    }

    fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn put(&mut self, name: &str, values: &[f32]) -> Result<(), FoldError> {
        let (i, offset, slot) = self.find(name).ok_or_else(|| missing(name, "folded"))?;
        super::check_len(FOLD, name, "(folded)", slot.shape, values.len())?;
        if self.written[i] {
            return Err(FoldError::InvalidArgument {
                fold: FOLD,
                problem: format!(
                    "folded slot `{name}` is produced twice; the plan is inconsistent"
                ),
            });
        }
        self.arena[offset..offset + values.len()].copy_from_slice(values);
        self.written[i] = true;
        Ok(())
    }

    fn put_linear(&mut self, name: &str, l: &FoldedLinear) -> Result<(), FoldError> {
        self.put(&format!("{name}.weight"), &l.weight)?;
        self.put(&format!("{name}.bias"), &l.bias)
    }

    /// Copies a slot that the fold leaves unchanged (same name in both tables).
    fn copy(&mut self, train: &Train<'_>, name: &str) -> Result<(), FoldError> {
        let values = match train.table.param(name) {
            Some(s) => &train.params[s.range()],
            None => train.buffer(name)?,
        };
        self.put(name, values)
    }

    fn finish(self) -> Result<Vec<f32>, FoldError> {
        let t = &self.plan.folded;
        match t
            .params
            .iter()
            .chain(t.buffers)
            .zip(&self.written)
            .find(|(_, w)| !**w)
        {
            Some((slot, _)) => Err(FoldError::InvalidArgument {
                fold: FOLD,
                problem: format!(
                    "no op produces the folded slot `{}`; the plan is inconsistent (regenerate \
                     it from the spec)",
                    slot.name
                ),
            }),
            None => Ok(self.arena),
        }
    }
}
