//! TODO(merge)
