//! TODO(linear)
