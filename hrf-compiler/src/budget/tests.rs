use super::*;

/// No frontend conv, one conv_transformer block: small enough to count every slot by hand.
const TINY: &str = r#"name: Tiny
input: { features: 4, max_frames: 8 }
dims: { d: 4, ffn: 8 }
encoder:
  - block: conv_transformer
    attention: { heads: 2 }
    ffn: { hidden: ffn }
classes: [a, b]
"#;

fn tiny(max_frames: usize, d: usize) -> String {
    TINY.replace("max_frames: 8", &format!("max_frames: {max_frames}"))
        .replace("features: 4", &format!("features: {d}"))
        .replace("d: 4", &format!("d: {d}"))
}

#[test]
fn a_tiny_spec_costs_the_hand_counted_bytes() {
    let model = crate::compile_yaml("tiny.yaml", TINY).unwrap();
    // Train params: attn LN 8 + q/k/v 3·(16+4) + proj 20 = 88; ffn LN 8 + w1 40 + w2 36 = 84;
    // final LN 8; classifier 10 → 190. Buffers: CMVN mean/std 8.
    assert_eq!(model.train.arena_len(SlotKind::Param), 190);
    assert_eq!(model.train.arena_len(SlotKind::Buffer), 8);
    // Folded: qkv 60 + proj 20 + w1 40 + w2 36 + classifier 10 (every LN folded away) → 166.
    assert_eq!(model.folded.arena_len(SlotKind::Param), 166);
    assert_eq!(model.folded.arena_len(SlotKind::Buffer), 8);
    // Activations (T = 8, d = 4): CMVN out 32, positions 32; attn LN 48, q/k/v 96, scores
    // 2·8·8 = 128, context 32, proj 32, residual 32; ffn LN 48, w1 64, act 64, w2 32, residual
    // 32; final LN 48; pool 4; logits 2 → 726.
    assert_eq!(model.train.arena_len(SlotKind::Activation), 726);
    let est = MemoryEstimate::of(&model, 16);
    // 4 bytes · (4 · 190 train (params, grads, m, v) + 8 + 166 + 8).
    assert_eq!(est.params, 4 * (4 * 190 + 8 + 166 + 8));
    // 2 (value, gradient) · 16 utterances · 4 bytes · 726.
    assert_eq!(est.activations, 2 * 16 * 4 * 726);
    // Scratch, tp = padded(8) = 16: act 4·16 = 64 (twice), norm 64, hidden 3·4·16 = 192,
    // context 64, probs 8·16 = 128, row 2·16 = 32 → 608 f32.
    assert_eq!(est.scratch, 4 * 608);
    assert_eq!(est.total(), 3768 + 92_928 + 2432);
}

#[test]
fn byte_counts_parse_with_binary_suffixes() {
    for (text, bytes) in [
        ("1000000", 1_000_000u64),
        ("512B", 512),
        ("4K", 4 << 10),
        ("4kib", 4 << 10),
        ("512M", 512 << 20),
        ("8G", 8 << 30),
        ("16GiB", 16 << 30),
        (" 2Ti ", 2 << 40),
        ("1tb", 1 << 40),
    ] {
        assert_eq!(parse_bytes("HRF_MEMORY_BUDGET", text), Ok(bytes), "{text}");
    }
}

#[test]
fn malformed_byte_counts_say_why() {
    for (text, reason) in [
        ("", "it does not start with a number"),
        ("lots", "it does not start with a number"),
        ("-8G", "it does not start with a number"),
        ("8 G", "unknown suffix (use K, M, G or T)"),
        ("8X", "unknown suffix (use K, M, G or T)"),
        ("1.5G", "unknown suffix (use K, M, G or T)"),
        ("0", "a budget of 0 bytes admits no model"),
        ("99999999999999999999", "the number is too large"),
        ("16777216T", "the number is too large"),
    ] {
        let err = parse_bytes("HRF_MEMORY_BUDGET", text).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "HRF_MEMORY_BUDGET = `{text}` is not a byte count: {reason}; give bytes with an \
                 optional binary suffix, e.g. 8G, 512M, 16GiB or 1T"
            )
        );
    }
}

#[test]
fn the_largest_legal_dims_give_a_budget_error_not_an_overflow() {
    let max = crate::check::MAX_DIM as usize;
    for (frames, d) in [(8, max), (max, 4), (max, 64)] {
        let text = tiny(frames, d);
        let diags = crate::compile_yaml("huge.yaml", &text).unwrap_err();
        assert_eq!(diags.len(), 1, "{}", diags.render("huge.yaml", &text));
        let message = &diags.items[0].message;
        assert!(message.contains("more than the budget of"), "{message}");
    }
}

#[test]
fn bytes_are_described_exactly_and_readably() {
    assert_eq!(describe_bytes(512), "512 bytes");
    assert_eq!(describe_bytes(3 << 19), "1.5 MiB (1572864 bytes)");
    assert_eq!(describe_bytes(8 << 30), "8.0 GiB (8589934592 bytes)");
}

#[test]
fn every_preset_stays_far_inside_the_default_budget() {
    for (name, text) in crate::presets::PRESETS {
        let model = crate::compile_yaml(name, text).unwrap();
        let est = MemoryEstimate::of(&model, DEFAULT_BATCH);
        assert!(
            est.total() < DEFAULT_BUDGET as u128 / 8,
            "{name}: {}",
            describe_bytes(est.total())
        );
    }
}
