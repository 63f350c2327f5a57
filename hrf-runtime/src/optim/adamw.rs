//! TODO(adamw)
