//! Every user-facing YAML error kind, with its full rendered text (style.md rule 8).

use hrf_compiler::compile_yaml;

mod yaml_errors_common;
use yaml_errors_common::{BASE, SPEECHFORMER, assert_rendered, edit};

#[test]
fn the_base_specs_compile() {
    compile_yaml("base.yaml", BASE).expect("BASE compiles");
    compile_yaml("speechformer.yaml", SPEECHFORMER).expect("SPEECHFORMER compiles");
}

#[test]
fn yaml_syntax_error() {
    assert_rendered(
        &edit(
            BASE,
            "attention: { heads: heads }",
            "attention: { heads: heads",
        ),
        r#"
error: YAML syntax error: while parsing a flow mapping, did not find expected ',' or '}'
--> specs/bad.yaml:10:8
   |
10 |     ffn: { hidden: ffn, act: swish }
   |        ^ while parsing a flow mapping, did not find expected ',' or '}'
   = help: check the indentation and that every `{`, `[` and quote is closed
"#,
    );
}

#[test]
fn yaml_bad_indentation() {
    assert_rendered(
        &edit(BASE, "    ffn: { hidden", "   ffn: { hidden"),
        r#"
error: YAML syntax error: while parsing a block collection, did not find expected '-' indicator
--> specs/bad.yaml:10:4
   |
10 |    ffn: { hidden: ffn, act: swish }
   |    ^ while parsing a block collection, did not find expected '-' indicator
   = help: check the indentation and that every `{`, `[` and quote is closed
"#,
    );
}

#[test]
fn unknown_field_suggests_the_closest() {
    assert_rendered(
        &edit(BASE, "{ heads: heads }", "{ haeds: heads }"),
        r#"
error: unknown field `haeds` in `attention`
--> specs/bad.yaml:9:18
  |
9 |     attention: { haeds: heads }
  |                  ^^^^^ unknown field `haeds` in `attention`
  = help: did you mean `heads`?
"#,
    );
}

#[test]
fn unknown_field_lists_choices() {
    assert_rendered(
        &edit(
            BASE,
            "    conv: { kernel: 15 }",
            "    conv: { kernel: 15, padding: 7 }",
        ),
        r#"
error: unknown field `padding` in `conv`
--> specs/bad.yaml:11:25
   |
11 |     conv: { kernel: 15, padding: 7 }
   |                         ^^^^^^^ unknown field `padding` in `conv`
   = help: expected one of: kernel
"#,
    );
}

#[test]
fn missing_field() {
    assert_rendered(
        &edit(
            BASE,
            "    attention: { heads: heads }\n",
            "    attention: { window: 9 }\n",
        ),
        r#"
error: missing field `heads` in `attention`
--> specs/bad.yaml:9:5
  |
9 |     attention: { window: 9 }
  |     ^^^^^^^^^ missing field `heads` in `attention`
  = help: add `heads: 4`
"#,
    );
}

#[test]
fn missing_top_level_field() {
    assert_rendered(
        &edit(BASE, "classes: [neutral, angry, happy, sad]\n", ""),
        r#"
error: missing field `classes` in `spec`
--> specs/bad.yaml:1:1
  |
1 | name: Tiny
  | ^ missing field `classes` in `spec`
  = help: add `classes: [neutral, angry, happy, sad]`
"#,
    );
}

#[test]
fn wrong_type() {
    assert_rendered(
        &edit(
            BASE,
            "classes: [neutral, angry, happy, sad]",
            "classes: neutral",
        ),
        r#"
error: `classes` must be a list of class names, found `neutral`
--> specs/bad.yaml:12:10
   |
12 | classes: neutral
   |          ^^^^^^^ `classes` must be a list of class names, found `neutral`
   = help: write `classes: [neutral, angry, happy, sad]`
"#,
    );
}

#[test]
fn wrong_type_for_a_dim() {
    assert_rendered(
        &edit(
            BASE,
            "{ hidden: ffn, act: swish }",
            "{ hidden: [ffn], act: swish }",
        ),
        r#"
error: `hidden` must be an integer or a dim expression, found a list
--> specs/bad.yaml:10:20
   |
10 |     ffn: { hidden: [ffn], act: swish }
   |                    ^^^^^ `hidden` must be an integer or a dim expression, found a list
   = help: write e.g. `hidden: 64` or `hidden: 4 * d`
"#,
    );
}

