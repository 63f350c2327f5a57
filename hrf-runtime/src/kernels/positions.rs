//! TODO(positions)
