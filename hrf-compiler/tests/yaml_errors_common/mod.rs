//! Shared by the `yaml_errors*` tests: two small valid specs to edit, and rendering helpers.
#![allow(dead_code)] // each test file uses a subset

use hrf_compiler::compile_yaml;

pub const BASE: &str = r#"name: Tiny
input: { features: 64, max_frames: 600 }
dims: { d: 64, heads: 4, ffn: 4 * d }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
encoder:
  - repeat: 2
    block: conformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: swish }
    conv: { kernel: 15 }
classes: [neutral, angry, happy, sad]
"#;

pub const SPEECHFORMER: &str = r#"name: TinySf
input: { features: 64, max_frames: 600 }
dims: { d: 64, heads: 4, ffn: 4 * d }
frontend:
  conv_subsample: { channels: d }
encoder:
  - block: speechformer
    attention: { heads: heads, window: 5 }
    ffn: { hidden: ffn }
  - merge: { factor: 2 }
  - block: speechformer
    attention: { heads: heads }
    ffn: { hidden: ffn }
classes: [neutral, angry, happy, sad]
"#;

/// Compiles `text` as `specs/bad.yaml` and returns the rendered diagnostics.
pub fn rendered(text: &str) -> String {
    match compile_yaml("specs/bad.yaml", text) {
        Ok(model) => panic!("expected errors, but {} compiled", model.ir.name),
        Err(diags) => diags.render("specs/bad.yaml", text),
    }
}

/// `base` with the single occurrence of `from` replaced by `to`.
pub fn edit(base: &str, from: &str, to: &str) -> String {
    assert_eq!(
        base.matches(from).count(),
        1,
        "`{from}` must occur exactly once"
    );
    base.replacen(from, to, 1)
}

/// Compares with the expected text written after a leading newline.
pub fn assert_rendered(text: &str, expected: &str) {
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    assert_eq!(rendered(text), expected);
}

/// `text` gives exactly one error, rendered as `expected`.
pub fn assert_one_error(text: &str, expected: &str) {
    let errors = compile_yaml("specs/bad.yaml", text).map_or_else(|d| d.len(), |_| 0);
    assert_eq!(errors, 1, "expected one error, got:\n{}", rendered(text));
    assert_rendered(text, expected);
}