#[test]
fn duplicate_field() {
    assert_rendered(
        &edit(BASE, "{ heads: heads }", "{ heads: heads, heads: 8 }"),
        r#"
error: field `heads` is given twice in `attention`
--> specs/bad.yaml:9:32
  |
9 |     attention: { heads: heads, heads: 8 }
  |                                ^^^^^ field `heads` is given twice in `attention`
  = help: keep only one of them
"#,
    );
}

#[test]
fn unknown_block_kind() {
    assert_rendered(
        &edit(BASE, "block: conformer", "block: conformer2"),
        r#"
error: unknown block kind `conformer2`
--> specs/bad.yaml:8:12
  |
8 |     block: conformer2
  |            ^^^^^^^^^^ unknown block kind `conformer2`
  = help: did you mean `conformer`? (expected one of: conv_transformer, conformer, speechformer)
"#,
    );
}

#[test]
fn unknown_activation() {
    assert_rendered(
        &edit(BASE, "act: swish", "act: sigmoid"),
        r#"
error: unknown activation `sigmoid`
--> specs/bad.yaml:10:30
   |
10 |     ffn: { hidden: ffn, act: sigmoid }
   |                              ^^^^^^^ unknown activation `sigmoid`
   = help: expected one of: relu, swish, gelu
"#,
    );
}

#[test]
fn undefined_dim() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4 * dd }"),
        r#"
error: undefined dim `dd`
--> specs/bad.yaml:3:35
  |
3 | dims: { d: 64, heads: 4, ffn: 4 * dd }
  |                                   ^^ undefined dim `dd`
  = help: did you mean `d`?
"#,
    );
}

#[test]
fn undefined_dim_in_a_field() {
    assert_rendered(
        &edit(BASE, "channels: d,", "channels: width,"),
        r#"
error: undefined dim `width`
--> specs/bad.yaml:5:42
  |
5 |   conv_subsample: { layers: 2, channels: width, kernel: 3, stride: 2 }
  |                                          ^^^^^ undefined dim `width`
  = help: define it under `dims:`, e.g. `dims: { width: 64 }`
"#,
    );
}

#[test]
fn circular_dims() {
    assert_rendered(
        &edit(
            BASE,
            "dims: { d: 64, heads: 4, ffn: 4 * d }",
            "dims: { d: ffn / 4, heads: 4, ffn: 4 * d }",
        ),
        r#"
error: circular dim definition: d → ffn → d
--> specs/bad.yaml:3:9
  |
3 | dims: { d: ffn / 4, heads: 4, ffn: 4 * d }
  |         ^ circular dim definition: d → ffn → d
  = help: give one of these dims a value that does not depend on the others
"#,
    );
}

#[test]
fn self_referential_dim() {
    assert_rendered(
        &edit(BASE, "dims: { d: 64,", "dims: { d: d + 1,"),
        r#"
error: dim `d` is defined in terms of itself
--> specs/bad.yaml:3:9
  |
3 | dims: { d: d + 1, heads: 4, ffn: 4 * d }
  |         ^ dim `d` is defined in terms of itself
  = help: give one of these dims a value that does not depend on the others
"#,
    );
}

#[test]
fn inexact_division() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: (d + 1) / 3 }"),
        r#"
error: `(d + 1) / 3` = 65 / 3 is not an exact division
--> specs/bad.yaml:3:31
  |
3 | dims: { d: 64, heads: 4, ffn: (d + 1) / 3 }
  |                               ^^^^^^^^^^^ `(d + 1) / 3` = 65 / 3 is not an exact division
  = help: dims are integers: make 65 a multiple of 3 (e.g. 63)
"#,
    );
}

#[test]
fn division_by_zero() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: d / (heads - 4) }"),
        r#"
error: division by zero in `d / (heads - 4)`
--> specs/bad.yaml:3:35
  |
