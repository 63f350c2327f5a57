//! The training engine's layers: one per plan op, each owning its resolved slots and the
//! activations its backward needs. Built once from `plan.ops`; forward walks them in order,
//! backward in reverse.

pub(crate) mod affine_chain;
mod attention;
pub(crate) mod block;
mod conv_module;
mod ffn;
mod frontend;
mod head;

use std::format;
use std::time::Instant;
use std::vec::Vec;

use crate::plan::{ModelPlan, PlanOp, SublayerKindPlan};
use crate::real::Real;

use super::Mode;
use super::TrainError;
use super::frames::Frames;
use super::profile::{Part, StepProfile};
use super::slots::SlotResolver;
use attention::AttentionBranch;
use block::{BlockLayer, Branch, LayerNormState, Sublayer};
use conv_module::{BatchNormSlots, ConvModuleBranch};
use ffn::FfnBranch;
use frontend::{ConvLayer, FeatureNormLayer, PositionsLayer};
use head::{LinearLayer, MergeLayer, PoolLayer};

/// What a forward pass reads and updates.
pub(crate) struct Fwd<'a, T> {
    /// The params arena.
    pub params: &'a [T],
    /// The buffers arena (BatchNorm running statistics move in train mode).
    pub buffers: &'a mut [T],
    pub mode: Mode,
    /// Residual-branch dropout probability (used in train mode only).
    pub dropout: f64,
    /// Where time goes, when profiling is on.
    pub profile: &'a mut Option<StepProfile>,
}

impl<T> Fwd<'_, T> {
    pub fn record(&mut self, part: Part, since: Instant) {
        if let Some(p) = self.profile.as_mut() {
            p.add(part, false, since);
        }
    }
}

impl<T> Bwd<'_, T> {
    pub fn record(&mut self, part: Part, since: Instant) {
        if let Some(p) = self.profile.as_mut() {
            p.add(part, true, since);
        }
    }
}

/// What a backward pass reads and accumulates into.
pub(crate) struct Bwd<'a, T> {
    pub params: &'a [T],
    pub buffers: &'a [T],
    /// Same layout as `params`; gradients are added.
    pub grads: &'a mut [T],
    pub mode: Mode,
    pub dropout: f64,
    pub profile: &'a mut Option<StepProfile>,
}

pub(crate) enum Layer<T> {
    FeatureNorm(FeatureNormLayer<T>),
    Conv(ConvLayer<T>),
    Positions(PositionsLayer<T>),
    Block(BlockLayer<T>),
    Merge(MergeLayer<T>),
    Norm(LayerNormState<T>),
    Pool(PoolLayer<T>),
    Classifier(LinearLayer<T>),
}

