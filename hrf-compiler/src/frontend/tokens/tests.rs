//! Tests of stage 1 for `model!` (tokens → `Node`).
//!
//! Structure, spans, `Scalar::pieces`, trailing commas and syntax errors (spans are real
//! line/column positions: proc-macro2's `span-locations`).

use proc_macro2::{Span as TokenSpan, TokenStream};

use super::parse_model_tokens;
use crate::node::{Node, NodeKind, Scalar, Span};

fn tokens(text: &str) -> TokenStream {
    match text.parse() {
        Ok(tokens) => tokens,
        Err(e) => panic!("test input does not lex: {e}"),
    }
}

fn parse(text: &str) -> Node {
    match parse_model_tokens(tokens(text)) {
        Ok(node) => node,
        Err(e) => panic!("expected {text:?} to parse, got: {e}"),
    }
}

/// (message, line, 0-based column) of the error for `text`.
fn parse_err(text: &str) -> (String, usize, usize) {
    match parse_model_tokens(tokens(text)) {
        Ok(node) => panic!("expected {text:?} to fail, got {node:?}"),
        Err(e) => {
            let at = e.span().start();
            (e.to_string(), at.line, at.column)
        }
    }
}

/// (line, 0-based column) where `span` starts.
fn at(span: TokenSpan) -> (usize, usize) {
    let start = span.start();
    (start.line, start.column)
}

fn entries(node: &Node) -> &[(crate::node::Key, Node)] {
    match &node.kind {
        NodeKind::Map(entries) => entries,
        other => panic!("expected a map, got {other:?}"),
    }
}

fn keys(node: &Node) -> Vec<&str> {
    entries(node).iter().map(|(k, _)| k.name.as_str()).collect()
}

fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
    match entries(node).iter().find(|(k, _)| k.name == key) {
        Some((_, value)) => value,
        None => panic!("no key {key} in {:?}", keys(node)),
    }
}

fn items(node: &Node) -> &[Node] {
    match &node.kind {
        NodeKind::Seq(items) => items,
        other => panic!("expected a sequence, got {other:?}"),
    }
}

