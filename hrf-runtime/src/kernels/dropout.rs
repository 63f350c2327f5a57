//! TODO(dropout)
