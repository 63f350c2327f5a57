//! TODO(pooling)
