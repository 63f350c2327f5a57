//! The two front-ends agree: a model written inline (`model! { … }` tokens) and the same model
//! in YAML lower to identical checked IR and layouts, for every family; and the same mistake
//! gives the same diagnostics in both.

use hrf_compiler::frontend::tokens::parse_model_tokens;
use hrf_compiler::presets::preset;
use hrf_compiler::{CheckedModel, Diagnostics, compile_node, compile_yaml};

fn compile_inline(text: &str) -> Result<CheckedModel, Diagnostics> {
    let tokens: proc_macro2::TokenStream = match text.parse() {
        Ok(tokens) => tokens,
        Err(e) => panic!("inline spec does not lex: {e}"),
    };
    match parse_model_tokens(tokens) {
        Ok(root) => compile_node(root),
        Err(e) => panic!("inline spec does not parse: {e}"),
    }
}

fn checked(result: Result<CheckedModel, Diagnostics>, what: &str) -> CheckedModel {
    match result {
        Ok(model) => model,
        Err(diags) => panic!("{what} failed to compile: {diags:?}"),
    }
}

/// `inline == yaml`, reporting the first differing op or slot instead of two whole models.
fn assert_same_model(inline: &CheckedModel, yaml: &CheckedModel) {
    let (a, b) = (&inline.ir, &yaml.ir);
    assert_eq!(
        (
            &a.name,
            &a.module,
            a.features,
            a.max_frames,
            &a.dims,
            &a.classes
        ),
        (
            &b.name,
            &b.module,
            b.features,
            b.max_frames,
            &b.dims,
            &b.classes
        )
    );
    assert_eq!((a.dropout, a.pool), (b.dropout, b.pool));
    assert_eq!(a.ops.len(), b.ops.len(), "op count");
    for (x, y) in a.ops.iter().zip(&b.ops) {
        assert_eq!(x, y);
    }
    for (which, x, y) in [
        ("train", &inline.train, &yaml.train),
        ("folded", &inline.folded, &yaml.folded),
    ] {
        assert_eq!(x.slots.len(), y.slots.len(), "{which} slot count");
        for (s, t) in x.slots.iter().zip(&y.slots) {
            assert_eq!(s, t, "{which} layout");
        }
    }
    // And the whole thing, in case a field is added that the above does not list.
    assert!(inline == yaml, "models differ outside ops and slots");
}

fn preset_model(name: &str) -> CheckedModel {
    let Some(text) = preset(name) else {
        panic!("no preset {name}");
    };
    checked(compile_yaml(name, text), name)
}

/// The inline twin of `specs/conv_transformer_light_hrf.yaml`.
const CONV_TRANSFORMER_LIGHT_HRF: &str = "
    name: ConvTransformerLightHrf,
    input: { features: 64, max_frames: 600 },
    dims: { d: 64, heads: 4, ffn: 4 * d },
    frontend: {
        conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 },
        positions: sinusoidal,
    },
    encoder: [
        { repeat: 4, block: conv_transformer,
          attention: { heads: heads },
          ffn: { hidden: ffn, act: relu, hrf: { expand: 4 } } },
    ],
    pool: mean,
    dropout: 0.1,
    classes: [neutral, angry, happy, sad],
";

/// The inline twin of `specs/conformer_light_hrf.yaml`.
const CONFORMER_LIGHT_HRF: &str = "
    name: ConformerLightHrf,
    input: { features: 64, max_frames: 600 },
    dims: { d: 64, heads: 4, ffn: 4 * d },
    frontend: {
        conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 },
        positions: sinusoidal,
    },
    encoder: [
        { repeat: 4, block: conformer,
          attention: { heads: heads },
          ffn: { hidden: ffn, act: swish, hrf: { expand: 4 } },
          conv: { kernel: 15 } },
    ],
    pool: mean,
    dropout: 0.1,
    classes: [neutral, angry, happy, sad],
";

/// The inline twin of `specs/speechformer_light_hrf.yaml`: stages with growing windows and
/// merges between them.
const SPEECHFORMER_LIGHT_HRF: &str = "
    name: SpeechformerLightHrf,
    input: { features: 64, max_frames: 600 },
    dims: { d: 64, heads: 4, ffn: 4 * d },
    frontend: {
        conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 },
        positions: sinusoidal,
    },
    encoder: [
        { repeat: 1, block: speechformer,
          attention: { heads: heads, window: 5 },
          ffn: { hidden: ffn, act: gelu, hrf: { expand: 4 } } },
        { merge: { factor: 2, width: d } },
        { repeat: 1, block: speechformer,
          attention: { heads: heads, window: 9 },
          ffn: { hidden: ffn, act: gelu, hrf: { expand: 4 } } },
        { merge: { factor: 2, width: d } },
        { repeat: 1, block: speechformer,
          attention: { heads: heads, window: 17 },
          ffn: { hidden: ffn, act: gelu, hrf: { expand: 4 } } },
        { merge: { factor: 2, width: d } },
        { repeat: 1, block: speechformer,
          attention: { heads: heads },
          ffn: { hidden: ffn, act: gelu, hrf: { expand: 4 } } },
    ],
    pool: mean,
    dropout: 0.1,
    classes: [neutral, angry, happy, sad],
