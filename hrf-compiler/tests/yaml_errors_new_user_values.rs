//! Mistakes a new user makes in values (negative or zero sizes, fractions, limits, a kind in
//! capitals, heads that do not divide d, units after a number): each gives exactly one located
//! error with a help line, never a panic or a cascade, shown in full.

use hrf_compiler::compile_yaml;

mod yaml_errors_common;
use yaml_errors_common::{BASE, SPEECHFORMER, assert_one_error, edit};

/// A negative `max_frames`.
#[test]
fn negative_max_frames() {
    assert_one_error(
        &edit(BASE, "max_frames: 600", "max_frames: -600"),
        r#"
error: `max_frames` = -600 must be positive
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: -600 }
  |                                    ^^^^ `max_frames` = -600 must be positive
  = help: give `max_frames` a value of at least 1
"#,
    );
}

/// A negative conv kernel.
#[test]
fn negative_conv_kernel() {
    assert_one_error(
        &edit(BASE, "kernel: 15", "kernel: -15"),
        r#"
error: `kernel` = -15 must be positive
--> specs/bad.yaml:11:21
   |
11 |     conv: { kernel: -15 }
   |                     ^^^ `kernel` = -15 must be positive
   = help: give `kernel` a value of at least 1
"#,
    );
}

/// A negative attention window.
#[test]
fn negative_window() {
    assert_one_error(
        &edit(SPEECHFORMER, "window: 5", "window: -5"),
        r#"
error: `window` = -5 must be positive
--> specs/bad.yaml:8:40
  |
8 |     attention: { heads: heads, window: -5 }
  |                                        ^^ `window` = -5 must be positive
  = help: give `window` a value of at least 1
"#,
    );
}

/// A negative dropout.
#[test]
fn negative_dropout() {
    assert_one_error(
        &edit(BASE, "classes:", "dropout: -0.1\nclasses:"),
        r#"
error: `dropout` = -0.1 is outside [0, 1)
--> specs/bad.yaml:12:10
   |
12 | dropout: -0.1
   |          ^^^^ `dropout` = -0.1 is outside [0, 1)
   = help: a dropout probability like 0.1
"#,
    );
}

/// A block kind in capitals.
#[test]
fn block_kind_capitalised() {
    assert_one_error(
        &edit(BASE, "block: conformer", "block: Conformer"),
        r#"
error: unknown block kind `Conformer`
--> specs/bad.yaml:8:12
  |
8 |     block: Conformer
  |            ^^^^^^^^^ unknown block kind `Conformer`
  = help: did you mean `conformer`? (expected one of: conv_transformer, conformer, speechformer)
"#,
    );
}

/// `hrf: yes` (only `true`/`false` or a map).
#[test]
fn hrf_yes() {
    assert_one_error(
        &edit(BASE, "act: swish", "act: swish, hrf: yes"),
        r#"
error: `hrf` must be a map of fields, found `yes`
--> specs/bad.yaml:10:42
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: yes }
   |                                          ^^^ `hrf` must be a map of fields, found `yes`
   = help: write `hrf: true` for the defaults, or e.g. `hrf: { expand: 4 }`
"#,
    );
}

/// `hrf: true` outside an FFN.
#[test]
fn hrf_true_at_the_top() {
    assert_one_error(
        &edit(BASE, "classes:", "hrf: true\nclasses:"),
        r#"
error: `hrf` is not allowed in `spec`: HRF expands FFNs only
--> specs/bad.yaml:12:1
   |
12 | hrf: true
   | ^^^ `hrf` is not allowed in `spec`: HRF expands FFNs only
   = help: move it into the block's `ffn:` map, e.g. `ffn: { hidden: ffn, hrf: { expand: 4 } }`
"#,
    );
}

/// A fractional expansion.
#[test]
fn expand_one_half() {
    assert_one_error(
        &edit(BASE, "act: swish", "act: swish, hrf: { expand: 0.5 }"),
        r#"
error: `expand` must be a whole number, found `0.5`
--> specs/bad.yaml:10:52
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { expand: 0.5 } }
   |                                                    ^^^ `expand` must be a whole number, found `0.5`
   = help: HRF expand is the whole ratio m / d (at least 1): try `expand: 1` or `expand: 2`
"#,
    );
}

/// An expansion whose HRF layer exceeds the size limit.
#[test]
fn expand_too_large() {
    assert_one_error(
        &edit(BASE, "act: swish", "act: swish, hrf: { expand: 1000000 }"),
        r#"
error: hrf expand = 1000000 makes the HRF layer 1000000 · 64 units wide, more than 16777216
--> specs/bad.yaml:10:52
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { expand: 1000000 } }
   |                                                    ^^^^^^^ hrf expand = 1000000 makes the HRF layer 1000000 · 64 units wide, more than 16777216
   = help: expand is the ratio m / d of the HRF layer; 4 is the usual choice
"#,
    );
}

/// A very deep HRF chain.
#[test]
fn hrf_depth_over_the_limit() {
    assert_one_error(
        &edit(
            BASE,
            "act: swish",
            "act: swish, hrf: { expand: 4, depth: 100 }",
        ),
        r#"
error: `depth` = 100 is more than the limit of 8
--> specs/bad.yaml:10:62
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { expand: 4, depth: 100 } }
   |                                                              ^^^ `depth` = 100 is more than the limit of 8
   = help: use `depth` ≤ 8
"#,
    );
}