3 | dims: { d: 64, heads: 4, ffn: d / (heads - 4) }
  |                                   ^^^^^^^^^^^ division by zero in `d / (heads - 4)`
"#,
    );
}

#[test]
fn overflowing_dim() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4611686018427387904 * d }"),
        r#"
error: `4611686018427387904 * d` overflows a 64-bit integer
--> specs/bad.yaml:3:31
  |
3 | dims: { d: 64, heads: 4, ffn: 4611686018427387904 * d }
  |                               ^^^^^^^^^^^^^^^^^^^^^^^ `4611686018427387904 * d` overflows a 64-bit integer
"#,
    );
}

#[test]
fn too_large_dim() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4096 * 4096 * d }"),
        r#"
error: dim `ffn` = 1073741824 is too large
--> specs/bad.yaml:3:31
  |
3 | dims: { d: 64, heads: 4, ffn: 4096 * 4096 * d }
  |                               ^^^^^^^^^^^^^^^ dim `ffn` = 1073741824 is too large
  = help: hrf models use sizes up to 16777216
"#,
    );
}

#[test]
fn zero_dim_is_reported_once() {
    assert_rendered(
        &edit(BASE, "dims: { d: 64,", "dims: { d: 0,"),
        r#"
error: dim `d` = 0 must be positive
--> specs/bad.yaml:3:12
  |
3 | dims: { d: 0, heads: 4, ffn: 4 * d }
  |            ^ dim `d` = 0 must be positive
  = help: dims are sizes: give it a value of at least 1
"#,
    );
}

#[test]
fn negative_field() {
    assert_rendered(
        &edit(BASE, "repeat: 2", "repeat: -2"),
        r#"
error: `repeat` = -2 must be positive
--> specs/bad.yaml:7:13
  |
7 |   - repeat: -2
  |             ^^ `repeat` = -2 must be positive
  = help: give `repeat` a value of at least 1
"#,
    );
}

#[test]
fn too_many_repeats() {
    assert_rendered(
        &edit(BASE, "repeat: 2", "repeat: 1000"),
        r#"
error: `repeat` = 1000 is more than the limit of 256
--> specs/bad.yaml:7:13
  |
7 |   - repeat: 1000
  |             ^^^^ `repeat` = 1000 is more than the limit of 256
  = help: use `repeat` ≤ 256
"#,
    );
}

#[test]
fn expression_syntax_error() {
    assert_rendered(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4 ** d }"),
        r#"
error: unexpected `*` in dim expression `4 ** d`
--> specs/bad.yaml:3:34
  |
3 | dims: { d: 64, heads: 4, ffn: 4 ** d }
  |                                  ^ unexpected `*` in dim expression `4 ** d`
  = help: a dim expression uses integers, dim names, + - * / and parentheses, e.g. `4 * d`
"#,
    );
}

#[test]
fn heads_not_dividing_d() {
    assert_rendered(
        &edit(BASE, "heads: 4,", "heads: 5,"),
        r#"
error: heads = 5 does not divide d = 64
--> specs/bad.yaml:9:25
  |
9 |     attention: { heads: heads }
  |                         ^^^^^ heads = 5 does not divide d = 64
  = help: try heads = 4 or 8
"#,
    );
}

#[test]
fn hrf_on_attention() {
    assert_rendered(
        &edit(
            BASE,
            "{ heads: heads }",
            "{ heads: heads, hrf: { expand: 4 } }",
        ),
        r#"
error: `hrf` is not allowed in `attention`: HRF expands FFNs only
--> specs/bad.yaml:9:32
  |
9 |     attention: { heads: heads, hrf: { expand: 4 } }
  |                                ^^^ `hrf` is not allowed in `attention`: HRF expands FFNs only
  = help: move it into the block's `ffn:` map, e.g. `ffn: { hidden: ffn, hrf: { expand: 4 } }`
"#,
    );
}

#[test]
fn hrf_on_a_block() {
    assert_rendered(
        &edit(
            BASE,
            "    conv: { kernel: 15 }\n",
            "    conv: { kernel: 15 }\n    hrf: { expand: 4 }\n",
        ),
        r#"
error: `hrf` is not allowed in `encoder item`: HRF expands FFNs only
--> specs/bad.yaml:12:5
   |
12 |     hrf: { expand: 4 }
   |     ^^^ `hrf` is not allowed in `encoder item`: HRF expands FFNs only
   = help: move it into the block's `ffn:` map, e.g. `ffn: { hidden: ffn, hrf: { expand: 4 } }`
"#,
    );
}

