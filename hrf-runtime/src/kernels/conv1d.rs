//! TODO(conv1d)
