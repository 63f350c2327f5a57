//! Specs whose every dim is legal but whose memory is not: one located error at the dim that
//! drives the cost, with the bytes of each part, the budget, and what to do — shown in full.

mod yaml_errors_common;
use yaml_errors_common::{BASE, assert_one_error, edit};

/// d = 65536: the parameters (d² per linear, four copies for training) dominate; the error
/// points at `d`.
#[test]
fn a_wide_model_is_over_the_memory_budget() {
    assert_one_error(
        &edit(BASE, "d: 64,", "d: 65536,"),
        r#"
error: the model needs 3.9 TiB (4313193244496 bytes) of memory, more than the budget of 8.0 GiB (8589934592 bytes): parameters (training form with gradients and AdamW moments, plus the folded form) 3.8 TiB (4209439408720 bytes), training activations for a batch of 16 96.1 GiB (103216606720 bytes), folded inference scratch 512.3 MiB (537229056 bytes); d = 65536 sets the widths and max_frames = 600 the sequence length
--> specs/bad.yaml:3:12
  |
3 | dims: { d: 65536, heads: 4, ffn: 4 * d }
  |            ^^^^^ d = 65536 drives the largest part
  = help: lower the dims (or max_frames; attention memory grows with its square), or raise the budget with HRF_MEMORY_BUDGET=<bytes> or --memory-budget <bytes> (e.g. 32G)
"#,
    );
}

/// max_frames = 2^20: attention scores (frames² · heads per layer) dominate; the error points
/// at `max_frames`.
#[test]
fn a_long_model_is_over_the_memory_budget() {
    assert_one_error(
        &edit(BASE, "max_frames: 600", "max_frames: 1048576"),
        r#"
error: the model needs 64.4 TiB (70830331718992 bytes) of memory, more than the budget of 8.0 GiB (8589934592 bytes): parameters (training form with gradients and AdamW moments, plus the folded form) 4.2 MiB (4377424 bytes), training activations for a batch of 16 64.2 TiB (70554098868736 bytes), folded inference scratch 257.3 GiB (276228472832 bytes); d = 64 sets the widths and max_frames = 1048576 the sequence length
--> specs/bad.yaml:2:36
  |
2 | input: { features: 64, max_frames: 1048576 }
  |                                    ^^^^^^^ max_frames = 1048576 drives the largest part
  = help: lower the dims (or max_frames; attention memory grows with its square), or raise the budget with HRF_MEMORY_BUDGET=<bytes> or --memory-budget <bytes> (e.g. 32G)
"#,
    );
}

/// The largest legal max_frames: no overflow, the same one error.
#[test]
fn the_largest_legal_max_frames_is_over_the_budget_without_overflow() {
    let text = edit(BASE, "max_frames: 600", "max_frames: 16777216");
    let diags = hrf_compiler::compile_yaml("specs/bad.yaml", &text).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert!(
        diags.items[0]
            .message
            .starts_with("the model needs 16450.7 TiB (18087754542017872 bytes) of memory"),
        "{}",
        diags.items[0].message
    );
}