#[test]
fn hrf_expand_below_one() {
    assert_rendered(
        &edit(BASE, "act: swish }", "act: swish, hrf: { expand: 0 } }"),
        r#"
error: hrf expand = 0 must be at least 1
--> specs/bad.yaml:10:52
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { expand: 0 } }
   |                                                    ^ hrf expand = 0 must be at least 1
   = help: expand is the ratio m / d of the HRF layer; 4 is the usual choice
"#,
    );
}

#[test]
fn hrf_depth_below_one() {
    assert_rendered(
        &edit(BASE, "act: swish }", "act: swish, hrf: { depth: -1 } }"),
        r#"
error: hrf depth = -1 must be at least 1
--> specs/bad.yaml:10:51
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { depth: -1 } }
   |                                                   ^^ hrf depth = -1 must be at least 1
   = help: depth is the number of HRF layers; 1 is the usual choice
"#,
    );
}

#[test]
fn hrf_bias_not_a_bool() {
    assert_rendered(
        &edit(BASE, "act: swish }", "act: swish, hrf: { bias: yes } }"),
        r#"
error: `bias` must be `true` or `false`, found `yes`
--> specs/bad.yaml:10:50
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { bias: yes } }
   |                                                  ^^^ `bias` must be `true` or `false`, found `yes`
   = help: write `bias: true` or `bias: false`
"#,
    );
}

#[test]
fn window_larger_than_sequence() {
    assert_rendered(
        &edit(BASE, "{ heads: heads }", "{ heads: heads, window: 151 }"),
        r#"
error: attention window 151 is larger than the sequence (150 frames after subsampling at max_frames = 600)
--> specs/bad.yaml:9:40
  |
9 |     attention: { heads: heads, window: 151 }
  |                                        ^^^ attention window 151 is larger than the sequence (150 frames after subsampling at max_frames = 600)
  = help: use window ≤ 150, or remove `window` for global attention
"#,
    );
}

#[test]
fn window_larger_than_sequence_after_a_merge() {
    assert_rendered(
        &edit(
            SPEECHFORMER,
            "attention: { heads: heads }",
            "attention: { heads: heads, window: 99 }",
        ),
        r#"
error: attention window 99 is larger than the sequence (75 frames after subsampling at max_frames = 600)
--> specs/bad.yaml:12:40
   |
12 |     attention: { heads: heads, window: 99 }
   |                                        ^^ attention window 99 is larger than the sequence (75 frames after subsampling at max_frames = 600)
   = help: use window ≤ 75, or remove `window` for global attention
"#,
    );
}

#[test]
fn max_frames_not_divisible() {
    assert_rendered(
        &edit(BASE, "max_frames: 600", "max_frames: 602"),
        r#"
error: max_frames = 602 is not divisible by the subsampling factor 4
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: 602 }
  |                                    ^^^ max_frames = 602 is not divisible by the subsampling factor 4
  = help: the frontend divides frames by 4 (stride^layers); try max_frames = 600 or 604
"#,
    );
}

#[test]
fn even_conformer_kernel() {
    assert_rendered(
        &edit(BASE, "kernel: 15", "kernel: 16"),
        r#"
error: kernel = 16 is even, but the conformer depthwise conv uses same padding (kernel / 2 on each side)
--> specs/bad.yaml:11:21
   |
11 |     conv: { kernel: 16 }
   |                     ^^ kernel = 16 is even, but the conformer depthwise conv uses same padding (kernel / 2 on each side)
   = help: use an odd kernel: try kernel = 15 or 17
"#,
    );
}