";

#[test]
fn conv_transformer_inline_matches_yaml() {
    let inline = checked(compile_inline(CONV_TRANSFORMER_LIGHT_HRF), "inline");
    assert_same_model(&inline, &preset_model("conv_transformer_light_hrf"));
}

#[test]
fn conformer_inline_matches_yaml() {
    let inline = checked(compile_inline(CONFORMER_LIGHT_HRF), "inline");
    assert_same_model(&inline, &preset_model("conformer_light_hrf"));
}

#[test]
fn speechformer_inline_matches_yaml() {
    let inline = checked(compile_inline(SPEECHFORMER_LIGHT_HRF), "inline");
    assert_same_model(&inline, &preset_model("speechformer_light_hrf"));
}

#[test]
fn expressions_quoted_strings_and_block_yaml_agree() {
    // Parenthesised expressions, a quoted class name and YAML block style on the other side.
    let yaml = "\
name: Tiny
input: { features: 16, max_frames: 64 }
dims:
  d: (w + 8) / 2
  w: 24
  heads: 2
  ffn: 2 * (d - 4) + 8
frontend:
  conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 }
encoder:
  - repeat: 2
    block: conv_transformer
    attention: { heads: heads, window: 7 }
    ffn: { hidden: ffn, act: gelu, hrf: { expand: 2, depth: 2, bias: false } }
classes: [calm, 'very angry']
";
    let inline = "
        name: Tiny,
        input: { features: 16, max_frames: 64 },
        dims: { d: (w + 8) / 2, w: 24, heads: 2, ffn: 2 * (d - 4) + 8 },
        frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
        encoder: [
            { repeat: 2, block: conv_transformer,
              attention: { heads: heads, window: 7 },
              ffn: { hidden: ffn, act: gelu, hrf: { expand: 2, depth: 2, bias: false } } },
        ],
        classes: [calm, \"very angry\"],
    ";
    let from_yaml = checked(compile_yaml("tiny.yaml", yaml), "yaml");
    let from_inline = checked(compile_inline(inline), "inline");
    assert_same_model(&from_inline, &from_yaml);
    assert_eq!(from_inline.ir.classes, ["calm", "very angry"]);
    assert!(from_inline.ir.dims.contains(&("d".to_string(), 16)));
    assert!(from_inline.ir.dims.contains(&("ffn".to_string(), 32)));
}

#[test]
fn equality_sees_a_changed_value() {
    // Guards the comparisons above against a `PartialEq` that ignores too much.
    let changed = CONFORMER_LIGHT_HRF.replace("expand: 4", "expand: 2");
    let inline = checked(compile_inline(&changed), "inline");
    assert!(inline != preset_model("conformer_light_hrf"));
}

/// (message, help) of every diagnostic, in order.
fn messages(result: Result<CheckedModel, Diagnostics>) -> Vec<(String, Option<String>)> {
    match result {
        Ok(model) => panic!("expected errors, compiled {}", model.ir.name),
        Err(diags) => diags
            .items
            .into_iter()
            .map(|d| (d.message, d.help))
            .collect(),
    }
}

#[test]
fn the_same_mistakes_give_the_same_diagnostics() {
    // (YAML text, inline text) pairs, each with mistakes in the same places.
    let base_yaml = preset("conformer_light_hrf").unwrap_or_default();
    let cases = [
        ("heads: 4,", "heads: 5,", "heads: 4,", "heads: 5,"),
        ("ffn: 4 * d", "ffn: 4 * dd", "ffn: 4 * d }", "ffn: 4 * dd }"),
        ("act: swish", "act: swihs", "act: swish", "act: swihs"),
        (
            "{ heads: heads }",
            "{ head: heads }",
            "{ heads: heads }",
            "{ head: heads }",
        ),
        (
            "[neutral, angry, happy, sad]",
            "[neutral, angry, angry]",
            "[neutral, angry, happy, sad]",
            "[neutral, angry, angry]",
        ),
    ];
    for (yaml_old, yaml_new, inline_old, inline_new) in cases {
        assert!(base_yaml.contains(yaml_old), "{yaml_old}");
        assert!(CONFORMER_LIGHT_HRF.contains(inline_old), "{inline_old}");
        let yaml = base_yaml.replacen(yaml_old, yaml_new, 1);
        let inline = CONFORMER_LIGHT_HRF.replacen(inline_old, inline_new, 1);
        let from_yaml = messages(compile_yaml("x.yaml", &yaml));
        let from_inline = messages(compile_inline(&inline));
        assert_eq!(from_inline, from_yaml, "mistake {inline_new}");
        assert_eq!(
            from_inline.len(),
            1,
            "one mistake, one message: {from_inline:?}"
        );
    }
}
