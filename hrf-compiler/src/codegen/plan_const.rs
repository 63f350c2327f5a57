//! Stage 5 (codegen, plan): the checked model → a `ModelPlan` constant
//! expression, field for field what `hrf_runtime::spec::plan_from_checked` builds at run time.

use proc_macro2::{Ident, Literal, TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::CheckedModel;
use crate::ir::{self, Op, SublayerKind};
use crate::layout::{Layout, Slot};

/// The `ModelPlan { … }` expression of `model` (all fields, both tables), as a block that
/// imports the plan types by absolute path first, so the tables read like hand-written data.
pub(super) fn plan_expr(model: &CheckedModel) -> TokenStream {
    let ir = &model.ir;
    let name = &ir.name;
    let module = &ir.module;
    let spec_hash = model.spec_hash();
    let features = Literal::usize_unsuffixed(ir.features);
    let max_frames = Literal::usize_unsuffixed(ir.max_frames);
    let dims = ir.dims.iter().map(|(dim, value)| {
        let value = Literal::i64_unsuffixed(*value);
        quote! { (#dim, #value) }
    });
    let classes = &ir.classes;
    let dropout = f32_literal(ir.dropout);
    let ops = ir.ops.iter().map(op_expr);
    let train = table_expr(&model.train);
    let folded = table_expr(&model.folded);
    // expands to:
    // { use ::hrf_runtime::__private::{ModelPlan, PlanOp, …}; ModelPlan {
    //     name: "ConformerLightHrf", module: "conformer_light_hrf", spec_hash: "…",
    //     features: 64, max_frames: 600, dims: &[("d", 64), …], classes: &["neutral", …],
    //     dropout: 0.1f32, ops: &[PlanOp::FeatureNorm { … }, …],
    //     train: TablePlan { params: &[SlotPlan { … }, …], buffers: &[…] }, folded: …,
    // } }
    let body = quote! {
        ModelPlan {
            name: #name,
            module: #module,
            spec_hash: #spec_hash,
            features: #features,
            max_frames: #max_frames,
            dims: &[#(#dims),*],
            classes: &[#(#classes),*],
            dropout: #dropout,
            ops: &[#(#ops),*],
            train: #train,
            folded: #folded,
        }
    };
    // Import exactly the plan types and `Option` variants the body names (no unused imports).
    let used = idents_in(&body);
    let option: Vec<Ident> = ["None", "Some"]
        .into_iter()
        .filter(|n| used.iter().any(|u| u == n))
        .map(|n| format_ident!("{n}"))
        .collect();
    let plan_types: Vec<Ident> = PLAN_TYPES
        .into_iter()
        .filter(|n| used.iter().any(|u| u == n))
        .map(|n| format_ident!("{n}"))
        .collect();
    let option_use = if option.is_empty() {
        TokenStream::new()
    } else {
        quote! { use ::core::option::Option::{#(#option),*}; }
    };
    // expands to: `{ use ::core::option::Option::{None, Some}; use ::hrf_runtime::__private::{…}; ModelPlan { … } }`
    quote! {
        {
            #option_use
            use ::hrf_runtime::__private::{#(#plan_types),*};
            #body
        }
    }
}

/// Every type a plan expression can name, in `use` order.
const PLAN_TYPES: [&str; 16] = [
    "Activation",
    "AttentionPlan",
    "BlockKindPlan",
    "BlockPlan",
    "ConvPlan",
    "FfnPlan",
    "HrfDecay",
    "HrfInit",
    "HrfPlan",
    "MergePlan",
    "ModelPlan",
    "PlanOp",
    "SlotPlan",
    "SublayerKindPlan",
    "SublayerPlan",
    "TablePlan",
];

/// Every identifier in `tokens`, recursively.
fn idents_in(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => out.extend(idents_in(&group.stream())),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// An `f32` literal equal to `value as f32` (dropout and residual scales: finite by the checks;
/// a non-finite value would be a compiler bug and becomes a compile error, not a panic).
fn f32_literal(value: f64) -> TokenStream {
    let value = value as f32;
    if value.is_finite() {
        let literal = Literal::f32_suffixed(value);
        quote! { #literal }
    } else {
        quote! { ::core::compile_error!("hrf codegen: a non-finite plan constant (please report this)") }
    }
}

fn table_expr(layout: &Layout) -> TokenStream {
    let params = layout.params().map(slot_expr);
    let buffers = layout.buffers().map(slot_expr);
    // expands to: `TablePlan { params: &[SlotPlan { name: "…", shape: &[64, 64, 3], offset: 0 }, …], buffers: &[…] }`
    quote! {
        TablePlan {
            params: &[#(#params),*],
            buffers: &[#(#buffers),*],
        }
    }
}

fn slot_expr(slot: &Slot) -> TokenStream {
    let name = &slot.name;
    let shape = slot.shape.iter().map(|d| Literal::usize_unsuffixed(*d));
    let offset = Literal::usize_unsuffixed(slot.offset);
    // expands to: `SlotPlan { name: "encoder.0.ffn1.w1.weight", shape: &[256, 64], offset: 24704 }`
    quote! {
        SlotPlan { name: #name, shape: &[#(#shape),*], offset: #offset }
    }
}

fn op_expr(op: &Op) -> TokenStream {
    let usize_lit = |n: usize| Literal::usize_unsuffixed(n);
    match op {
        Op::FeatureNorm { name, features } => {
            let features = usize_lit(*features);
            // expands to: `PlanOp::FeatureNorm { name: "frontend.norm", features: 64 }`
            quote! { PlanOp::FeatureNorm { name: #name, features: #features } }
        }
        Op::ConvSubsample(c) => {
            let name = &c.name;
            let (ci, co, k, s, p) = (
                usize_lit(c.in_channels),
                usize_lit(c.out_channels),
                usize_lit(c.kernel),
                usize_lit(c.stride),
                usize_lit(c.padding),
            );
            // expands to: `PlanOp::ConvSubsample(ConvPlan { name: "frontend.conv.0", in_channels: 64, … })`
            quote! {
                PlanOp::ConvSubsample(ConvPlan {
                    name: #name, in_channels: #ci, out_channels: #co, kernel: #k, stride: #s, padding: #p,
                })
            }
        }
        Op::Positions { width, .. } => {
            let width = usize_lit(*width);
            // expands to: `PlanOp::Positions { width: 64 }`
            quote! { PlanOp::Positions { width: #width } }
        }
        Op::Block(b) => {
            let name = &b.name;
            let kind = match b.kind {
                ir::BlockKind::ConvTransformer => quote! { ConvTransformer },
                ir::BlockKind::Conformer => quote! { Conformer },
                ir::BlockKind::SpeechFormer => quote! { SpeechFormer },
            };
            let width = usize_lit(b.width);
            let sublayers = b.sublayers.iter().map(sublayer_expr);
            let final_norm = b.final_norm;
            // expands to: `PlanOp::Block(BlockPlan { name: "encoder.0", kind: BlockKindPlan::Conformer,
            // width: 64, sublayers: &[SublayerPlan { … }, …], final_norm: true })`
            quote! {
                PlanOp::Block(BlockPlan {
                    name: #name,
                    kind: BlockKindPlan::#kind,
                    width: #width,
                    sublayers: &[#(#sublayers),*],
                    final_norm: #final_norm,
                })
            }
        }
        Op::Merge(m) => {
            let name = &m.name;
            let (factor, in_width, out_width) = (
                usize_lit(m.factor),
                usize_lit(m.in_width),
                usize_lit(m.out_width),
            );
            // expands to: `PlanOp::Merge(MergePlan { name: "merge.0", factor: 2, in_width: 64, out_width: 64 })`
            quote! {
                PlanOp::Merge(MergePlan {
                    name: #name, factor: #factor, in_width: #in_width, out_width: #out_width,
                })
            }
        }
        Op::FinalNorm { name, width } => {
            let width = usize_lit(*width);
            // expands to: `PlanOp::FinalNorm { name: "final_norm", width: 64 }`
            quote! { PlanOp::FinalNorm { name: #name, width: #width } }
        }
        Op::Pool { width } => {
            let width = usize_lit(*width);
            // expands to: `PlanOp::Pool { width: 64 }`
            quote! { PlanOp::Pool { width: #width } }
        }
        Op::Classifier {
            name,
            width,
            classes,
        } => {
            let (width, classes) = (usize_lit(*width), usize_lit(*classes));
            // expands to: `PlanOp::Classifier { name: "classifier", width: 64, classes: 4 }`
            quote! {
                PlanOp::Classifier { name: #name, width: #width, classes: #classes }
            }
        }
    }
}

fn sublayer_expr(s: &ir::SublayerIr) -> TokenStream {
    let name = &s.name;
    let scale = f32_literal(s.residual_scale);
    let usize_lit = |n: usize| Literal::usize_unsuffixed(n);
    let kind = match &s.kind {
        SublayerKind::Ffn(f) => {
            let (width, hidden) = (usize_lit(f.width), usize_lit(f.hidden));
            let act = match f.act {
                ir::Activation::Relu => quote! { Relu },
                ir::Activation::Swish => quote! { Swish },
                ir::Activation::Gelu => quote! { Gelu },
            };
            let hrf = match &f.hrf {
                Some(h) => {
                    let (expand, depth, inner) =
                        (usize_lit(h.expand), usize_lit(h.depth), usize_lit(h.inner));
                    let bias = h.bias;
                    let init = match h.init {
                        ir::HrfInit::Default => quote! { Default },
                        ir::HrfInit::Identity => quote! { Identity },
                        ir::HrfInit::Balanced => quote! { Balanced },
                    };
                    let decay = match h.decay {
                        ir::HrfDecay::Factors => quote! { Factors },
                        ir::HrfDecay::Merged => quote! { Merged },
                    };
                    let lr_scale = f32_literal(h.lr_scale);
                    quote! {
                        Some(HrfPlan {
                            expand: #expand, depth: #depth, bias: #bias, inner: #inner,
                            init: HrfInit::#init, decay: HrfDecay::#decay, lr_scale: #lr_scale,
                        })
                    }
                }
                None => quote! { None },
            };
            // expands to: `SublayerKindPlan::Ffn(FfnPlan { width: 64, hidden: 256,
            // act: Activation::Swish, hrf: Some(HrfPlan { expand: 4, depth: 1, bias: true, inner: 256,
            // init: HrfInit::Default, decay: HrfDecay::Factors, lr_scale: 1f32 }) })`
            quote! {
                SublayerKindPlan::Ffn(FfnPlan {
                    width: #width,
                    hidden: #hidden,
                    act: Activation::#act,
                    hrf: #hrf,
                })
            }
        }
        SublayerKind::Attention(a) => {
            let (width, heads, head_dim) = (
                usize_lit(a.width),
                usize_lit(a.heads),
                usize_lit(a.head_dim),
            );
            let window = match a.window {
                Some(w) => {
                    let w = usize_lit(w);
                    quote! { Some(#w) }
                }
                None => quote! { None },
            };
            // expands to: `SublayerKindPlan::Attention(AttentionPlan { width: 64, heads: 4,
            // head_dim: 16, window: None })`
            quote! {
                SublayerKindPlan::Attention(AttentionPlan {
                    width: #width, heads: #heads, head_dim: #head_dim, window: #window,
                })
            }
        }
        SublayerKind::ConvModule { width, kernel } => {
            let (width, kernel) = (usize_lit(*width), usize_lit(*kernel));
            // expands to: `SublayerKindPlan::ConvModule { width: 64, kernel: 15 }`
            quote! { SublayerKindPlan::ConvModule { width: #width, kernel: #kernel } }
        }
    };
    // expands to: `SublayerPlan { name: "encoder.0.ffn1", residual_scale: 0.5f32, kind: … }`
    quote! {
        SublayerPlan { name: #name, residual_scale: #scale, kind: #kind }
    }
}
