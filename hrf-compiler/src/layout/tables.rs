//! Stage 4 (layout tables): walks the `ModelIr` op list once and emits the slot table, either for
//! the training model or for the folded (deployed) model.

use super::{Cost, Layout, Slot, SlotKind, Stage};
use crate::ir::{BlockIr, FfnIr, ModelIr, Op, SublayerKind};

/// Builds the table. With `folded`: HRF merged into W1, Q/K/V fused, LayerNorm γ/β dropped
/// wherever a linear follows (directly or through mean pooling), BatchNorm merged into the
/// depthwise conv (which gains a bias), CMVN merged into the first conv.
pub(super) fn table(ir: &ModelIr, folded: bool) -> Result<Layout, String> {
    let mut t = Table {
        slots: Vec::new(),
        stages: vec![Stage::Input],
        offsets: [0; 3],
        folded,
    };
    let mut stage = 0;
    let last_block = ir.ops.iter().rposition(|op| matches!(op, Op::Block(_)));
    let has_final_norm = ir.ops.iter().any(|op| matches!(op, Op::FinalNorm { .. }));
    let has_feature_norm = ir.ops.iter().any(|op| matches!(op, Op::FeatureNorm { .. }));
    let first_conv = ir
        .ops
        .iter()
        .position(|op| matches!(op, Op::ConvSubsample(_)));
    for (i, op) in ir.ops.iter().enumerate() {
        match op {
            Op::FeatureNorm { name, features } => {
                // CMVN folds into the first conv; without one there is nothing linear to take it.
                if !folded || first_conv.is_none() {
                    t.buffer(&format!("{name}.mean"), &[*features])?;
                    t.buffer(&format!("{name}.std"), &[*features])?;
                }
                if !folded {
                    t.act(&format!("{name}.out"), &[ir.max_frames, *features])?;
                }
            }
            Op::ConvSubsample(c) => {
                t.stages.push(Stage::Conv {
                    prev: stage,
                    kernel: c.kernel,
                    stride: c.stride,
                    padding: c.padding,
                });
                stage = t.stages.len() - 1;
                let macs = c.out_channels * c.in_channels * c.kernel;
                t.weight(
                    &format!("{}.weight", c.name),
                    &[c.out_channels, c.in_channels, c.kernel],
                    stage,
                    macs,
                )?;
                t.param(&format!("{}.bias", c.name), &[c.out_channels])?;
                // CMVN folded into a zero-padded first conv: taps that read padding need the
                // per-tap correction `e[co][kk] = Σ_ci W[co][ci][kk]·μ_ci/σ_ci`.
                if folded && Some(i) == first_conv && has_feature_norm && c.padding > 0 {
                    t.param(
                        &format!("{}.edge_bias", c.name),
                        &[c.out_channels, c.kernel],
                    )?;
                }
                t.act(&format!("{}.out", c.name), &[c.out_frames, c.out_channels])?;
            }
            Op::Positions { width, frames } => {
                t.act("frontend.positions.out", &[*frames, *width])?
            }
            Op::Block(b) => {
                // A Conformer's closing LayerNorm feeds the next block's LayerNorm (not foldable)
                // unless it is the last block, whose output goes through pooling to the classifier.
                let closing_foldable = Some(i) == last_block && !has_final_norm;
                t.block(b, stage, closing_foldable)?;
            }
            Op::Merge(m) => {
                t.stages.push(Stage::Merge {
                    prev: stage,
                    factor: m.factor,
                });
                stage = t.stages.len() - 1;
                t.act(&format!("{}.pool.out", m.name), &[m.out_frames, m.in_width])?;
                t.norm(&format!("{}.norm", m.name), m.out_frames, m.in_width, true)?;
                t.linear(
                    &format!("{}.proj", m.name),
                    m.out_width,
                    m.in_width,
                    true,
                    stage,
                    m.out_frames,
                )?;
            }
            Op::FinalNorm { name, width } => {
                let frames = t.last_frames(ir);
                t.norm(name, frames, *width, true)?;
            }
            Op::Pool { width } => t.act("pool.out", &[*width])?,
            Op::Classifier {
                name,
                width,
                classes,
            } => {
                t.stages.push(Stage::Utterance);
                let s = t.stages.len() - 1;
                t.linear(name, *classes, *width, true, s, 1)?;
            }
        }
    }
    Ok(Layout {
        slots: t.slots,
        stages: t.stages,
    })
}

struct Table {
    slots: Vec<Slot>,
    stages: Vec<Stage>,
    /// Next free offset in the param, buffer and activation arenas.
    offsets: [usize; 3],
    folded: bool,
}