impl<T: Real> Layer<T> {
    /// Resolves op `index` of `plan` against the train table.
    pub fn build(plan: &'static ModelPlan, index: usize) -> Result<Self, TrainError> {
        let slots = SlotResolver { plan };
        Ok(match &plan.ops[index] {
            PlanOp::FeatureNorm { name, features } => Layer::FeatureNorm(FeatureNormLayer {
                mean: slots.buffer(format!("{name}.mean"), *features)?,
                std: slots.buffer(format!("{name}.std"), *features)?,
                features: *features,
                out: Vec::new(),
            }),
            PlanOp::ConvSubsample(c) => Layer::Conv(ConvLayer::new(
                *c,
                slots.linear(c.name, c.in_channels * c.kernel, c.out_channels, true)?,
            )),
            PlanOp::Positions { width } => {
                Layer::Positions(PositionsLayer::new(*width, plan.max_frames))
            }
            PlanOp::Block(b) => {
                let mut subs = Vec::with_capacity(b.sublayers.len());
                for (i, s) in b.sublayers.iter().enumerate() {
                    let norm = slots.norm(&format!("{}.norm", s.name), b.width)?;
                    let branch = match &s.kind {
                        SublayerKindPlan::Ffn(f) => {
                            let mut hrf = Vec::new();
                            let mut width = f.width;
                            if let Some(h) = &f.hrf {
                                for k in 0..h.depth {
                                    let name = format!("{}.hrf.{k}", s.name);
                                    hrf.push(slots.linear(&name, width, h.inner, h.bias)?);
                                    width = h.inner;
                                }
                            }
                            Branch::Ffn(FfnBranch::new(
                                hrf,
                                slots.linear(&format!("{}.w1", s.name), width, f.hidden, true)?,
                                slots.linear(&format!("{}.w2", s.name), f.hidden, f.width, true)?,
                                f.act,
                            ))
                        }
                        SublayerKindPlan::Attention(a) => {
                            let lin = |part: &str| {
                                slots.linear(&format!("{}.{part}", s.name), a.width, a.width, true)
                            };
                            Branch::Attention(AttentionBranch::new(
                                [lin("q")?, lin("k")?, lin("v")?],
                                lin("proj")?,
                                a.heads,
                                a.window,
                            ))
                        }
                        SublayerKindPlan::ConvModule { width, kernel } => {
                            let (w, k) = (*width, *kernel);
                            let dw_bias_name = format!("{}.dw.bias", s.name);
                            let dw_bias = if slots.has_param(&dw_bias_name) {
                                Some(slots.param(dw_bias_name, w)?)
                            } else {
                                None
                            };
                            Branch::Conv(ConvModuleBranch::new(
                                slots.linear(&format!("{}.pw1", s.name), w, 2 * w, true)?,
                                slots.param(format!("{}.dw.weight", s.name), w * k)?,
                                dw_bias,
                                k,
                                BatchNormSlots {
                                    affine: slots.norm(&format!("{}.bn", s.name), w)?,
                                    running_mean: slots
                                        .buffer(format!("{}.bn.running_mean", s.name), w)?,
                                    running_var: slots
                                        .buffer(format!("{}.bn.running_var", s.name), w)?,
                                },
                                slots.linear(&format!("{}.pw2", s.name), w, w, true)?,
                            ))
                        }
                    };
                    let site = (index as u64) << 8 | i as u64;
                    subs.push(Sublayer::new(norm, s.residual_scale as f64, site, branch));
                }
                let final_norm = if b.final_norm {
                    Some(LayerNormState::new(
                        slots.norm(&format!("{}.norm", b.name), b.width)?,
                    ))
                } else {
                    None
                };
                Layer::Block(BlockLayer::new(subs, final_norm))
            }
            PlanOp::Merge(m) => Layer::Merge(MergeLayer::new(
                m.factor,
                m.in_width,
                LayerNormState::new(slots.norm(&format!("{}.norm", m.name), m.in_width)?),
                slots.linear(&format!("{}.proj", m.name), m.in_width, m.out_width, true)?,
            )),
            PlanOp::FinalNorm { name, width } => {
                Layer::Norm(LayerNormState::new(slots.norm(name, *width)?))
            }
            PlanOp::Pool { width } => Layer::Pool(PoolLayer {
                width: *width,
                out: Vec::new(),
            }),
            PlanOp::Classifier {
                name,
                width,
                classes,
            } => Layer::Classifier(LinearLayer {
                slots: slots.linear(name, *width, *classes, true)?,
                out: Vec::new(),
            }),
        })
    }

    /// Whether the layer has trainable params (so layers before it need input gradients).
    pub fn has_params(&self) -> bool {
        !matches!(
            self,
            Layer::FeatureNorm(_) | Layer::Positions(_) | Layer::Pool(_)
        )
    }

    /// The frames after this layer, given the frames before it.
    pub fn out_frames(&self, fin: &Frames, fout: &mut Frames) {
        match self {
            Layer::Conv(c) => fout.set(fin.lengths.iter().map(|&l| c.conv.out_len(l))),
            Layer::Merge(m) => fout.set(fin.lengths.iter().map(|&l| l.div_ceil(m.factor))),
            Layer::Pool(_) => fout.set(fin.lengths.iter().map(|_| 1)),
            _ => fout.set(fin.lengths.iter().copied()),
        }
    }

