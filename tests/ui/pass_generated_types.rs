// The inline form emits the whole model: plan, training type, folded type, scratch. Train,
// fold and predict on a tiny spec; the folded logits match the training model's eval logits.
hrf_runtime::model! {
    name: TinyHrf,
    input: { features: 8, max_frames: 24 },
    dims: { d: 8, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conformer, ffn: { hidden: ffn, act: swish, hrf: { expand: 2 } },
          attention: { heads: heads }, conv: { kernel: 5 } },
    ],
    pool: mean,
    classes: [calm, upset, tired],
}

fn main() {
    assert_eq!(TINY_HRF_PLAN.name, "TinyHrf");
    assert_eq!(TinyHrfFolded::PLAN.classes, tiny_hrf::CLASSES);
    let mut train = TinyHrfTrain::new(3);
    let folded: Box<TinyHrfFolded> = train.fold().expect("folds");
    // Literal const generics: HRF folded away, W1 is d → ffn again.
    let w1: &hrf_runtime::infer::Linear<8, 16> = &folded.encoder_0_ffn1_w1;
    assert_eq!(w1.bias.len(), 16);

    let frames: Vec<[f32; 8]> = (0..19)
        .map(|t| core::array::from_fn(|f| ((t * 8 + f) as f32 * 0.37).sin()))
        .collect();
    let mut scratch = TinyHrfScratch::boxed();
    let logits: [f32; 3] = folded.predict(&frames, &mut scratch).expect("valid input");
    let reference = train.predict(frames.as_flattened()).expect("valid input");
    for (a, b) in logits.iter().zip(&reference) {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "{logits:?} vs {reference:?}"
        );
    }
    assert!(folded.predict(&[], &mut scratch).is_err());
}
