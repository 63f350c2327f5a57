//! The nine presets compile; parameter counts and FLOPs match independent hand counts; the layout
//! tables are consistent; formatting does not change the compiled model.

use hrf_compiler::layout::SlotKind;
use hrf_compiler::presets::PRESETS;
use hrf_compiler::{CheckedModel, compile_yaml};

fn preset(name: &str) -> CheckedModel {
    let text = hrf_compiler::presets::preset(name).expect("preset exists");
    compile_yaml(name, text).unwrap_or_else(|d| panic!("{}", d.render(name, text)))
}

#[test]
fn every_preset_compiles_and_matches_its_file_on_disk() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
    for (name, text) in PRESETS {
        let on_disk = std::fs::read_to_string(format!("{dir}/{name}.yaml")).expect("spec file");
        assert_eq!(on_disk, text, "{name}: embedded text is stale");
        let model = preset(name);
        assert_eq!(
            model.ir.module, name,
            "name: must be the CamelCase of the file name"
        );
        assert_eq!(model.ir.classes, ["neutral", "angry", "happy", "sad"]);
        assert_eq!((model.ir.features, model.ir.max_frames), (64, 600));
    }
}

#[test]
fn train_params_exceed_folded_exactly_for_hrf_presets() {
    for (name, _) in PRESETS {
        let c = preset(name).param_counts();
        if name.ends_with("_hrf") {
            assert!(c.train > c.folded, "{name}: {c:?}");
            // deHRF gives exactly the plain light model.
            let light = preset(&name.replace("_hrf", "")).param_counts();
            assert_eq!(c.folded, light.train, "{name}");
            assert_eq!(c.deployed, light.deployed, "{name}");
        } else {
            assert_eq!(c.train, c.folded, "{name}: {c:?}");
        }
        assert!(
            c.deployed < c.folded,
            "{name}: LayerNorm folds must remove parameters"
        );
    }
}

#[test]
fn conv_transformer_light_param_counts_match_a_hand_count() {
    // Frontend: 2 × (64·64·3 + 64) = 24,704. Block: LN 128 + Q,K,V,O 4·(64·64 + 64) + LN 128
    // + W1 (256·64 + 256) + W2 (64·256 + 64) = 49,984; ×4 = 199,936. Final LN 128, classifier
    // 64·4 + 4 = 260. Total 225,028.
    let c = preset("conv_transformer_light").param_counts();
    assert_eq!(c.train, 225_028);
    // Deployed: the 9 LayerNorms' γ/β (9 × 128) fold into the following linears; folding CMVN
    // into the zero-padded first conv adds its edge correction (64 × 3).
    assert_eq!(c.deployed, 225_028 - 9 * 128 + 64 * 3);
    // HRF (m = 256): H (256·64 + 256) and W1' (256·256 + 256) replace W1 (256·64 + 256):
    // +65,792 per block.
    let h = preset("conv_transformer_light_hrf").param_counts();
    assert_eq!(h.train, 225_028 + 4 * 65_792);
}

#[test]
fn a_wide_first_kernel_makes_the_deployed_model_larger_than_folded() {
    // Kernel 33 instead of 3: the CMVN edge correction is 64 × 33 = 2,112 floats, more than the
    // 9 LayerNorms' 1,152 it saves (the case a fuzz run found; `deployed ≤ folded` is not a law).
    let text = PRESETS[1].1.replace("kernel: 3,", "kernel: 33,");
    let c = compile_yaml("k33.yaml", &text)
        .expect("kernel 33 compiles")
        .param_counts();
    assert_eq!(c.deployed, c.folded - 9 * 128 + 64 * 33);
    assert!(c.deployed > c.folded);
}

#[test]
fn conformer_light_deployed_count_drops_ln_and_batch_norm() {
    // Per block, folded: 4 sublayer LayerNorms (4 × 128) and BatchNorm γ/β (128), but the
    // depthwise conv gains a bias (64). The last block's closing LN folds into the classifier;
    // the other closing LNs feed a LayerNorm and stay. The first conv gains the CMVN edge
    // correction (64 × 3).
    let c = preset("conformer_light").param_counts();
    assert_eq!(
        c.train - c.deployed,
        4 * (4 * 128 + 128 - 64) + 128 - 64 * 3
    );
}

