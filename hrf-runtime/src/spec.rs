//! Spec → plan at run time (feature `spec`): compiles a YAML spec with `hrf-compiler` and turns
//! the checked model into the same [`ModelPlan`] that generated code holds as a `const`, so that
//! tools can train and fold any spec without recompiling.
//!
//! A plan is `'static` data; building one here leaks its strings and slices (a few kilobytes,
//! once per spec per process).

use std::boxed::Box;
use std::string::String;
use std::vec::Vec;

use hrf_compiler::CheckedModel;
use hrf_compiler::ir::{self, Op, SublayerKind};
use hrf_compiler::layout::{Layout, SlotKind};

use crate::plan::{
    Activation, AttentionPlan, BlockKindPlan, BlockPlan, ConvPlan, FfnPlan, HrfDecay, HrfInit,
    HrfPlan, MergePlan, ModelPlan, PlanOp, SlotPlan, SublayerKindPlan, SublayerPlan, TablePlan,
};

/// Compiles a YAML spec and builds its plan. On error, the rendered diagnostics (rustc style,
/// naming `path_for_messages`).
pub fn plan_from_yaml(path_for_messages: &str, text: &str) -> Result<&'static ModelPlan, String> {
    let model = hrf_compiler::compile_yaml(path_for_messages, text)
        .map_err(|d| d.render(path_for_messages, text))?;
    Ok(plan_from_checked(&model))
}

/// The plan of a checked model (leaked, see the module docs).
pub fn plan_from_checked(model: &CheckedModel) -> &'static ModelPlan {
    let ir = &model.ir;
    let dims: Vec<(&'static str, i64)> = ir.dims.iter().map(|(n, v)| (leak_str(n), *v)).collect();
    let classes: Vec<&'static str> = ir.classes.iter().map(|c| leak_str(c)).collect();
    let ops: Vec<PlanOp> = ir.ops.iter().map(plan_op).collect();
    leak(ModelPlan {
        name: leak_str(&ir.name),
        module: leak_str(&ir.module),
        spec_hash: leak_str(&model.spec_hash()),
        features: ir.features,
        max_frames: ir.max_frames,
        dims: leak_slice(dims),
        classes: leak_slice(classes),
        dropout: ir.dropout as f32,
        ops: leak_slice(ops),
        train: table(&model.train),
        folded: table(&model.folded),
    })
}

fn table(layout: &Layout) -> TablePlan {
    let slots = |kind: SlotKind| -> &'static [SlotPlan] {
        leak_slice(
            layout
                .slots
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| SlotPlan {
                    name: leak_str(&s.name),
                    shape: leak_slice(s.shape.clone()),
                    offset: s.offset,
                })
                .collect(),
        )
    };
    TablePlan {
        params: slots(SlotKind::Param),
        buffers: slots(SlotKind::Buffer),
    }
}

fn plan_op(op: &Op) -> PlanOp {
    match op {
        Op::FeatureNorm { name, features } => PlanOp::FeatureNorm {
            name: leak_str(name),
            features: *features,
        },
        Op::ConvSubsample(c) => PlanOp::ConvSubsample(ConvPlan {
            name: leak_str(&c.name),
            in_channels: c.in_channels,
            out_channels: c.out_channels,
            kernel: c.kernel,
            stride: c.stride,
            padding: c.padding,
        }),
        Op::Positions { width, .. } => PlanOp::Positions { width: *width },
        Op::Block(b) => PlanOp::Block(BlockPlan {
            name: leak_str(&b.name),
            kind: match b.kind {
                ir::BlockKind::ConvTransformer => BlockKindPlan::ConvTransformer,
                ir::BlockKind::Conformer => BlockKindPlan::Conformer,
                ir::BlockKind::SpeechFormer => BlockKindPlan::SpeechFormer,
            },
            width: b.width,
            sublayers: leak_slice(b.sublayers.iter().map(sublayer).collect()),
            final_norm: b.final_norm,
        }),
        Op::Merge(m) => PlanOp::Merge(MergePlan {
            name: leak_str(&m.name),
            factor: m.factor,
            in_width: m.in_width,
            out_width: m.out_width,
        }),
        Op::FinalNorm { name, width } => PlanOp::FinalNorm {
            name: leak_str(name),
            width: *width,
        },
        Op::Pool { width } => PlanOp::Pool { width: *width },
        Op::Classifier {
            name,
            width,
            classes,
        } => PlanOp::Classifier {
            name: leak_str(name),
            width: *width,
            classes: *classes,
        },
    }
}

