// `predict` takes its own model's scratch (sized for that model's max_frames and widths).
hrf_runtime::model! {
    name: Small,
    input: { features: 16, max_frames: 32 },
    dims: { d: 8, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conv_transformer, ffn: { hidden: ffn }, attention: { heads: heads } },
    ],
    pool: mean,
    classes: [a, b],
}

hrf_runtime::model! {
    name: Wide,
    input: { features: 16, max_frames: 64 },
    dims: { d: 16, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conv_transformer, ffn: { hidden: ffn }, attention: { heads: heads } },
    ],
    pool: mean,
    classes: [a, b],
}

fn classify(model: &SmallFolded, frames: &[[f32; 16]], scratch: &mut WideScratch) {
    let _ = model.predict(frames, scratch);
}

fn main() {}
