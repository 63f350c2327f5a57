//! TODO(layer_norm)
