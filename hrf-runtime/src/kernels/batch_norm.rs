//! TODO(batch_norm)