fn scalar(node: &Node) -> &Scalar {
    match &node.kind {
        NodeKind::Scalar(scalar) => scalar,
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn text(node: &Node) -> &str {
    &scalar(node).text
}

/// (line, column) of the first and last token of a `Span::Tokens`.
fn ends(span: &Span) -> ((usize, usize), (usize, usize)) {
    match span {
        Span::Tokens { first, last } => (at(*first), at(*last)),
        other => panic!("expected token span, got {other:?}"),
    }
}

const EXAMPLE: &str = "\
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

#[test]
fn example_parses_into_the_same_tree_shape_as_yaml() {
    let root = parse(EXAMPLE);
    assert_eq!(
        keys(&root),
        [
            "name", "input", "dims", "frontend", "encoder", "pool", "classes"
        ]
    );
    assert_eq!(text(get(&root, "name")), "ConformerLightHrf");
    assert_eq!(keys(get(&root, "dims")), ["d", "heads", "ffn"]);
    assert_eq!(text(get(get(&root, "dims"), "ffn")), "4 * d");
    let conv = get(get(&root, "frontend"), "conv_subsample");
    assert_eq!(keys(conv), ["layers", "channels", "kernel", "stride"]);
    let encoder = items(get(&root, "encoder"));
    assert_eq!(encoder.len(), 1);
    assert_eq!(
        keys(&encoder[0]),
        ["repeat", "block", "ffn", "attention", "conv"]
    );
    let hrf = get(get(&encoder[0], "ffn"), "hrf");
    assert_eq!(text(get(hrf, "expand")), "4");
    let classes: Vec<&str> = items(get(&root, "classes")).iter().map(text).collect();
    assert_eq!(classes, ["neutral", "angry", "happy", "sad"]);
    assert!(!scalar(get(&root, "pool")).quoted);
}

#[test]
fn keys_maps_sequences_and_scalars_carry_their_token_spans() {
    let root = parse(EXAMPLE);
    // The root spans the whole input: `name` on line 1 to the final `,` on line 11.
    assert_eq!(ends(&root.span), ((1, 0), (11, 37)));
    let (dims_key, dims) = &entries(&root)[2];
    assert_eq!(ends(&dims_key.span), ((3, 0), (3, 0)));
    // A map spans its braces.
    assert_eq!(ends(&dims.span), ((3, 6), (3, 36)));
    // A sequence spans its brackets.
    assert_eq!(ends(&get(&root, "encoder").span), ((5, 9), (9, 0)));
    // A scalar spans its first to its last token.
    assert_eq!(ends(&get(dims, "ffn").span), ((3, 30), (3, 34)));
    assert_eq!(ends(&get(dims, "heads").span), ((3, 22), (3, 22)));
}

#[test]
fn pieces_map_text_offsets_to_each_token() {
    let root = parse("ffn: 4 * d, half: (d + 8) / 2");
    let ffn = scalar(get(&root, "ffn"));
    let offsets: Vec<(usize, (usize, usize))> =
        ffn.pieces.iter().map(|(o, s)| (*o, at(*s))).collect();
    assert_eq!(offsets, [(0, (1, 5)), (2, (1, 7)), (4, (1, 9))]);

    let half = scalar(get(&root, "half"));
    assert_eq!(half.text, "(d + 8) / 2");
    let offsets: Vec<(usize, (usize, usize))> =
        half.pieces.iter().map(|(o, s)| (*o, at(*s))).collect();
    assert_eq!(
        offsets,
        [
            (0, (1, 18)),  // (
            (1, (1, 19)),  // d
            (3, (1, 21)),  // +
            (5, (1, 23)),  // 8
            (6, (1, 24)),  // )
            (8, (1, 26)),  // /
            (10, (1, 28)), // 2
        ]
    );
    // Every piece starts where its token's text starts.
    for (offset, _) in &half.pieces {
        assert!(half.text.is_char_boundary(*offset));
        assert_ne!(half.text.as_bytes()[*offset], b' ');
    }
    // The scalar spans `(` to `2`.
    assert_eq!(ends(&get(&root, "half").span), ((1, 18), (1, 28)));
}

#[test]
fn expression_text_is_spaced_like_the_yaml_form() {
    let root =
        parse("a: -4, b: 2 * -d, c: ((d)), d: d/heads, e: 0.1, f: 1_000, g: x - -1, h: -(d + 1)");
    let got: Vec<&str> = entries(&root).iter().map(|(_, v)| text(v)).collect();
    assert_eq!(
        got,
        [
            "-4",
            "2 * -d",
            "((d))",
            "d / heads",
            "0.1",
            "1_000",
            "x - -1",
            "-(d + 1)"
        ]
    );
}

#[test]
fn trailing_commas_are_allowed_everywhere() {
    let root = parse("a: [x, y,], b: { c: 1, }, d: [], e: {},");
    assert_eq!(keys(&root), ["a", "b", "d", "e"]);
    assert_eq!(items(get(&root, "a")).len(), 2);
    assert_eq!(keys(get(&root, "b")), ["c"]);
    assert!(items(get(&root, "d")).is_empty());
    assert!(entries(get(&root, "e")).is_empty());
}

#[test]
fn nesting_of_sequences_and_maps_is_kept() {
    let root = parse("stages: [ [ { w: 1 }, [2, 3] ], { inner: [ { deep: { x: y } } ] } ]");
    let stages = items(get(&root, "stages"));
    let first = items(&stages[0]);
    assert_eq!(text(get(&first[0], "w")), "1");
    let pair: Vec<&str> = items(&first[1]).iter().map(text).collect();
    assert_eq!(pair, ["2", "3"]);
    let inner = items(get(&stages[1], "inner"));
    assert_eq!(text(get(get(&inner[0], "deep"), "x")), "y");
}

#[test]
fn strings_booleans_keywords_and_duplicates() {
    let root = parse(r#"name: "My Model", bias: true, r#type: x, type: y, a: 1, a: 2"#);
    let name = scalar(get(&root, "name"));
    assert_eq!(name.text, "My Model");
    assert!(name.quoted);
    assert_eq!(text(get(&root, "bias")), "true");
    assert!(!scalar(get(&root, "bias")).quoted);
    // Duplicate keys are kept, in order, for the converter to report.
    assert_eq!(keys(&root), ["name", "bias", "type", "type", "a", "a"]);
}

#[test]
fn empty_input_is_null_like_an_empty_yaml_document() {
    assert!(matches!(parse("").kind, NodeKind::Null));
}

#[test]
fn missing_colon_is_reported_at_the_value() {
    let (msg, line, col) = parse_err("dims: { d 64 }");
    assert_eq!(msg, "expected `:` after `d`, found `64`");
    assert_eq!((line, col), (1, 10));
}

#[test]
fn equals_instead_of_colon_is_reported_at_the_equals_sign() {
    let (msg, line, col) = parse_err("dims: { d: 64, heads = 4 }");
    assert_eq!(
        msg,
        "expected `:` after `heads`, found `=`: fields are written `heads: value`"
    );
    assert_eq!((line, col), (1, 21));
}

#[test]
fn missing_comma_between_fields_is_reported_at_the_second_field() {
    let (msg, line, col) = parse_err("dims: { d: 64\n heads: 4 }");
    assert_eq!(msg, "expected `,` between fields, found `heads`");
    assert_eq!((line, col), (2, 1));

    let (msg, _, col) = parse_err("ffn: { hidden: 4 * d act: swish }");
    assert_eq!(msg, "expected `,` between fields, found `act`");
    assert_eq!(col, 21);

    let (msg, _, col) = parse_err("ffn: { hrf: { expand: 4 } act: swish }");
    assert_eq!(msg, "expected `,` between fields, found `act`");
    assert_eq!(col, 26);
}

#[test]
fn missing_comma_between_items_is_reported_at_the_second_item() {
    let (msg, _, col) = parse_err("classes: [neutral angry]");
    assert_eq!(msg, "expected `,` between list items, found `angry`");
    assert_eq!(col, 18);
}

#[test]
fn nested_map_without_braces_suggests_braces() {
    let (msg, _, col) = parse_err("ffn: hidden: 256");
    assert_eq!(
        msg,
        "expected `,`, found `:`: a nested map is written in braces, `key: { field: value }`"
    );
    assert_eq!(col, 11);
}

#[test]
fn semicolon_separator_is_named() {
    let (msg, _, col) = parse_err("pool: mean; classes: [a, b]");
    assert_eq!(msg, "expected `,` between fields, found `;`");
    assert_eq!(col, 10);
}

#[test]
fn missing_values_and_items_are_reported() {
    let (msg, _, col) = parse_err("pool: , classes: [a]");
    assert_eq!(msg, "expected a value after `pool:`");
    assert_eq!(col, 6);

    let (msg, _, col) = parse_err("classes: [a, , b]");
    assert_eq!(msg, "expected a list item");
    assert_eq!(col, 13);

    // At the end of a group syn names the end of input, at the closing brace.
    let (msg, _, col) = parse_err("input: { features: }");
    assert_eq!(
        msg,
        "unexpected end of input, expected a value after `features:`"
    );
    assert_eq!(col, 19);

    let (msg, _, _) = parse_err("input: { features }");
    assert_eq!(
        msg,
        "unexpected end of input, expected `:` and a value after `features`"
    );
}

#[test]
fn bad_keys_are_reported() {
    let (msg, _, col) = parse_err("dims: { 64: d }");
    assert_eq!(msg, "expected a field name like `dims`, found `64`");
    assert_eq!(col, 8);

    let (msg, _, col) = parse_err(r#"dims: { "d": 64 }"#);
    assert_eq!(msg, "field names are written without quotes: `d: …`");
    assert_eq!(col, 8);

    let (msg, _, col) = parse_err("dims:: { d: 64 }");
    assert_eq!(msg, "expected a single `:` after `dims`, found `::`");
    assert_eq!(col, 4);
}

#[test]
fn expression_errors_point_at_the_token() {
    let (msg, _, col) = parse_err("dims: { ffn: 4 *, d: 64 }");
    assert_eq!(msg, "expected a number or a dim name after `*`");
    assert_eq!(col, 15);

    let (msg, _, col) = parse_err("dims: { ffn: (d, 2) }");
    assert_eq!(msg, "`,` is not allowed inside parentheses");
    assert_eq!(col, 15);

    let (msg, _, col) = parse_err("dims: { ffn: (d 2) }");
    assert_eq!(msg, "expected an operator before `2`");
    assert_eq!(col, 16);

    let (msg, _, col) = parse_err("dims: { ffn: (d - ) }");
    assert_eq!(msg, "expected a number or a dim name after `-`");
    assert_eq!(col, 16);

    let (msg, _, col) = parse_err("dims: { ffn: 4 * () }");
    assert_eq!(
        msg,
        "empty parentheses: expected an expression inside `( … )`"
    );
    assert_eq!(col, 17);

    let (msg, _, col) = parse_err("dims: { ffn: (4 * [d]) }");
    assert_eq!(msg, "a list `[ … ]` cannot be part of an expression");
    assert_eq!(col, 18);
}

#[test]
fn literal_errors_point_at_the_literal() {
    let (msg, _, col) = parse_err(r#"name: "a" + 1"#);
    assert_eq!(msg, "a quoted string must be the whole value");
    assert_eq!(col, 6);

    let (msg, _, col) = parse_err("pool: 'm'");
    assert_eq!(
        msg,
        "expected a number, a name or a \"quoted string\", found `'m'`"
    );
    assert_eq!(col, 6);
}

#[test]
fn a_list_without_brackets_suggests_brackets() {
    let (msg, _, col) = parse_err("pool: mean, classes: neutral, angry, happy");
    assert_eq!(
        msg,
        "expected `:` and a value after `angry`; if `angry` continues the value of `classes`, \
         write a list in brackets: `classes: [a, b]`"
    );
    assert_eq!(col, 30);
}

#[test]
fn nesting_is_limited_like_yaml() {
    // 63 lists inside the top-level map are fine; 64 are one too many.
    let ok = format!("a: {}1{}", "[".repeat(63), "]".repeat(63));
    assert!(matches!(parse(&ok).kind, NodeKind::Map(_)));
    let deep = format!("a: {}1{}", "[".repeat(64), "]".repeat(64));
    let (msg, _, col) = parse_err(&deep);
    assert_eq!(msg, "the spec nests deeper than 64 levels");
    assert_eq!(col, 3 + 63);

    let parens = format!("a: {}1{}", "(".repeat(65), ")".repeat(65));
    let (msg, _, col) = parse_err(&parens);
    assert_eq!(msg, "the expression nests deeper than 64 parentheses");
    assert_eq!(col, 3 + 64);
    let parens = format!("a: {}1{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(text(get(&parse(&parens), "a")).len(), 129);
}