/// A fractional dim.
#[test]
fn dim_with_a_decimal_point() {
    assert_one_error(
        &edit(BASE, "d: 64,", "d: 64.5,"),
        r#"
error: `d` must be a whole number, found `64.5`
--> specs/bad.yaml:3:12
  |
3 | dims: { d: 64.5, heads: 4, ffn: 4 * d }
  |            ^^^^ `d` must be a whole number, found `64.5`
  = help: sizes are whole numbers: write `d: 65`
"#,
    );
}

/// Window 0.
#[test]
fn window_zero() {
    assert_one_error(
        &edit(SPEECHFORMER, "window: 5", "window: 0"),
        r#"
error: `window` = 0 must be positive
--> specs/bad.yaml:8:40
  |
8 |     attention: { heads: heads, window: 0 }
  |                                        ^ `window` = 0 must be positive
  = help: give `window` a value of at least 1
"#,
    );
}

/// max_frames too small for the frontend.
#[test]
fn max_frames_shorter_than_the_subsampling() {
    assert_one_error(
        &edit(BASE, "max_frames: 600", "max_frames: 2"),
        r#"
error: max_frames = 2 is shorter than the subsampling factor 4: no frame would be left
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: 2 }
  |                                    ^ max_frames = 2 is shorter than the subsampling factor 4: no frame would be left
  = help: the frontend divides frames by 4 (stride^layers); max_frames must be a multiple of 4: try max_frames = 4
"#,
    );
}

/// `repeat: 0`.
#[test]
fn repeat_zero() {
    assert_one_error(
        &edit(BASE, "repeat: 2", "repeat: 0"),
        r#"
error: `repeat` = 0 must be positive
--> specs/bad.yaml:7:13
  |
7 |   - repeat: 0
  |             ^ `repeat` = 0 must be positive
  = help: give `repeat` a value of at least 1
"#,
    );
}

/// Attention heads as an expression that doesn't divide d.
#[test]
fn heads_expression_not_dividing_d() {
    assert_one_error(
        &edit(
            BASE,
            "attention: { heads: heads }",
            "attention: { heads: d / 16 + 1 }",
        ),
        r#"
error: heads = 5 does not divide d = 64
--> specs/bad.yaml:9:25
  |
9 |     attention: { heads: d / 16 + 1 }
  |                         ^^^^^^^^^^ heads = 5 does not divide d = 64
  = help: try heads = 4 or 8
"#,
    );
}

/// Heads as an expression that is not an exact division.
#[test]
fn heads_expression_not_exact() {
    assert_one_error(
        &edit(
            BASE,
            "attention: { heads: heads }",
            "attention: { heads: d / 10 }",
        ),
        r#"
error: `d / 10` = 64 / 10 is not an exact division
--> specs/bad.yaml:9:25
  |
9 |     attention: { heads: d / 10 }
  |                         ^^^^^^ `d / 10` = 64 / 10 is not an exact division
  = help: dims are integers: make 64 a multiple of 10 (e.g. 60)
"#,
    );
}

/// A unit after the number.
#[test]
fn units_after_a_number() {
    assert_one_error(
        &edit(BASE, "max_frames: 600", "max_frames: 600 frames"),
        r#"
error: unexpected `f` in dim expression `600 frames`
--> specs/bad.yaml:2:40
  |
2 | input: { features: 64, max_frames: 600 frames }
  |                                        ^ unexpected `f` in dim expression `600 frames`
  = help: a dim expression uses integers, dim names, + - * / and parentheses, e.g. `4 * d`
"#,
    );
}

/// `4d` for `4 * d`.
#[test]
fn number_glued_to_a_dim() {
    assert_one_error(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4d }"),
        r#"
error: unexpected `d` in dim expression `4d`
--> specs/bad.yaml:3:32
  |
3 | dims: { d: 64, heads: 4, ffn: 4d }
  |                                ^ unexpected `d` in dim expression `4d`
  = help: a dim expression uses integers, dim names, + - * / and parentheses, e.g. `4 * d`
"#,
    );
}

/// A dim name in capitals.
#[test]
fn dim_in_capitals() {
    assert_one_error(
        &edit(BASE, "hidden: ffn", "hidden: 4 * D"),
        r#"
error: undefined dim `D`
--> specs/bad.yaml:10:24
   |
10 |     ffn: { hidden: 4 * D, act: swish }
   |                        ^ undefined dim `D`
   = help: did you mean `d`?
"#,
    );
}

/// `hrf: true` is the shorthand for the default HRF (expand 4, depth 1, bias): it compiles and
/// adds parameters at training time only.
#[test]
fn hrf_true_is_the_default_hrf() {
    let plain = compile_yaml("plain.yaml", BASE).expect("BASE compiles");
    let with_hrf = compile_yaml(
        "hrf.yaml",
        &edit(BASE, "act: swish", "act: swish, hrf: true"),
    )
    .expect("`hrf: true` compiles");
    let explicit = compile_yaml(
        "explicit.yaml",
        &edit(
            BASE,
            "act: swish",
            "act: swish, hrf: { expand: 4, depth: 1, bias: true }",
        ),
    )
    .expect("explicit defaults compile");
    assert_eq!(with_hrf.ir, explicit.ir);
    assert!(with_hrf.train.param_count() > plain.train.param_count());
    assert_eq!(with_hrf.folded.param_count(), plain.folded.param_count());
}