    /// This layer's output; `x` is its input (a block without sublayers passes it through).
    pub fn output<'a>(&'a self, x: &'a [T]) -> &'a [T] {
        match self {
            Layer::FeatureNorm(l) => &l.out,
            Layer::Conv(l) => &l.out,
            Layer::Positions(l) => &l.out,
            Layer::Block(l) => l.output(x),
            Layer::Merge(l) => &l.out,
            Layer::Norm(l) => &l.out,
            Layer::Pool(l) => &l.out,
            Layer::Classifier(l) => &l.out,
        }
    }

    /// The profile group of a layer (blocks attribute their sublayers' time themselves).
    fn part(&self) -> Option<Part> {
        Some(match self {
            Layer::FeatureNorm(_) | Layer::Positions(_) => Part::Input,
            Layer::Conv(_) => Part::FrontendConv,
            Layer::Block(_) => return None,
            Layer::Merge(_) => Part::Merge,
            Layer::Norm(_) | Layer::Pool(_) | Layer::Classifier(_) => Part::Head,
        })
    }

    pub fn forward(&mut self, cx: &mut Fwd<'_, T>, x: &[T], fin: &Frames, fout: &Frames) {
        let t = Instant::now();
        self.forward_untimed(cx, x, fin, fout);
        if let Some(part) = self.part() {
            cx.record(part, t);
        }
    }

    fn forward_untimed(&mut self, cx: &mut Fwd<'_, T>, x: &[T], fin: &Frames, fout: &Frames) {
        match self {
            Layer::FeatureNorm(l) => l.forward(cx, x),
            Layer::Conv(l) => l.forward(cx, x, fin, fout),
            Layer::Positions(l) => l.forward(x, fin),
            Layer::Block(l) => l.forward(cx, x, fin),
            Layer::Merge(l) => l.forward(cx, x, fin, fout),
            Layer::Norm(l) => l.forward(cx.params, x),
            Layer::Pool(l) => l.forward(x, fin),
            Layer::Classifier(l) => l.forward(cx, x),
        }
    }

    /// `grad` holds `dL/d(output)` and, when `need_dinp`, is replaced by `dL/d(input)`
    /// (`spare` is scratch of any contents).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &mut self,
        cx: &mut Bwd<'_, T>,
        grad: &mut Vec<T>,
        spare: &mut Vec<T>,
        x: &[T],
        fin: &Frames,
        fout: &Frames,
        need_dinp: bool,
    ) {
        let t = Instant::now();
        self.backward_untimed(cx, grad, spare, x, fin, fout, need_dinp);
        if let Some(part) = self.part() {
            cx.record(part, t);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_untimed(
        &mut self,
        cx: &mut Bwd<'_, T>,
        grad: &mut Vec<T>,
        spare: &mut Vec<T>,
        x: &[T],
        fin: &Frames,
        fout: &Frames,
        need_dinp: bool,
    ) {
        match self {
            Layer::FeatureNorm(l) => {
                if need_dinp {
                    l.backward(cx, grad)
                }
            }
            Layer::Conv(l) => l.backward(cx, grad, spare, fin, fout, need_dinp),
            // PE is a constant: dL/dx = dL/dy.
            Layer::Positions(_) => {}
            Layer::Block(l) => l.backward(cx, grad, spare, x, fin),
            Layer::Merge(l) => l.backward(cx, grad, spare, fin, fout),
            Layer::Norm(l) => {
                crate::train::frames::zeroed(spare, grad.len());
                l.backward(cx, spare, grad, x);
                core::mem::swap(grad, spare);
            }
            Layer::Pool(l) => l.backward(grad, spare, fin),
            Layer::Classifier(l) => l.backward(cx, grad, spare, x),
        }
    }
}