impl Table {
    fn push(
        &mut self,
        name: &str,
        shape: &[usize],
        kind: SlotKind,
        cost: Cost,
    ) -> Result<(), String> {
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|&l| l <= isize::MAX as usize / 4)
            .ok_or_else(|| {
                format!("tensor `{name}` with shape {shape:?} is too large to address")
            })?;
        let arena = kind as usize;
        let offset = self.offsets[arena];
        self.offsets[arena] = offset
            .checked_add(len)
            .ok_or_else(|| format!("the model's tensors are too large to address (at `{name}`)"))?;
        self.slots.push(Slot {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset,
            kind,
            cost,
        });
        Ok(())
    }

    fn param(&mut self, name: &str, shape: &[usize]) -> Result<(), String> {
        self.push(name, shape, SlotKind::Param, Cost::None)
    }

    fn weight(
        &mut self,
        name: &str,
        shape: &[usize],
        stage: usize,
        macs: usize,
    ) -> Result<(), String> {
        self.push(name, shape, SlotKind::Param, Cost::PerFrame { stage, macs })
    }

    fn buffer(&mut self, name: &str, shape: &[usize]) -> Result<(), String> {
        self.push(name, shape, SlotKind::Buffer, Cost::None)
    }

    fn act(&mut self, name: &str, shape: &[usize]) -> Result<(), String> {
        self.push(name, shape, SlotKind::Activation, Cost::None)
    }

    /// `{name}.weight (out, in)`, optional `{name}.bias (out)`, output `{name}.out (frames, out)`.
    fn linear(
        &mut self,
        name: &str,
        out: usize,
        inp: usize,
        bias: bool,
        stage: usize,
        frames: usize,
    ) -> Result<(), String> {
        self.weight(&format!("{name}.weight"), &[out, inp], stage, out * inp)?;
        if bias {
            self.param(&format!("{name}.bias"), &[out])?;
        }
        if frames == 1 && matches!(self.stages.get(stage), Some(Stage::Utterance)) {
            self.act(&format!("{name}.out"), &[out])
        } else {
            self.act(&format!("{name}.out"), &[frames, out])
        }
    }

    /// LayerNorm: γ/β (dropped when folded into a following linear), saved mean/rstd for training.
    fn norm(
        &mut self,
        name: &str,
        frames: usize,
        width: usize,
        foldable: bool,
    ) -> Result<(), String> {
        if !(self.folded && foldable) {
            self.param(&format!("{name}.gamma"), &[width])?;
            self.param(&format!("{name}.beta"), &[width])?;
        }
        if !self.folded {
            self.act(&format!("{name}.mean"), &[frames])?;
            self.act(&format!("{name}.rstd"), &[frames])?;
        }
        self.act(&format!("{name}.out"), &[frames, width])
    }

    fn last_frames(&self, ir: &ModelIr) -> usize {
        ir.ops
            .iter()
            .rev()
            .find_map(|op| match op {
                Op::Block(b) => Some(b.frames),
                Op::Merge(m) => Some(m.out_frames),
                Op::ConvSubsample(c) => Some(c.out_frames),
                _ => None,
            })
            .unwrap_or(ir.max_frames)
    }

    fn block(&mut self, b: &BlockIr, stage: usize, closing_foldable: bool) -> Result<(), String> {
        let (t, d) = (b.frames, b.width);
        for s in &b.sublayers {
            let name = &s.name;
            // Every sublayer opens with a LayerNorm feeding a linear (HRF, W1, Q/K/V or pw1).
            self.norm(&format!("{name}.norm"), t, d, true)?;
            match &s.kind {
                SublayerKind::Ffn(f) => self.ffn(name, f, stage, t)?,
                SublayerKind::Attention(a) => {
                    if self.folded {
                        self.linear(&format!("{name}.qkv"), 3 * d, d, true, stage, t)?;
                    } else {
                        for p in ["q", "k", "v"] {
                            self.linear(&format!("{name}.{p}"), d, d, true, stage, t)?;
                        }
                    }
                    let keys = a.window.map_or(t, |w| (2 * (w / 2) + 1).min(t));
                    let cost = Cost::Attention {
                        stage,
                        heads: a.heads,
                        head_dim: a.head_dim,
                        window: a.window,
                    };
                    self.push(
                        &format!("{name}.scores"),
                        &[a.heads, t, keys],
                        SlotKind::Activation,
                        cost,
                    )?;
                    self.act(&format!("{name}.context"), &[t, d])?;
                    self.linear(&format!("{name}.proj"), d, d, true, stage, t)?;
                }
                SublayerKind::ConvModule { width, kernel } => {
                    let w = *width;
                    self.linear(&format!("{name}.pw1"), 2 * w, w, true, stage, t)?;
                    self.act(&format!("{name}.glu.out"), &[t, w])?;
                    self.weight(
                        &format!("{name}.dw.weight"),
                        &[w, *kernel],
                        stage,
                        w * kernel,
                    )?;
                    if self.folded {
                        // BatchNorm folded: W' = W·γ/σ, b' = β − μ·γ/σ.
                        self.param(&format!("{name}.dw.bias"), &[w])?;
                        self.act(&format!("{name}.dw.out"), &[t, w])?;
                    } else {
                        self.act(&format!("{name}.dw.out"), &[t, w])?;
                        self.param(&format!("{name}.bn.gamma"), &[w])?;
                        self.param(&format!("{name}.bn.beta"), &[w])?;
                        self.buffer(&format!("{name}.bn.running_mean"), &[w])?;
                        self.buffer(&format!("{name}.bn.running_var"), &[w])?;
                        self.act(&format!("{name}.bn.out"), &[t, w])?;
                    }
                    self.act(&format!("{name}.swish.out"), &[t, w])?;
                    self.linear(&format!("{name}.pw2"), w, w, true, stage, t)?;
                }
            }
            self.act(&format!("{name}.residual"), &[t, d])?;
        }
        if b.final_norm {
            self.norm(&format!("{}.norm", b.name), t, d, closing_foldable)?;
        }
        Ok(())
    }

    /// Train: `hrf.0 … hrf.{k-1}` (d → m → … → m), then W1' (f × m); folded: W1 (f × d).
    fn ffn(&mut self, name: &str, f: &FfnIr, stage: usize, t: usize) -> Result<(), String> {
        let mut inp = f.width;
        if let (Some(h), false) = (&f.hrf, self.folded) {
            for j in 0..h.depth {
                self.linear(&format!("{name}.hrf.{j}"), h.inner, inp, h.bias, stage, t)?;
                inp = h.inner;
            }
        }
        self.linear(&format!("{name}.w1"), f.hidden, inp, true, stage, t)?;
        self.act(&format!("{name}.act.out"), &[t, f.hidden])?;
        self.linear(&format!("{name}.w2"), f.width, f.hidden, true, stage, t)
    }
}
