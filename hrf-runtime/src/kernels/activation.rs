//! TODO(activation)
