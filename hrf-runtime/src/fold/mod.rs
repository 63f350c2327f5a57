//! Deploy-time folds: pure functions on weights (f64 accumulation, one rounding to f32).

pub mod batch_norm_into_conv;
pub mod feature_stats_into_input;
pub mod fuse_qkv;
pub mod hrf_into_ffn;
pub mod layer_norm_into_linear;
