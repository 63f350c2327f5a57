//! TODO(glu)
