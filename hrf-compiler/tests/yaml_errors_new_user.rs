//! Mistakes a new user makes in the structure of a spec (sections of the wrong type, a
//! misspelt section, duplicates, tabs, a missing `encoder`): each gives exactly one located
//! error with a help line, never a panic or a cascade, shown in full.

use hrf_compiler::compile_yaml;

mod yaml_errors_common;
use yaml_errors_common::{BASE, SPEECHFORMER, assert_one_error, edit};

/// A list where the `dims` map is expected: one error, and no "undefined dim" for every use.
#[test]
fn dims_written_as_a_flow_list() {
    assert_one_error(
        &edit(
            BASE,
            "dims: { d: 64, heads: 4, ffn: 4 * d }",
            "dims: [d: 64, heads: 4, ffn: 4 * d]",
        ),
        r#"
error: `dims` must be a map of name: expression, found a list
--> specs/bad.yaml:3:7
  |
3 | dims: [d: 64, heads: 4, ffn: 4 * d]
  |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ `dims` must be a map of name: expression, found a list
  = help: write `dims: { d: 64, heads: 4, ffn: 4 * d }`
"#,
    );
}

/// The same mistake in block style.
#[test]
fn dims_written_as_a_block_list() {
    assert_one_error(
        &edit(
            BASE,
            "dims: { d: 64, heads: 4, ffn: 4 * d }",
            "dims:\n  - d: 64\n  - heads: 4\n  - ffn: 4 * d",
        ),
        r#"
error: `dims` must be a map of name: expression, found a list
--> specs/bad.yaml:4:3
  |
4 |   - d: 64
  |   ^^^^^^^ `dims` must be a map of name: expression, found a list
  = help: write `dims: { d: 64, heads: 4, ffn: 4 * d }`
"#,
    );
}

/// A single number under `dims`.
#[test]
fn dims_written_as_a_number() {
    assert_one_error(
        &edit(BASE, "dims: { d: 64, heads: 4, ffn: 4 * d }", "dims: 64"),
        r#"
error: `dims` must be a map of name: expression, found `64`
--> specs/bad.yaml:3:7
  |
3 | dims: 64
  |       ^^ `dims` must be a map of name: expression, found `64`
  = help: write `dims: { d: 64, heads: 4, ffn: 4 * d }`
"#,
    );
}

/// `dim:` for `dims:`: the did-you-mean is the only error.
#[test]
fn dims_key_misspelt() {
    assert_one_error(
        &edit(BASE, "dims:", "dim:"),
        r#"
error: unknown field `dim` in `spec`
--> specs/bad.yaml:3:1
  |
3 | dim: { d: 64, heads: 4, ffn: 4 * d }
  | ^^^ unknown field `dim` in `spec`
  = help: did you mean `dims`?
"#,
    );
}

/// A misspelt `merge` item is not a block group with three missing fields.
#[test]
fn merge_key_misspelt() {
    assert_one_error(
        &edit(SPEECHFORMER, "merge:", "merg:"),
        r#"
error: unknown field `merg` in `encoder item`
--> specs/bad.yaml:10:5
   |
10 |   - merg: { factor: 2 }
   |     ^^^^ unknown field `merg` in `encoder item`
   = help: did you mean `merge`?
"#,
    );
}

/// A block kind written as the whole encoder item.
#[test]
fn encoder_item_is_a_block_kind() {
    assert_one_error(
        &edit(
            BASE,
            "  - repeat: 2\n    block: conformer\n    attention: { heads: heads }\n    ffn: { hidden: ffn, act: swish }\n    conv: { kernel: 15 }\n",
            "  - conformer\n",
        ),
        r#"
error: an encoder item must be a map of fields, found `conformer`
--> specs/bad.yaml:7:5
  |
7 |   - conformer
  |     ^^^^^^^^^ an encoder item must be a map of fields, found `conformer`
  = help: write `{ block: conformer, attention: { heads: 4 }, ffn: { hidden: 256 } }`
"#,
    );
}

/// The `-` of the encoder item forgotten.
#[test]
fn encoder_written_as_a_map() {
    assert_one_error(
        &edit(BASE, "  - repeat: 2", "    repeat: 2"),
        r#"
error: `encoder` must be a list of block groups, found a map
--> specs/bad.yaml:7:5
  |
7 |     repeat: 2
  |     ^^^^^^^^^ `encoder` must be a list of block groups, found a map
  = help: write `encoder: [ { block: conformer, … }, … ]`, one map per block group
"#,
    );
}

/// Wrong type for the name.
#[test]
fn name_as_a_list() {
    assert_one_error(
        &edit(BASE, "name: Tiny", "name: [Tiny]"),
        r#"
error: `name` must be a name, found a list
--> specs/bad.yaml:1:7
  |
1 | name: [Tiny]
  |       ^^^^^^ `name` must be a name, found a list
  = help: write `name: MyModel`
"#,
    );
}

/// Wrong type for a word field.
#[test]
fn activation_as_a_list() {
    assert_one_error(
        &edit(BASE, "act: swish", "act: [swish]"),
        r#"
error: `act` must be a name, found a list
--> specs/bad.yaml:10:30
   |
10 |     ffn: { hidden: ffn, act: [swish] }
   |                              ^^^^^^^ `act` must be a name, found a list
   = help: write `act: relu`
"#,
    );
}

