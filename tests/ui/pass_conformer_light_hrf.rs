// The full inline example compiles and its dims module carries the evaluated values.
hrf_runtime::model! {
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
}

fn main() {
    assert_eq!(conformer_light_hrf::D, 64);
    assert_eq!(conformer_light_hrf::HEADS, 4);
    assert_eq!(conformer_light_hrf::FFN, 256);
    assert_eq!(conformer_light_hrf::FEATURES, 64);
    assert_eq!(conformer_light_hrf::MAX_FRAMES, 600);
    assert_eq!(conformer_light_hrf::NUM_CLASSES, 4);
    let classes: [&str; 4] = conformer_light_hrf::CLASSES;
    assert_eq!(classes, ["neutral", "angry", "happy", "sad"]);
    // The consts are usable where Rust needs constants.
    let row = [0.0f32; conformer_light_hrf::FFN];
    assert_eq!(row.len(), 256);
}
