//! TODO(cross_entropy)
