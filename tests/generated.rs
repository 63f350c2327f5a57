//! The build.rs output of the nine presets (`specs/*.yaml`): each generated `<MODULE>_PLAN`
//! equals the plan the CLI builds from the same YAML at run time, and each `<Name>Folded` is
//! exactly its folded arena (one `f32` per deployed weight).

include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));

use hrf_runtime::plan::ModelPlan;

/// The run-time plan of preset `name`, from the embedded YAML text.
fn runtime_plan(name: &str) -> &'static ModelPlan {
    let text = hrf_compiler::presets::preset(name).unwrap_or_else(|| panic!("no preset {name}"));
    hrf_runtime::spec::plan_from_yaml(name, text).unwrap_or_else(|e| panic!("{e}"))
}

/// `(preset, generated plan, size_of::<Folded>(), size_of::<Scratch>())` for all nine.
fn generated() -> [(&'static str, &'static ModelPlan, usize, usize); 9] {
    macro_rules! row {
        ($name:literal, $plan:ident, $folded:ty, $scratch:ty) => {
            ($name, &$plan, size_of::<$folded>(), size_of::<$scratch>())
        };
    }
    [
        row!(
            "conv_transformer_light",
            CONV_TRANSFORMER_LIGHT_PLAN,
            ConvTransformerLightFolded,
            ConvTransformerLightScratch
        ),
        row!(
            "conv_transformer_light_hrf",
            CONV_TRANSFORMER_LIGHT_HRF_PLAN,
            ConvTransformerLightHrfFolded,
            ConvTransformerLightHrfScratch
        ),
        row!(
            "conv_transformer_large",
            CONV_TRANSFORMER_LARGE_PLAN,
            ConvTransformerLargeFolded,
            ConvTransformerLargeScratch
        ),
        row!(
            "conformer_light",
            CONFORMER_LIGHT_PLAN,
            ConformerLightFolded,
            ConformerLightScratch
        ),
        row!(
            "conformer_light_hrf",
            CONFORMER_LIGHT_HRF_PLAN,
            ConformerLightHrfFolded,
            ConformerLightHrfScratch
        ),
        row!(
            "conformer_large",
            CONFORMER_LARGE_PLAN,
            ConformerLargeFolded,
            ConformerLargeScratch
        ),
        row!(
            "speechformer_light",
            SPEECHFORMER_LIGHT_PLAN,
            SpeechformerLightFolded,
            SpeechformerLightScratch
        ),
        row!(
            "speechformer_light_hrf",
            SPEECHFORMER_LIGHT_HRF_PLAN,
            SpeechformerLightHrfFolded,
            SpeechformerLightHrfScratch
        ),
        row!(
            "speechformer_large",
            SPEECHFORMER_LARGE_PLAN,
            SpeechformerLargeFolded,
            SpeechformerLargeScratch
        ),
    ]
}

#[test]
fn generated_plans_equal_the_run_time_plans() {
    for (name, plan, _, _) in generated() {
        let runtime = runtime_plan(name);
        assert_eq!(plan, runtime, "{name}");
        assert_eq!(plan.module, name);
    }
}

#[test]
fn each_folded_struct_is_its_folded_arena() {
    for (name, plan, folded_bytes, scratch_bytes) in generated() {
        let model = hrf_compiler::compile_yaml(
            name,
            hrf_compiler::presets::preset(name).unwrap_or_default(),
        )
        .unwrap_or_else(|_| panic!("{name} compiles"));
        let buffers: usize = model.folded.buffers().map(|s| s.len()).sum();
        assert_eq!(
            folded_bytes,
            4 * (model.folded.param_count() + buffers),
            "{name}"
        );
        assert_eq!(
            model.param_counts().deployed,
            model.folded.param_count(),
            "{name}"
        );
        assert_eq!(
            scratch_bytes,
            4 * hrf_runtime::infer::scratch_len(plan),
            "{name}"
        );
    }
}

#[test]
fn folded_fields_carry_the_deployed_shapes() {
    // Spot checks of the const generics: HRF folded back to W1 (in 64 → out 256), fused Q/K/V,
    // a depthwise conv with its BatchNorm folded in, the CMVN-aware first conv.
    let zeroed =
        ConformerLightHrfFolded::from_f32s(&vec![0.0; size_of::<ConformerLightHrfFolded>() / 4])
            .expect("arena length");
    let w1: &hrf_runtime::infer::Linear<64, 256> = &zeroed.encoder_0_ffn1_w1;
    let qkv: &hrf_runtime::infer::Linear<64, 192> = &zeroed.encoder_3_attn_qkv;
    let dw: &hrf_runtime::infer::DepthwiseConv1d<64, 15> = &zeroed.encoder_1_conv_dw;
    let conv: &hrf_runtime::infer::InputConv1d<64, 64, 3> = &zeroed.frontend_conv_0;
    assert_eq!((w1.weight.len(), w1.weight[0].len()), (256, 64));
    assert_eq!(qkv.bias.len(), 192);
    assert_eq!(dw.weight[0].len(), 15);
    assert_eq!(conv.edge_bias.len(), 64);
    // The same layer in the light model without HRF has the same type: folding removes HRF.
    let plain = ConformerLightFolded::from_f32s(&vec![0.0; size_of::<ConformerLightFolded>() / 4])
        .expect("arena length");
    let _: &hrf_runtime::infer::Linear<64, 256> = &plain.encoder_0_ffn1_w1;
    assert_eq!(
        size_of::<ConformerLightFolded>(),
        size_of::<ConformerLightHrfFolded>()
    );
}