fn sublayer(s: &ir::SublayerIr) -> SublayerPlan {
    let kind = match &s.kind {
        SublayerKind::Ffn(f) => SublayerKindPlan::Ffn(FfnPlan {
            width: f.width,
            hidden: f.hidden,
            act: match f.act {
                ir::Activation::Relu => Activation::Relu,
                ir::Activation::Swish => Activation::Swish,
                ir::Activation::Gelu => Activation::Gelu,
            },
            hrf: f.hrf.as_ref().map(|h| HrfPlan {
                expand: h.expand,
                depth: h.depth,
                bias: h.bias,
                inner: h.inner,
                init: match h.init {
                    ir::HrfInit::Default => HrfInit::Default,
                    ir::HrfInit::Identity => HrfInit::Identity,
                    ir::HrfInit::Balanced => HrfInit::Balanced,
                },
                decay: match h.decay {
                    ir::HrfDecay::Factors => HrfDecay::Factors,
                    ir::HrfDecay::Merged => HrfDecay::Merged,
                },
                lr_scale: h.lr_scale as f32,
            }),
        }),
        SublayerKind::Attention(a) => SublayerKindPlan::Attention(AttentionPlan {
            width: a.width,
            heads: a.heads,
            head_dim: a.head_dim,
            window: a.window,
        }),
        SublayerKind::ConvModule { width, kernel } => SublayerKindPlan::ConvModule {
            width: *width,
            kernel: *kernel,
        },
    };
    SublayerPlan {
        name: leak_str(&s.name),
        residual_scale: s.residual_scale as f32,
        kind,
    }
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn leak_str(s: &str) -> &'static str {
    Box::leak(String::from(s).into_boxed_str())
}

fn leak_slice<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_becomes_a_plan_with_its_tables() {
        for (name, text) in hrf_compiler::presets::PRESETS {
            let plan = plan_from_yaml(name, text).expect("preset compiles");
            let model = hrf_compiler::compile_yaml(name, text).expect("preset compiles");
            assert_eq!(plan.train.params_len(), model.train.param_count(), "{name}");
            assert_eq!(
                plan.folded.params_len(),
                model.folded.param_count(),
                "{name}"
            );
            assert_eq!(plan.ops.len(), model.ir.ops.len(), "{name}");
            assert_eq!(plan.spec_hash.len(), 32, "{name}");
            for slot in plan.train.params {
                let s = model.train.get(slot.name).expect("slot exists");
                assert_eq!((slot.shape, slot.offset), (&s.shape[..], s.offset));
            }
        }
    }

    /// The compiler's memory budget sizes the folded scratch with its own walk of the IR: it
    /// must be the executor's exact figure.
    #[test]
    fn the_budget_counts_the_executors_exact_scratch() {
        assert_eq!(
            hrf_compiler::budget::TIME_ALIGN,
            crate::infer::gemm::TIME_ALIGN
        );
        for (name, text) in hrf_compiler::presets::PRESETS {
            let model = hrf_compiler::compile_yaml(name, text).expect("preset compiles");
            let plan = plan_from_checked(&model);
            assert_eq!(
                hrf_compiler::budget::scratch_f32s(&model),
                crate::infer::scratch_len(plan) as u128,
                "{name}"
            );
        }
    }

    #[test]
    fn a_bad_spec_returns_rendered_diagnostics() {
        let err = plan_from_yaml("bad.yaml", "name: X\n").unwrap_err();
        assert!(err.contains("bad.yaml"), "{err}");
    }
}
