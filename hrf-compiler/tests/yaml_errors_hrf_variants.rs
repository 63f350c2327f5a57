//! The HRF variant keys (`init`, `decay`, `lr_scale` under `hrf:`): valid values compile into the
//! IR, every mistake gives exactly one located error with a help line, and specs without the
//! keys keep their spec hash.

use hrf_compiler::compile_yaml;
use hrf_compiler::ir::{HrfDecay, HrfInit, HrfIr, Op, SublayerKind};

mod yaml_errors_common;
use yaml_errors_common::{BASE, assert_one_error, edit};

fn with_hrf(keys: &str) -> String {
    edit(
        BASE,
        "act: swish }",
        &format!("act: swish, hrf: {{ {keys} }} }}"),
    )
}

/// The HRF of the first FFN of a spec that compiles.
fn first_hrf(text: &str) -> HrfIr {
    let model = match compile_yaml("specs/ok.yaml", text) {
        Ok(m) => m,
        Err(d) => panic!("{}", d.render("specs/ok.yaml", text)),
    };
    for op in &model.ir.ops {
        if let Op::Block(b) = op {
            for s in &b.sublayers {
                if let SublayerKind::Ffn(f) = &s.kind {
                    return f.hrf.clone().expect("the spec has HRF");
                }
            }
        }
    }
    panic!("no FFN")
}

fn hash(text: &str) -> String {
    compile_yaml("specs/ok.yaml", text)
        .expect("compiles")
        .spec_hash()
}

#[test]
fn valid_variants_reach_the_ir_with_defaults_otherwise() {
    let h = first_hrf(&with_hrf("expand: 2"));
    assert_eq!(
        (h.init, h.decay, h.lr_scale),
        (HrfInit::Default, HrfDecay::Factors, 1.0)
    );
    let h = first_hrf(&with_hrf(
        "expand: 2, depth: 2, init: identity, decay: merged, lr_scale: 0",
    ));
    assert_eq!((h.expand, h.depth), (2, 2));
    assert_eq!(
        (h.init, h.decay, h.lr_scale),
        (HrfInit::Identity, HrfDecay::Merged, 0.0)
    );
    let h = first_hrf(&with_hrf("init: balanced, lr_scale: 2.5"));
    assert_eq!(
        (h.init, h.decay, h.lr_scale),
        (HrfInit::Balanced, HrfDecay::Factors, 2.5)
    );
    let h = first_hrf(&with_hrf("init: default, decay: factors, lr_scale: 100"));
    assert_eq!(
        (h.init, h.decay, h.lr_scale),
        (HrfInit::Default, HrfDecay::Factors, 100.0)
    );
}

/// Writing the defaults out, or not at all, is the same model with the same hash (existing
/// checkpoints stay loadable); any non-default variant is a different model.
#[test]
fn only_specs_that_use_a_variant_change_their_hash() {
    let plain = hash(&with_hrf("expand: 4"));
    assert_eq!(
        plain,
        hash(&with_hrf(
            "expand: 4, init: default, decay: factors, lr_scale: 1.0"
        ))
    );
    let mut seen = vec![plain];
    for keys in [
        "expand: 4, init: identity",
        "expand: 4, init: balanced",
        "expand: 4, decay: merged",
        "expand: 4, lr_scale: 2",
        "expand: 4, lr_scale: 0",
    ] {
        let h = hash(&with_hrf(keys));
        assert!(!seen.contains(&h), "{keys}: hash {h} not distinct");
        seen.push(h);
    }
}

/// An HRF spec whose weights were exported (with their spec hash) before the variant keys
/// existed: its hash must not move.
#[test]
fn a_committed_hrf_specs_hash_is_unchanged() {
    let text = include_str!("../../examples/yaml-build/specs/tiny_ser.yaml");
    assert!(text.contains("hrf: { expand: 4 }"));
    let weights = include_bytes!("../../examples/yaml-build/weights/tiny_ser.safetensors");
    let header = String::from_utf8_lossy(&weights[..weights.len().min(4096)]).into_owned();
    let want = format!("\"spec_hash\":\"{}\"", hash(text));
    assert!(header.contains(&want), "{want} not in the committed header");
}

/// The presets' hashes (pinned after the variant keys were added; the test above shows the
/// hash text of a plain HRF spec did not move).
#[test]
fn preset_hashes_are_unchanged() {
    for (name, want) in PRESET_HASHES {
        let text = hrf_compiler::presets::preset(name).expect("preset exists");
        assert_eq!(hash(text), *want, "{name}");
    }
    assert_eq!(PRESET_HASHES.len(), hrf_compiler::presets::PRESETS.len());
}

const PRESET_HASHES: &[(&str, &str)] = &[
    ("conv_transformer_light", "b96b309edc6630b45acd1b556f5090f7"),
    (
        "conv_transformer_light_hrf",
        "4c859838d305db6e8dda3656bef87211",
    ),
    ("conv_transformer_large", "d8011adda28e8dcfbe942e71556894a8"),
    ("conformer_light", "fd9d0db11b1418a61bcc45aee47ed89e"),
    ("conformer_light_hrf", "f8ad7116c4a81b2dd3c786463754804e"),
    ("conformer_large", "570d39e3c8d6f25a96b8b0495cd4dd29"),
    ("speechformer_light", "0b27ab27f3f4e46025f66f0b81c0cee2"),
    ("speechformer_light_hrf", "8bd480f0d24b639c07b45e06502fd236"),
    ("speechformer_large", "2afaae86b3afb33847085ad72333b031"),
];

