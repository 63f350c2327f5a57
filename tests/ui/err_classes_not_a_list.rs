// Error case: a number where the list of classes is expected.
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
    classes: 4,
}

fn main() {
    // The stub module is still emitted, so uses of it add no second error.
    let _: usize = conformer_light_hrf::D;
}