/// Wrong type for an integer field.
#[test]
fn max_frames_as_a_list() {
    assert_one_error(
        &edit(BASE, "max_frames: 600", "max_frames: [600]"),
        r#"
error: `max_frames` must be an integer or a dim expression, found a list
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: [600] }
  |                                    ^^^^^ `max_frames` must be an integer or a dim expression, found a list
  = help: write e.g. `max_frames: 64` or `max_frames: 4 * d`
"#,
    );
}

/// A list written without brackets.
#[test]
fn classes_without_brackets() {
    assert_one_error(
        &edit(
            BASE,
            "classes: [neutral, angry, happy, sad]",
            "classes: neutral, angry, happy, sad",
        ),
        r#"
error: `classes` must be a list of class names, found `neutral, angry, happy, sad`
--> specs/bad.yaml:12:10
   |
12 | classes: neutral, angry, happy, sad
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^ `classes` must be a list of class names, found `neutral, angry, happy, sad`
   = help: write `classes: [neutral, angry, happy, sad]`
"#,
    );
}

/// An empty class list.
#[test]
fn empty_classes() {
    assert_one_error(
        &edit(BASE, "classes: [neutral, angry, happy, sad]", "classes: []"),
        r#"
error: a classifier needs at least 2 classes, found 0
--> specs/bad.yaml:12:1
   |
12 | classes: []
   | ^^^^^^^ a classifier needs at least 2 classes, found 0
   = help: list every class, e.g. `classes: [neutral, angry, happy, sad]`
"#,
    );
}

/// `classes:` with nothing after it.
#[test]
fn classes_left_empty() {
    assert_one_error(
        &edit(BASE, "classes: [neutral, angry, happy, sad]", "classes:"),
        r#"
error: `classes` must be a list of class names, found nothing
--> specs/bad.yaml:12:1
   |
12 | classes:
   | ^^^^^^^ `classes` must be a list of class names, found nothing
   = help: write `classes: [neutral, angry, happy, sad]`
"#,
    );
}

/// A top-level key given twice.
#[test]
fn duplicate_top_level_key() {
    assert_one_error(
        &edit(BASE, "name: Tiny", "name: Tiny\nname: Tiny2"),
        r#"
error: field `name` is given twice in `spec`
--> specs/bad.yaml:2:1
  |
2 | name: Tiny2
  | ^^^^ field `name` is given twice in `spec`
  = help: keep only one of them
"#,
    );
}

/// A dim defined twice.
#[test]
fn duplicate_dim() {
    assert_one_error(
        &edit(BASE, "ffn: 4 * d }", "ffn: 4 * d, d: 32 }"),
        r#"
error: dim `d` is defined twice
--> specs/bad.yaml:3:38
  |
3 | dims: { d: 64, heads: 4, ffn: 4 * d, d: 32 }
  |                                      ^ dim `d` is defined twice
  = help: keep only one definition
"#,
    );
}

/// A key given twice in one encoder item.
#[test]
fn duplicate_key_in_an_encoder_item() {
    assert_one_error(
        &edit(
            BASE,
            "    conv: { kernel: 15 }",
            "    conv: { kernel: 15 }\n    block: conformer",
        ),
        r#"
error: field `block` is given twice in `encoder item`
--> specs/bad.yaml:12:5
   |
12 |     block: conformer
   |     ^^^^^ field `block` is given twice in `encoder item`
   = help: keep only one of them
"#,
    );
}

/// Tabs in YAML indentation.
#[test]
fn tab_before_a_top_level_key() {
    assert_one_error(
        &edit(BASE, "classes:", "\tclasses:"),
        r#"
error: YAML syntax error: tabs disallowed within this context (block indentation)
--> specs/bad.yaml:12:2
   |
12 |     classes: [neutral, angry, happy, sad]
   |     ^ tabs disallowed within this context (block indentation)
   = help: check the indentation and that every `{`, `[` and quote is closed
"#,
    );
}

/// A missing `encoder`.
#[test]
fn missing_encoder() {
    assert_one_error(
        &edit(
            BASE,
            "encoder:\n  - repeat: 2\n    block: conformer\n    attention: { heads: heads }\n    ffn: { hidden: ffn, act: swish }\n    conv: { kernel: 15 }\n",
            "",
        ),
        r#"
error: missing field `encoder` in `spec`
--> specs/bad.yaml:1:1
  |
1 | name: Tiny
  | ^ missing field `encoder` in `spec`
  = help: add `encoder: [ { block: conformer, … } ]`
"#,
    );
}

/// A whole spec written as a list of maps (a `-` before `name:`).
#[test]
fn spec_is_a_list() {
    assert_one_error(
        "- name: Tiny\n",
        r#"
error: a spec must be a map of fields, found a list
--> specs/bad.yaml:1:1
  |
1 | - name: Tiny
  | ^^^^^^^^^^^^ a spec must be a map of fields, found a list
  = help: start with `name: MyModel`, then `input`, `encoder` and `classes`
"#,
    );
}

/// A tab after a key's colon is ordinary YAML whitespace: not an error.
#[test]
fn tab_after_a_colon_is_fine() {
    compile_yaml("tab.yaml", &edit(BASE, "classes: [", "classes:\t[")).expect("compiles");
}