/// A misspelt `init` value suggests the nearest one.
#[test]
fn misspelt_init() {
    assert_one_error(
        &with_hrf("init: identiy"),
        r#"
error: unknown hrf init `identiy`
--> specs/bad.yaml:10:50
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { init: identiy } }
   |                                                  ^^^^^^^ unknown hrf init `identiy`
   = help: did you mean `identity`? (expected one of: default, identity, balanced)
"#,
    );
}

/// An init from another toolkit lists the choices.
#[test]
fn unknown_init() {
    assert_one_error(
        &with_hrf("init: xavier"),
        r#"
error: unknown hrf init `xavier`
--> specs/bad.yaml:10:50
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { init: xavier } }
   |                                                  ^^^^^^ unknown hrf init `xavier`
   = help: expected one of: default, identity, balanced
"#,
    );
}

/// `init` must be a word.
#[test]
fn init_as_a_map() {
    assert_one_error(
        &with_hrf("init: { a: 1 }"),
        r#"
error: `init` must be a name, found a map
--> specs/bad.yaml:10:50
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { init: { a: 1 } } }
   |                                                  ^^^^^^^^ `init` must be a name, found a map
   = help: write `init: default`
"#,
    );
}

/// A misspelt `decay` value suggests the nearest one.
#[test]
fn misspelt_decay() {
    assert_one_error(
        &with_hrf("decay: merge"),
        r#"
error: unknown hrf decay `merge`
--> specs/bad.yaml:10:51
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { decay: merge } }
   |                                                   ^^^^^ unknown hrf decay `merge`
   = help: did you mean `merged`? (expected one of: factors, merged)
"#,
    );
}

/// `decay: true` is not one of the words.
#[test]
fn decay_as_a_boolean() {
    assert_one_error(
        &with_hrf("decay: true"),
        r#"
error: unknown hrf decay `true`
--> specs/bad.yaml:10:51
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { decay: true } }
   |                                                   ^^^^ unknown hrf decay `true`
   = help: expected one of: factors, merged
"#,
    );
}

/// A negative `lr_scale`.
#[test]
fn negative_lr_scale() {
    assert_one_error(
        &with_hrf("lr_scale: -1"),
        r#"
error: `lr_scale` = -1 is outside [0, 100]
--> specs/bad.yaml:10:54
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scale: -1 } }
   |                                                      ^^ `lr_scale` = -1 is outside [0, 100]
   = help: lr_scale multiplies the HRF factors' learning rate: 1 is the default, 0 freezes them, e.g. `lr_scale: 2`
"#,
    );
}

/// An `lr_scale` above 100.
#[test]
fn lr_scale_above_100() {
    assert_one_error(
        &with_hrf("lr_scale: 101"),
        r#"
error: `lr_scale` = 101 is outside [0, 100]
--> specs/bad.yaml:10:54
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scale: 101 } }
   |                                                      ^^^ `lr_scale` = 101 is outside [0, 100]
   = help: lr_scale multiplies the HRF factors' learning rate: 1 is the default, 0 freezes them, e.g. `lr_scale: 2`
"#,
    );
}

/// An infinite `lr_scale` (Rust's float syntax) is out of range.
#[test]
fn infinite_lr_scale() {
    assert_one_error(
        &with_hrf("lr_scale: inf"),
        r#"
error: `lr_scale` = inf is outside [0, 100]
--> specs/bad.yaml:10:54
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scale: inf } }
   |                                                      ^^^ `lr_scale` = inf is outside [0, 100]
   = help: lr_scale multiplies the HRF factors' learning rate: 1 is the default, 0 freezes them, e.g. `lr_scale: 2`
"#,
    );
}

/// YAML's `.nan` is not a number we accept.
#[test]
fn nan_lr_scale() {
    assert_one_error(
        &with_hrf("lr_scale: .nan"),
        r#"
error: `lr_scale` must be a number, found `.nan`
--> specs/bad.yaml:10:54
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scale: .nan } }
   |                                                      ^^^^ `lr_scale` must be a number, found `.nan`
   = help: write e.g. `lr_scale: 2` (the HRF factors' learning rate relative to the rest)
"#,
    );
}

/// A word for `lr_scale`.
#[test]
fn word_lr_scale() {
    assert_one_error(
        &with_hrf("lr_scale: fast"),
        r#"
error: `lr_scale` must be a number, found `fast`
--> specs/bad.yaml:10:54
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scale: fast } }
   |                                                      ^^^^ `lr_scale` must be a number, found `fast`
   = help: write e.g. `lr_scale: 2` (the HRF factors' learning rate relative to the rest)
"#,
    );
}

/// A misspelt key.
#[test]
fn misspelt_lr_scale_key() {
    assert_one_error(
        &with_hrf("lr_scal: 2"),
        r#"
error: unknown field `lr_scal` in `hrf`
--> specs/bad.yaml:10:44
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { lr_scal: 2 } }
   |                                            ^^^^^^^ unknown field `lr_scal` in `hrf`
   = help: did you mean `lr_scale`?
"#,
    );
}

/// A variant key written in `ffn:` instead of `hrf:`.
#[test]
fn init_directly_in_ffn() {
    assert_one_error(
        &edit(BASE, "act: swish }", "act: swish, init: identity }"),
        r#"
error: `init` belongs inside `hrf:`, not directly in `ffn`
--> specs/bad.yaml:10:37
   |
10 |     ffn: { hidden: ffn, act: swish, init: identity }
   |                                     ^^^^ `init` belongs inside `hrf:`, not directly in `ffn`
   = help: write `hrf: { init: … }`
"#,
    );
}
