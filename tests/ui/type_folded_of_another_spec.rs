// Two specs give two types, even with identical shapes: one's folded weights cannot be used
// as the other's.
hrf_runtime::model! {
    name: Calm,
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
    name: Upset,
    input: { features: 16, max_frames: 32 },
    dims: { d: 8, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conv_transformer, ffn: { hidden: ffn }, attention: { heads: heads } },
    ],
    pool: mean,
    classes: [a, b],
}

fn deploy(weights: Box<CalmFolded>) -> Box<UpsetFolded> {
    weights
}

fn main() {}
