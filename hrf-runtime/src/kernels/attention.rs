//! TODO(attention)
