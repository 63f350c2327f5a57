//! Tests of stage 5 (codegen) on emitted tokens: every preset's output parses as a file, the
//! folded struct's fields and types follow the folded table, and the embedded static appears
//! only when asked for.

use super::*;
use crate::presets::PRESETS;

fn compile(text: &str) -> CheckedModel {
    match crate::compile_yaml("test.yaml", text) {
        Ok(model) => model,
        Err(d) => panic!("spec does not compile:\n{}", d.render("test.yaml", text)),
    }
}

fn preset(name: &str) -> CheckedModel {
    compile(crate::presets::preset(name).unwrap_or_else(|| panic!("no preset {name}")))
}

fn parse_file(tokens: TokenStream) -> syn::File {
    match syn::parse2(tokens.clone()) {
        Ok(file) => file,
        Err(e) => panic!("generated code is not a Rust file ({e}):\n{tokens}"),
    }
}

/// `(field name, type without the `::hrf_runtime::__private::` prefix)` of struct `name`.
fn struct_fields(file: &syn::File, name: &str) -> Vec<(String, String)> {
    for item in &file.items {
        if let syn::Item::Struct(s) = item
            && s.ident == name
        {
            return s
                .fields
                .iter()
                .map(|f| {
                    let ident = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                    let ty = quote!(#f.ty).to_string();
                    let ty = match &f.ty {
                        syn::Type::Path(p) => {
                            let last = p.path.segments.last().map(|s| quote!(#s).to_string());
                            last.unwrap_or(ty)
                        }
                        _ => ty,
                    };
                    (ident, ty.replace(' ', ""))
                })
                .collect();
        }
    }
    panic!("no struct {name} in the output");
}

fn item_names(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Const(c) => Some(c.ident.to_string()),
            syn::Item::Mod(m) => Some(m.ident.to_string()),
            syn::Item::Static(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_preset_generates_a_file_with_all_items() {
    for (preset_name, text) in PRESETS {
        let model = compile(text);
        let file = parse_file(generate(&model, &CodegenOptions::default()));
        let names = item_names(&file);
        let name = &model.ir.name;
        for expected in [
            model.ir.module.clone(),
            format!("{}_PLAN", model.ir.module.to_uppercase()),
            format!("{name}Folded"),
            format!("{name}Scratch"),
        ] {
            assert!(
                names.contains(&expected),
                "{preset_name}: {expected} missing from {names:?}"
            );
        }
        // The training type sits inside `__with_std! { … }`: its tokens parse as items there.
        let with_std: Vec<&syn::ItemMacro> = file
            .items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "__with_std") =>
                {
                    Some(m)
                }
                _ => None,
            })
            .collect();
        let train_found = with_std.iter().any(|m| {
            let inner: syn::File = syn::parse2(m.mac.tokens.clone()).expect("items inside");
            item_names(&inner).contains(&format!("{name}Train"))
        });
        assert!(
            train_found,
            "{preset_name}: no {name}Train inside __with_std!"
        );
        // No static unless weights are embedded.
        assert!(
            !names.contains(&model.ir.module.to_uppercase()),
            "{preset_name}"
        );
        let formatted =
            generate_file(&model, &CodegenOptions::default(), "// header").expect("formats");
        assert!(formatted.starts_with("// header\n"), "{preset_name}");
    }
}

#[test]
fn conformer_light_hrf_fields_are_the_folded_layers_with_literal_shapes() {
    let model = preset("conformer_light_hrf");
    let file = parse_file(generate(&model, &CodegenOptions::default()));
    let fields = struct_fields(&file, "ConformerLightHrfFolded");
    let expect = |name: &str, ty: &str| {
        let found = fields.iter().find(|(n, _)| n == name);
        assert_eq!(
            found.map(|(_, t)| t.as_str()),
            Some(ty),
            "field {name} in {fields:?}"
        );
    };
    // CMVN folded into a padded first conv: the edge correction makes it an InputConv1d.
    expect("frontend_conv_0", "InputConv1d<64,64,3>");
    expect("frontend_conv_1", "Conv1d<64,64,3>");
    // HRF folded: W1 is (256, 64) again, i.e. Linear<in 64, out 256>.
    expect("encoder_0_ffn1_w1", "Linear<64,256>");
    expect("encoder_0_ffn1_w2", "Linear<256,64>");
    expect("encoder_0_attn_qkv", "Linear<64,192>");
    expect("encoder_0_attn_proj", "Linear<64,64>");
    expect("encoder_0_conv_pw1", "Linear<64,128>");
    expect("encoder_0_conv_dw", "DepthwiseConv1d<64,15>");
    expect("encoder_3_ffn2_w2", "Linear<256,64>");
    expect("classifier", "Linear<64,4>");
    // Pre-LNs are folded away; a Conformer's closing norm feeding the next block is not.
    assert!(!fields.iter().any(|(n, _)| n == "encoder_0_ffn1_norm"));
    expect("encoder_0_norm", "LayerNorm<64>");
    // One field per layer, in table order: 2 convs + 4 × (ffn 2 + attn 2 + conv 3 + ffn 2 + norm
    // 1, minus the last block's foldable closing norm) + classifier.
    assert_eq!(fields.len(), 2 + 4 * 10 - 1 + 1, "{fields:?}");
    assert_eq!(
        fields.first().map(|f| f.0.as_str()),
        Some("frontend_conv_0")
    );
    assert_eq!(fields.last().map(|f| f.0.as_str()), Some("classifier"));
}

#[test]
fn fields_tile_the_folded_arena_in_order_for_every_preset() {
    for (preset_name, text) in PRESETS {
        let model = compile(text);
        let fields = folded_fields(&model).expect("every preset maps to runtime layers");
        let mut next = 0;
        for field in &fields {
            assert_eq!(field.offset, next, "{preset_name}: {}", field.prefix);
            assert_eq!(field.ident, field.prefix.replace('.', "_"));
            next += field.len;
        }
        let arena =
            model.folded.param_count() + model.folded.buffers().map(|s| s.len()).sum::<usize>();
        assert_eq!(next, arena, "{preset_name}");
        for field in &fields {
            let slots: usize = model
                .folded
                .slots
                .iter()
                .filter(|s| s.kind != crate::layout::SlotKind::Activation)
                .filter(|s| s.name.rsplit_once('.').map(|(p, _)| p) == Some(field.prefix.as_str()))
                .map(|s| s.len())
                .sum();
            assert_eq!(slots, field.len, "{preset_name}: {}", field.prefix);
        }
    }
}

const NO_CONV_SPEC: &str = "
name: TinyNoConv
input: { features: 8, max_frames: 16 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend: { conv_subsample: { layers: 0, channels: d, kernel: 3, stride: 2 } }
encoder:
  - repeat: 1
    block: conv_transformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: relu, hrf: { expand: 2 } }
pool: mean
classes: [a, b]
";

#[test]
fn cmvn_without_a_conv_stays_a_feature_norm_after_the_params() {
    // Without a conv to absorb it, CMVN keeps its statistics as folded buffers, which follow
    // the params in the arena (and so come last in the struct).
    let Ok(model) = crate::compile_yaml("t.yaml", NO_CONV_SPEC) else {
        // A spec without convs is rejected by the checker: then nothing can produce a
        // FeatureNorm field, and the suffix mapping is covered by the layer_type test below.
        return;
    };
    let fields = folded_fields(&model).expect("maps");
    let last = fields.last().expect("fields");
    assert_eq!(last.layer, LayerType::FeatureNorm { features: 8 });
    assert_eq!(last.offset, model.folded.param_count());
}

#[test]
fn embedded_static_transmutes_the_included_bytes() {
    let model = preset("conv_transformer_light");
    let opts = CodegenOptions {
        embedded_weights: Some(EmbeddedWeights {
            bin_path: "/out/conv_transformer_light.weights.bin".into(),
            source: "weights/ct.safetensors".into(),
        }),
    };
    let file = parse_file(generate(&model, &opts));
    let static_item = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Static(s) if s.ident == "CONV_TRANSFORMER_LIGHT" => Some(s),
            _ => None,
        })
        .expect("static emitted");
    let ty = &static_item.ty;
    assert_eq!(quote!(#ty).to_string(), "ConvTransformerLightFolded");
    let expr = &static_item.expr;
    let expr = quote!(#expr).to_string().replace(' ', "");
    let bytes = 4 * model.folded.param_count();
    assert!(
        expr.contains(&format!(
            "transmute::<[u8;{bytes}],ConvTransformerLightFolded>"
        )),
        "{expr}"
    );
    assert!(
        expr.contains("include_bytes!(\"/out/conv_transformer_light.weights.bin\")"),
        "{expr}"
    );
    // The weights themselves are never float literals.
    let text = generate(&model, &opts).to_string();
    let floats = text
        .split_whitespace()
        .filter(|t| t.ends_with("f32") && t.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .count();
    // Only the plan's dropout and one residual scale per sublayer are float constants.
    let sublayers: usize = model
        .ir
        .ops
        .iter()
        .map(|op| match op {
            crate::ir::Op::Block(b) => b.sublayers.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(floats, 1 + sublayers, "{text}");
}

#[test]
fn formatted_output_reads_like_hand_written_code() {
    let model = preset("conformer_light_hrf");
    let text = generate_file(&model, &CodegenOptions::default(), "// @generated").expect("ok");
    for line in [
        "pub mod conformer_light_hrf {",
        "pub const D: usize = 64;",
        "pub const CONFORMER_LIGHT_HRF_PLAN: ::hrf_runtime::__private::ModelPlan = {",
        "ModelPlan {",
        "#[repr(C)]",
        "pub struct ConformerLightHrfFolded {",
        "pub encoder_0_ffn1_w1: ::hrf_runtime::__private::Linear<64, 256>,",
        "frames: &[[f32; 64]],",
        ") -> ::core::result::Result<[f32; 4], ::hrf_runtime::__private::InputError> {",
        "pub struct ConformerLightHrfScratch(",
        "pub struct ConformerLightHrfTrain(::hrf_runtime::__private::TrainModel<f32>);",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == line),
            "missing line `{line}` in:\n{text}"
        );
    }
}

#[test]
fn layer_types_render_their_const_generics_in_declaration_order() {
    assert_eq!(
        LayerType::Linear {
            inputs: 64,
            outputs: 256
        }
        .display(),
        "Linear<64, 256>"
    );
    assert_eq!(
        LayerType::InputConv1d {
            in_channels: 80,
            out_channels: 64,
            kernel: 3
        }
        .display(),
        "InputConv1d<80, 64, 3>"
    );
    assert_eq!(
        LayerType::DepthwiseConv1d {
            channels: 64,
            kernel: 15
        }
        .display(),
        "DepthwiseConv1d<64, 15>"
    );
    assert_eq!(
        LayerType::FeatureNorm { features: 64 }.display(),
        "FeatureNorm<64>"
    );
}