#[test]
fn even_subsampling_kernel() {
    assert_rendered(
        &edit(BASE, "kernel: 3,", "kernel: 4,"),
        r#"
error: kernel = 4 is even, but the subsampling conv uses same padding (kernel / 2 on each side)
--> specs/bad.yaml:5:53
  |
5 |   conv_subsample: { layers: 2, channels: d, kernel: 4, stride: 2 }
  |                                                     ^ kernel = 4 is even, but the subsampling conv uses same padding (kernel / 2 on each side)
  = help: use an odd kernel: try kernel = 3 or 5
"#,
    );
}

#[test]
fn duplicate_class() {
    assert_rendered(
        &edit(BASE, "angry, happy, sad", "angry, happy, angry"),
        r#"
error: class `angry` is listed twice
--> specs/bad.yaml:12:34
   |
12 | classes: [neutral, angry, happy, angry]
   |                                  ^^^^^ class `angry` is listed twice
   = help: class names must be unique
"#,
    );
}

#[test]
fn fewer_than_two_classes() {
    assert_rendered(
        &edit(BASE, "[neutral, angry, happy, sad]", "[neutral]"),
        r#"
error: a classifier needs at least 2 classes, found 1
--> specs/bad.yaml:12:1
   |
12 | classes: [neutral]
   | ^^^^^^^ a classifier needs at least 2 classes, found 1
   = help: list every class, e.g. `classes: [neutral, angry, happy, sad]`
"#,
    );
}

#[test]
fn conv_on_a_conv_transformer() {
    assert_rendered(
        &edit(BASE, "block: conformer", "block: conv_transformer"),
        r#"
error: `conv` is only used by conformer blocks, not `conv_transformer`
--> specs/bad.yaml:11:5
   |
11 |     conv: { kernel: 15 }
   |     ^^^^ `conv` is only used by conformer blocks, not `conv_transformer`
   = help: remove `conv:` or use `block: conformer`
"#,
    );
}

#[test]
fn merge_outside_speechformer() {
    assert_rendered(
        &edit(
            SPEECHFORMER,
            "- block: speechformer\n    attention: { heads: heads }\n",
            "- block: conv_transformer\n    attention: { heads: heads }\n",
        ),
        r#"
error: `merge` must sit between two speechformer stages
--> specs/bad.yaml:10:5
   |
10 |   - merge: { factor: 2 }
   |     ^^^^^ `merge` must sit between two speechformer stages
   = help: put block groups with `block: speechformer` before and after it
"#,
    );
}

#[test]
fn model_name_not_camel_case() {
    assert_rendered(
        &edit(BASE, "name: Tiny", "name: tiny model"),
        r#"
error: model name `tiny model` must be a CamelCase identifier
--> specs/bad.yaml:1:7
  |
1 | name: tiny model
  |       ^^^^^^^^^^ model name `tiny model` must be a CamelCase identifier
  = help: generated types are named after it: try `TinyModel`
"#,
    );
}

#[test]
fn dropout_out_of_range() {
    assert_rendered(
        &edit(BASE, "classes:", "dropout: 1.5\nclasses:"),
        r#"
error: `dropout` = 1.5 is outside [0, 1)
--> specs/bad.yaml:12:10
   |
12 | dropout: 1.5
   |          ^^^ `dropout` = 1.5 is outside [0, 1)
   = help: a dropout probability like 0.1
"#,
    );
}

#[test]
fn empty_encoder() {
    assert_rendered(
        &edit(
            &edit(
                BASE,
                "  - repeat: 2\n    block: conformer\n    attention: { heads: heads }\n    ffn: { hidden: ffn, act: swish }\n    conv: { kernel: 15 }\n",
                "",
            ),
            "encoder:\n",
            "encoder: []\n",
        ),
        r#"
error: `encoder` has no blocks
--> specs/bad.yaml:6:10
  |
6 | encoder: []
  |          ^^ `encoder` has no blocks
  = help: add a block group, e.g. `{ block: conformer, attention: { heads: 4 }, ffn: { hidden: 256 } }`
"#,
    );
}

