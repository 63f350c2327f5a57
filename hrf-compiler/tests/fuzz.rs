//! Property tests: generated and mutated YAML documents and dim-expression strings never make the
//! compiler (or the diagnostic renderer) panic; they compile or return located errors.
//! 5,000 mutated presets + 3,000 expressions + 2,000 generated specs = 10,000 documents.

use hrf_compiler::presets::PRESETS;
use hrf_compiler::{Span, compile_yaml, expr};
use proptest::prelude::*;

/// Compiles, renders any errors, and checks the result is well-formed either way.
fn compile_and_render(text: &str) -> Result<hrf_compiler::CheckedModel, String> {
    match compile_yaml("fuzz.yaml", text) {
        Ok(model) => {
            let counts = model.param_counts();
            assert!(counts.train >= counts.folded, "{counts:?}");
            // The deployed model drops LayerNorm/BatchNorm parameters but stores a per-edge bias
            // (channels × kernel) where CMVN is folded into a padded conv: only that can make it
            // larger than `folded` (a wide first kernel does).
            let edge: usize = model
                .folded
                .slots
                .iter()
                .filter(|s| s.name.ends_with(".edge_bias"))
                .map(|s| s.len())
                .sum();
            assert!(
                counts.deployed <= counts.folded + edge,
                "{counts:?}, edge {edge}"
            );
            assert_eq!(counts.train, model.train.param_count());
            let _ = model.folded.forward_flops(model.ir.max_frames);
            Ok(model)
        }
        Err(diags) => {
            assert!(
                !diags.is_empty(),
                "an Err must carry at least one diagnostic"
            );
            for d in &diags.items {
                if let Span::Text {
                    offset,
                    len,
                    line,
                    col,
                } = d.span
                {
                    assert!(offset + len <= text.len(), "span past the end: {d:?}");
                    assert!(line >= 1 && col >= 1, "{d:?}");
                }
            }
            let rendered = diags.render("fuzz.yaml", text);
            assert!(rendered.starts_with("error: "), "{rendered}");
            Err(rendered)
        }
    }
}

/// Pieces that are meaningful to YAML or to the spec language, inserted by mutations.
const PIECES: &[&str] = &[
    ":",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "- ",
    "\n",
    "  ",
    "\t",
    "#",
    ",",
    "'",
    "\"",
    "&a ",
    "*a",
    "---\n",
    "...",
    "~",
    "null",
    "0",
    "-1",
    "3",
    "16",
    "99999999999999999999",
    "4611686018427387904",
    "d",
    "dd",
    "heads",
    "ffn",
    "(",
    ")",
    "/",
    "*",
    "+",
    "-",
    "é",
    "✓",
    "hrf: { expand: 0 }",
    "window: 1000",
    "merge: { factor: 2 }",
    "repeat: 0",
    "block: speechformer",
    "true",
    "1.5",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: f64, len: usize },
    Insert { at: f64, piece: usize },
    SwapLines { a: f64, b: f64 },
    DuplicateLine { at: f64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, 1usize..12).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (0.0..1.0f64, 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (0.0..1.0f64).prop_map(|at| Mutation::DuplicateLine { at }),
    ]
}

/// The char boundary nearest to fraction `at` of `text`.
fn boundary(text: &str, at: f64) -> usize {
    let target = (at * text.len() as f64) as usize;
    (target..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len())
}

fn apply(text: &str, m: &Mutation) -> String {
    match *m {
        Mutation::Delete { at, len } => {
            let start = boundary(text, at);
            let end = (start + len..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert { at, piece } => {
            let i = boundary(text, at);
            format!("{}{}{}", &text[..i], PIECES[piece], &text[i..])
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let (i, j) = (
                (a * lines.len() as f64) as usize,
                (b * lines.len() as f64) as usize,
            );
            let last = lines.len() - 1;
            lines.swap(i.min(last), j.min(last));
            lines.join("\n")
        }
        Mutation::DuplicateLine { at } => {
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let i = ((at * lines.len() as f64) as usize).min(lines.len() - 1);
            let mut out: Vec<&str> = lines[..=i].to_vec();
            out.extend_from_slice(&lines[i..]);
            out.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_presets_never_panic(preset in 0..PRESETS.len(), mutations in prop::collection::vec(mutation(), 1..5)) {
        let mut text = PRESETS[preset].1.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        let _ = compile_and_render(&text);
    }
}

fn expression_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "0",
            "1",
            "2",
            "7",
            "64",
            "d",
            "heads",
            "x",
            "+",
            "-",
            "*",
            "/",
            "(",
            ")",
            " ",
            "99999999999",
            "é",
            ".",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn expressions_never_panic_and_errors_stay_inside_the_text(text in expression_text()) {
        match expr::parse(&text) {
            Ok(e) => {
                prop_assert!(e.start + e.len <= text.len());
                let mut env = |_: &expr::Expr, n: &str| match n {
                    "d" => expr::Lookup::Value(64),
                    "heads" => expr::Lookup::Value(4),
                    _ => expr::Lookup::Undefined,
                };
                if let Err(Some(err)) = expr::eval(&e, &mut env) {
                    prop_assert!(err.start + err.len <= text.len());
                }
            }
            Err(err) => prop_assert!(err.start <= text.len()),
        }
        // The same text as a dim and as a field, quoted so YAML keeps it verbatim.
        let quoted = text.replace('\'', "''");
        let spec = PRESETS[0].1.replace("ffn: 4 * d", &format!("ffn: '{quoted}'"));
        let _ = compile_and_render(&spec);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_specs_compile_or_report(
        d in -2i64..200,
        heads in -1i64..12,
        ffn in 0i64..5,
        max_frames in -4i64..700,
        kernel in 0i64..20,
        block in 0usize..3,
        window in prop::option::of(0i64..200),
        expand in prop::option::of(-1i64..5),
        repeat in 0i64..4,
        classes in 0usize..4,
    ) {
        let kinds = ["conv_transformer", "conformer", "speechformer"];
        let window = window.map_or(String::new(), |w| format!(", window: {w}"));
        let hrf = expand.map_or(String::new(), |e| format!(", hrf: {{ expand: {e} }}"));
        let conv = if block == 1 { format!("    conv: {{ kernel: {kernel} }}\n") } else { String::new() };
        let names = ["a", "b", "a", "c"];
        let spec = format!(
            "name: Gen\ninput: {{ features: 8, max_frames: {max_frames} }}\n\
             dims: {{ d: {d}, heads: {heads}, ffn: {ffn} * d }}\n\
             frontend: {{ conv_subsample: {{ channels: d }} }}\n\
             encoder:\n  - repeat: {repeat}\n    block: {}\n    attention: {{ heads: heads{window} }}\n\
             \x20   ffn: {{ hidden: ffn{hrf} }}\n{conv}classes: [{}]\n",
            kinds[block],
            names[..classes].join(", "),
        );
        let result = compile_and_render(&spec);
        // `names[..3]` repeats `a`, so exactly 2 or 4 classes are valid.
        let valid = d > 0 && heads > 0 && d % heads == 0 && ffn > 0 && max_frames > 0
            && max_frames % 4 == 0 && repeat > 0 && (classes == 2 || classes == 4)
            && (block != 1 || kernel % 2 == 1)
            && expand.is_none_or(|e| e >= 1)
            && window.is_empty();
        // Every fully valid generated spec without a window must compile.
        if valid {
            prop_assert!(result.is_ok(), "{spec}\n{:?}", result.err());
        }
    }
}