#[test]
fn folded_forward_flops_match_the_independent_count_at_300_frames() {
    // 2 FLOPs per multiply-add; 300 frames → 150 → 75 after subsampling.
    // conv_transformer_light: convs 150·64·64·3 + 75·64·64·3 MACs; per block QKV 75·64·192,
    // QKᵀ and AV 2·75·75·64, out 75·64·64, FFN 2·75·64·256; classifier 64·4.
    let ct = preset("conv_transformer_light");
    assert_eq!(ct.folded.forward_flops(300), 40_781_312);
    assert_eq!(
        (ct.folded.forward_flops(300) as f64 / 1e5).round() / 10.0,
        40.8
    );
    // conformer_light adds a second FFN and the conv module (75·64·128 + 75·64·15 + 75·64·64).
    let cf = preset("conformer_light");
    assert_eq!(cf.folded.forward_flops(300), 68_390_912);
    assert_eq!(
        (cf.folded.forward_flops(300) as f64 / 1e5).round() / 10.0,
        68.4
    );
    // Folding HRF restores the light model's cost exactly.
    assert_eq!(
        preset("conformer_light_hrf").folded.forward_flops(300),
        68_390_912
    );
    assert!(preset("conformer_light_hrf").train.forward_flops(300) > 68_390_912);
    // Per second of audio at 3 s.
    assert!((ct.folded.flops_per_second(300) - 40_781_312.0 / 3.0).abs() < 1.0);
}

#[test]
fn windowed_attention_counts_only_the_clipped_window() {
    // speechformer stage 1 (150 frames, window 5 → ±2): 150·5 − (2 + 1) · 2 = 744 scores.
    let sf = preset("speechformer_light");
    let ir_scores: usize = sf
        .ir
        .ops
        .iter()
        .filter_map(|op| match op {
            hrf_compiler::ir::Op::Block(b) if b.name == "encoder.0" => Some(b),
            _ => None,
        })
        .flat_map(|b| &b.sublayers)
        .filter_map(|s| match &s.kind {
            hrf_compiler::ir::SublayerKind::Attention(a) => Some(a.score_count(150)),
            _ => None,
        })
        .sum();
    assert_eq!(ir_scores, 744);
}

#[test]
fn layout_tables_are_contiguous_and_uniquely_named() {
    for (name, _) in PRESETS {
        let model = preset(name);
        for layout in [&model.train, &model.folded] {
            for kind in [SlotKind::Param, SlotKind::Buffer, SlotKind::Activation] {
                let mut next = 0;
                for s in layout.slots.iter().filter(|s| s.kind == kind) {
                    assert_eq!(s.offset, next, "{name}: {} is not contiguous", s.name);
                    next += s.len();
                }
                assert_eq!(next, layout.arena_len(kind));
            }
            let mut names: Vec<&str> = layout.slots.iter().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{name}: duplicate slot names");
        }
    }
}

