//! TODO(layer_norm_into_linear)
