// A 64-bin model's `predict` takes `&[[f32; 64]]`: 80-bin frames do not type-check.
hrf_runtime::model! {
    name: Bins64,
    input: { features: 64, max_frames: 32 },
    dims: { d: 8, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conv_transformer, ffn: { hidden: ffn }, attention: { heads: heads } },
    ],
    pool: mean,
    classes: [a, b],
}

fn classify(model: &Bins64Folded, frames: &[[f32; 80]], scratch: &mut Bins64Scratch) {
    let _ = model.predict(frames, scratch);
}

fn main() {}