#[test]
fn slot_names_and_shapes_follow_the_design() {
    let m = preset("conformer_light_hrf");
    let shape = |layout: &hrf_compiler::Layout, n: &str| layout.get(n).map(|s| s.shape.clone());
    assert_eq!(
        shape(&m.train, "encoder.2.ffn1.hrf.0.weight"),
        Some(vec![256, 64])
    );
    assert_eq!(
        shape(&m.train, "encoder.2.ffn1.w1.weight"),
        Some(vec![256, 256])
    );
    assert_eq!(
        shape(&m.train, "encoder.0.attn.q.weight"),
        Some(vec![64, 64])
    );
    assert_eq!(
        shape(&m.train, "encoder.0.conv.bn.running_var"),
        Some(vec![64])
    );
    assert_eq!(
        shape(&m.train, "frontend.conv.0.weight"),
        Some(vec![64, 64, 3])
    );
    assert_eq!(shape(&m.train, "frontend.norm.mean"), Some(vec![64]));
    assert_eq!(
        shape(&m.train, "encoder.3.attn.scores"),
        Some(vec![4, 150, 150])
    );
    // Folded: HRF gone, W1 back to (f, d), QKV fused, BN merged into a depthwise bias.
    assert_eq!(shape(&m.folded, "encoder.2.ffn1.hrf.0.weight"), None);
    assert_eq!(
        shape(&m.folded, "encoder.2.ffn1.w1.weight"),
        Some(vec![256, 64])
    );
    assert_eq!(
        shape(&m.folded, "encoder.0.attn.qkv.weight"),
        Some(vec![192, 64])
    );
    assert_eq!(shape(&m.folded, "encoder.0.conv.dw.bias"), Some(vec![64]));
    assert_eq!(shape(&m.folded, "encoder.0.conv.bn.gamma"), None);
    assert_eq!(shape(&m.folded, "frontend.norm.mean"), None);
    assert_eq!(shape(&m.folded, "encoder.0.ffn1.norm.gamma"), None);
    assert_eq!(shape(&m.folded, "encoder.0.norm.gamma"), Some(vec![64]));
    assert_eq!(shape(&m.folded, "encoder.3.norm.gamma"), None);
}

#[test]
fn hrf_depth_and_bias_shape_the_chain() {
    let text = hrf_compiler::presets::preset("conv_transformer_light_hrf")
        .expect("preset")
        .replace(
            "hrf: { expand: 4 }",
            "hrf: { expand: 2, depth: 3, bias: false }",
        );
    let m = compile_yaml("x.yaml", &text).expect("compiles");
    assert_eq!(
        m.train
            .get("encoder.0.ffn.hrf.0.weight")
            .map(|s| s.shape.clone()),
        Some(vec![128, 64])
    );
    assert_eq!(
        m.train
            .get("encoder.0.ffn.hrf.2.weight")
            .map(|s| s.shape.clone()),
        Some(vec![128, 128])
    );
    assert!(m.train.get("encoder.0.ffn.hrf.0.bias").is_none());
    assert!(m.train.get("encoder.0.ffn.hrf.3.weight").is_none());
    assert_eq!(
        m.train
            .get("encoder.0.ffn.w1.weight")
            .map(|s| s.shape.clone()),
        Some(vec![256, 128])
    );
}

#[test]
fn formatting_and_spans_do_not_change_the_model() {
    let flow = hrf_compiler::presets::preset("conformer_light_hrf").expect("preset");
    let block = r#"
# same model, block style, quoted expression, reordered dims, defaults spelt out
name: ConformerLightHrf
input:
  max_frames: 600
  features: 64
dims:
  ffn: "4 * d"
  heads: 4
  d: 64
frontend:
  positions: sinusoidal
  conv_subsample:
    layers: 2
    channels: d
    kernel: 3
    stride: 2
encoder:
  - repeat: 2 * 2
    block: conformer
    attention:
      heads: heads
    ffn:
      hidden: ffn
      act: swish
      hrf: { expand: 4, depth: 1, bias: true }
    conv:
      kernel: 15
pool: mean
dropout: 0.1
classes:
  - neutral
  - angry
  - happy
  - sad
"#;
    let a = compile_yaml("a.yaml", flow).expect("flow compiles");
    let b = compile_yaml("b.yaml", block).expect("block compiles");
    // Dims are listed in spec order; everything else must be identical.
    assert_eq!(a.ir.ops, b.ir.ops);
    assert_eq!(a.train, b.train);
    assert_eq!(a.folded, b.folded);
}

#[test]
fn hrf_true_means_the_defaults_and_false_means_none() {
    let base = hrf_compiler::presets::preset("conv_transformer_light_hrf").expect("preset");
    let explicit = compile_yaml("a.yaml", base).expect("compiles");
    let shorthand =
        compile_yaml("b.yaml", &base.replace("hrf: { expand: 4 }", "hrf: true")).expect("compiles");
    assert_eq!(explicit.train, shorthand.train);
    let off = compile_yaml("c.yaml", &base.replace("hrf: { expand: 4 }", "hrf: false"))
        .expect("compiles");
    assert_eq!(off.train, preset("conv_transformer_light").train);
}
