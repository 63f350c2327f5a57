//! Tests of the `model!` expansion (stages 1–5 for the inline form).
//!
//! The dims module on success; on error, every diagnostic as a `compile_error!` plus a stub
//! module carrying whatever values can still be evaluated.

use proc_macro2::{Span as TokenSpan, TokenStream};

use super::expand::{diagnostics_to_error, expand_model};
use super::outline::{DimsModule, snake_case};
use crate::diagnostics::Diagnostics;
use crate::node::Span;

const EXAMPLE: &str = "
    name: ConformerLightHrf,
    input: { features: 64, max_frames: 600 },
    dims: { d: 64, heads: 4, ffn: 4 * d },
    frontend: { conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 4, block: conformer,
          ffn: { hidden: ffn, act: swish, hrf: { expand: 4 } },
          attention: { heads: heads }, conv: { kernel: 15 } },
    ],
    pool: mean,
    classes: [neutral, angry, happy, sad],
";

/// What an expansion contains: the `compile_error!` messages, and the module (its name, its
/// `usize` consts in order, and its `CLASSES`).
#[derive(Debug, Default)]
struct Expansion {
    errors: Vec<String>,
    module: Option<String>,
    consts: Vec<(String, usize)>,
    classes: Vec<String>,
}

fn expand(text: &str) -> Expansion {
    let tokens: TokenStream = match text.parse() {
        Ok(tokens) => tokens,
        Err(e) => panic!("test input does not lex: {e}"),
    };
    read_expansion(expand_model(tokens))
}

fn read_expansion(output: TokenStream) -> Expansion {
    let file: syn::File = match syn::parse2(output.clone()) {
        Ok(file) => file,
        Err(e) => panic!("expansion is not valid Rust ({e}): {output}"),
    };
    let mut out = Expansion::default();
    for item in file.items {
        match item {
            syn::Item::Macro(mac) => {
                let name = mac.mac.path.segments.last().map(|s| s.ident.to_string());
                if name.as_deref() == Some("__with_std") {
                    continue;
                }
                assert_eq!(name.as_deref(), Some("compile_error"));
                let message: syn::LitStr = match mac.mac.parse_body() {
                    Ok(message) => message,
                    Err(e) => panic!("compile_error! without a string: {e}"),
                };
                out.errors.push(message.value());
            }
            syn::Item::Mod(module) => {
                out.module = Some(module.ident.to_string());
                for inner in module.content.map(|(_, items)| items).unwrap_or_default() {
                    let syn::Item::Const(c) = inner else {
                        panic!("unexpected item in the dims module");
                    };
                    match *c.expr {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(value),
                            ..
                        }) => {
                            let value = value.base10_parse().unwrap_or(usize::MAX);
                            out.consts.push((c.ident.to_string(), value));
                        }
                        syn::Expr::Array(array) => {
                            for element in array.elems {
                                if let syn::Expr::Lit(syn::ExprLit {
                                    lit: syn::Lit::Str(s),
                                    ..
                                }) = element
                                {
                                    out.classes.push(s.value());
                                }
                            }
                        }
                        other => panic!("unexpected const value {other:?}"),
                    }
                }
            }
            // A spec that compiles also yields the plan, the model types and their impls
            // (tested in `codegen::tests`); this reader looks at errors and the dims module.
            syn::Item::Const(_)
            | syn::Item::Struct(_)
            | syn::Item::Impl(_)
            | syn::Item::Static(_)
                if out.errors.is_empty() => {}
            other => panic!("unexpected item {other:?}"),
        }
    }
    out
}

fn consts(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

#[test]
fn a_valid_spec_expands_to_its_dims_module() {
    let out = expand(EXAMPLE);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.module.as_deref(), Some("conformer_light_hrf"));
    assert_eq!(
        out.consts,
        consts(&[
            ("D", 64),
            ("HEADS", 4),
            ("FFN", 256),
            ("FEATURES", 64),
            ("MAX_FRAMES", 600),
            ("NUM_CLASSES", 4),
        ])
    );
    assert_eq!(out.classes, ["neutral", "angry", "happy", "sad"]);
}

#[test]
fn a_checker_error_gives_one_compile_error_and_a_stub_with_real_values() {
    let out = expand(&EXAMPLE.replace("heads: 4,", "heads: 5,"));
    assert_eq!(
        out.errors,
        ["heads = 5 does not divide d = 64\n= help: try heads = 4 or 8"]
    );
    // The dims themselves are fine, so the stub carries their values.
    assert_eq!(out.module.as_deref(), Some("conformer_light_hrf"));
    assert_eq!(
        &out.consts[..3],
        &consts(&[("D", 64), ("HEADS", 5), ("FFN", 256)])[..]
    );
    assert_eq!(out.classes.len(), 4);
}

#[test]
fn a_failed_dim_gets_the_placeholder_in_the_stub() {
    let out = expand(&EXAMPLE.replace("ffn: 4 * d }", "ffn: 4 * dd }"));
    assert_eq!(
        out.errors,
        ["undefined dim `dd`\n= help: did you mean `d`?"]
    );
    assert_eq!(
        &out.consts[..3],
        &consts(&[("D", 64), ("HEADS", 4), ("FFN", 1)])[..]
    );
}