#[test]
fn independent_mistakes_are_all_reported_in_source_order() {
    assert_rendered(
        &edit(
            &edit(
                &edit(BASE, "max_frames: 600", "max_frames: 601"),
                "heads: 4,",
                "heads: 5,",
            ),
            "act: swish",
            "act: swich",
        ),
        r#"
error: max_frames = 601 is not divisible by the subsampling factor 4
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: 601 }
  |                                    ^^^ max_frames = 601 is not divisible by the subsampling factor 4
  = help: the frontend divides frames by 4 (stride^layers); try max_frames = 600 or 604

error: heads = 5 does not divide d = 64
--> specs/bad.yaml:9:25
  |
9 |     attention: { heads: heads }
  |                         ^^^^^ heads = 5 does not divide d = 64
  = help: try heads = 4 or 8

error: unknown activation `swich`
--> specs/bad.yaml:10:30
   |
10 |     ffn: { hidden: ffn, act: swich }
   |                              ^^^^^ unknown activation `swich`
   = help: did you mean `swish`? (expected one of: relu, swish, gelu)
"#,
    );
}

#[test]
fn undefined_dim_does_not_cascade() {
    assert_rendered(
        &edit(BASE, "heads: 4,", "heads: h,"),
        r#"
error: undefined dim `h`
--> specs/bad.yaml:3:23
  |
3 | dims: { d: 64, heads: h, ffn: 4 * d }
  |                       ^ undefined dim `h`
  = help: did you mean `d`?
"#,
    );
}

#[test]
fn field_written_one_level_too_high() {
    assert_rendered(
        &edit(
            BASE,
            "    attention: { heads: heads }\n",
            "    heads: heads\n",
        ),
        r#"
error: `heads` belongs inside `attention:`, not directly in `encoder item`
--> specs/bad.yaml:9:5
  |
9 |     heads: heads
  |     ^^^^^ `heads` belongs inside `attention:`, not directly in `encoder item`
  = help: write `attention: { heads: … }`
"#,
    );
}

#[test]
fn activation_in_capitals() {
    assert_rendered(
        &edit(BASE, "act: swish", "act: Swish"),
        r#"
error: unknown activation `Swish`
--> specs/bad.yaml:10:30
   |
10 |     ffn: { hidden: ffn, act: Swish }
   |                              ^^^^^ unknown activation `Swish`
   = help: did you mean `swish`? (expected one of: relu, swish, gelu)
"#,
    );
}

#[test]
fn tab_indentation() {
    assert_rendered(
        &edit(BASE, "    ffn: {", "\tffn: {"),
        r#"
error: YAML syntax error: tabs disallowed within this context (block indentation)
--> specs/bad.yaml:10:2
   |
10 |     ffn: { hidden: ffn, act: swish }
   |     ^ tabs disallowed within this context (block indentation)
   = help: check the indentation and that every `{`, `[` and quote is closed
"#,
    );
}

#[test]
fn decimal_dim() {
    assert_rendered(
        &edit(BASE, "d: 64,", "d: 64.0,"),
        r#"
error: `d` must be a whole number, found `64.0`
--> specs/bad.yaml:3:12
  |
3 | dims: { d: 64.0, heads: 4, ffn: 4 * d }
  |            ^^^^ `d` must be a whole number, found `64.0`
  = help: sizes are whole numbers: write `d: 64`
"#,
    );
}

#[test]
fn hrf_as_a_number() {
    assert_rendered(
        &edit(BASE, "act: swish }", "act: swish, hrf: 4 }"),
        r#"
error: `hrf` must be a map of fields, found `4`
--> specs/bad.yaml:10:42
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: 4 }
   |                                          ^ `hrf` must be a map of fields, found `4`
   = help: write `hrf: true` for the defaults, or e.g. `hrf: { expand: 4 }`
"#,
    );
}

#[test]
fn empty_spec() {
    assert_rendered(
        "",
        r#"
error: the spec is empty
--> specs/bad.yaml:1:1
  |
1 | 
  | ^ the spec is empty
  = help: start with `name: MyModel`, then `input`, `encoder` and `classes`
"#,
    );
}

#[test]
fn two_documents() {
    assert_rendered(
        &format!("{BASE}---\nname: Other\n"),
        r#"
error: a spec file holds exactly one YAML document
--> specs/bad.yaml:13:1
   |
13 | ---
   | ^^^ a spec file holds exactly one YAML document
   = help: remove the `---` and everything after it, or move it to its own file
"#,
    );
}
