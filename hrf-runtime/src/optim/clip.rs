//! TODO(clip)
