//! TODO(batch_norm_into_conv)