#[test]
fn a_syntax_error_gives_one_compile_error_and_a_salvaged_stub() {
    let out = expand(&EXAMPLE.replace("max_frames: 600", "max_frames 600"));
    assert_eq!(out.errors, ["expected `:` after `max_frames`, found `600`"]);
    // `input` did not parse; everything else is salvaged.
    assert_eq!(out.module.as_deref(), Some("conformer_light_hrf"));
    assert_eq!(
        out.consts,
        consts(&[
            ("D", 64),
            ("HEADS", 4),
            ("FFN", 256),
            ("FEATURES", 1),
            ("MAX_FRAMES", 1),
            ("NUM_CLASSES", 4),
        ])
    );
}

#[test]
fn without_a_usable_name_no_module_is_emitted() {
    let out = expand("dims: { d: 64 }");
    assert!(out.module.is_none());
    assert!(!out.errors.is_empty());
    let out = expand(&EXAMPLE.replace("name: ConformerLightHrf", "name: \"Not A Name\""));
    assert!(out.module.is_none());
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
}

#[test]
fn an_empty_invocation_is_one_error() {
    let out = expand("");
    assert_eq!(
        out.errors,
        [
            "the spec is empty\n= help: start with `name: MyModel`, then `input`, `encoder` and `classes`"
        ]
    );
    assert!(out.module.is_none());
}

#[test]
fn diagnostics_keep_order_and_carry_label_and_help() {
    let mut diags = Diagnostics::new();
    diags.error(&Span::Synthetic, "first");
    diags
        .error(
            &Span::Tokens {
                first: TokenSpan::call_site(),
                last: TokenSpan::call_site(),
            },
            "second",
        )
        .label("under the caret")
        .help("do this");
    diags.error(&Span::Synthetic, "third").label("third");
    let messages: Vec<String> = diagnostics_to_error(&diags)
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        messages,
        [
            "first",
            "second\n= note: under the caret\n= help: do this",
            "third"
        ]
    );
}

#[test]
fn dims_that_collide_in_uppercase_keep_the_first() {
    let module = DimsModule {
        model: "M".into(),
        module: "m".into(),
        consts: vec![
            ("D".into(), Some(64), "d".into()),
            ("D".into(), Some(32), "D".into()),
            ("X".into(), Some(-3), "x".into()),
            ("CLASSES".into(), Some(2), "classes".into()),
        ],
        classes: vec!["a".into(), "b".into()],
    };
    let out = read_expansion(module.to_tokens());
    // A negative value (only possible in a stub next to its error) becomes the placeholder.
    assert_eq!(out.consts, consts(&[("D", 64), ("X", 1)]));
    assert_eq!(out.classes, ["a", "b"]);
}

#[test]
fn snake_case_splits_words_and_acronyms() {
    assert_eq!(snake_case("ConformerLightHrf"), "conformer_light_hrf");
    assert_eq!(snake_case("SpeechformerLightHrf"), "speechformer_light_hrf");
    assert_eq!(snake_case("HRFModel"), "hrf_model");
    assert_eq!(snake_case("Tiny"), "tiny");
    assert_eq!(snake_case("Light2D"), "light2_d");
    assert_eq!(snake_case("already_snake"), "already_snake");
}

mod never_panics {
    use proptest::prelude::*;

    use super::{EXAMPLE, read_expansion};
    use crate::frontend::tokens::expand_model;

    /// Tokens a user might type inside `model! { … }`, right or wrong.
    const WORDS: &[&str] = &[
        "name",
        "Tiny",
        "input",
        "features",
        "max_frames",
        "dims",
        "d",
        "heads",
        "ffn",
        "frontend",
        "conv_subsample",
        "layers",
        "channels",
        "kernel",
        "stride",
        "encoder",
        "repeat",
        "block",
        "conformer",
        "speechformer",
        "conv_transformer",
        "merge",
        "factor",
        "attention",
        "window",
        "conv",
        "hrf",
        "expand",
        "depth",
        "bias",
        "init",
        "identity",
        "decay",
        "merged",
        "lr_scale",
        "true",
        "act",
        "swish",
        "pool",
        "mean",
        "dropout",
        "classes",
        "a",
        "b",
        "0",
        "1",
        "2",
        "4",
        "64",
        "600",
        "0.5",
        "9223372036854775807",
        "99999999999999999999",
        "-",
        "+",
        "*",
        "/",
        "%",
        ":",
        "::",
        ",",
        ";",
        "=",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "\"x\"",
        "\"\"",
        "'c'",
        "#",
        ".",
        "r#type",
    ];

    fn check(text: &str) {
        // Unbalanced delimiters never reach a proc macro: rustc's lexer rejects them first.
        if let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() {
            // Whatever the input, the expansion is valid Rust items.
            read_expansion(expand_model(tokens));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn random_token_soup(words in prop::collection::vec(prop::sample::select(WORDS), 0..40)) {
            check(&words.join(" "));
        }

        #[test]
        fn mutated_example(
            edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(WORDS), 0..3u8), 1..4),
        ) {
            let mut words: Vec<String> = EXAMPLE
                .split_whitespace()
                .map(str::to_string)
                .collect();
            for (at, word, kind) in edits {
                let i = at.index(words.len() + 1);
                match kind {
                    0 => words.insert(i, word.to_string()),
                    1 if i < words.len() => { words.remove(i); }
                    _ if i < words.len() => words[i] = word.to_string(),
                    _ => words.push(word.to_string()),
                }
            }
            check(&words.join(" "));
        }
    }
}
