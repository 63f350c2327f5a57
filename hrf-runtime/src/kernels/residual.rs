//! TODO(residual)
