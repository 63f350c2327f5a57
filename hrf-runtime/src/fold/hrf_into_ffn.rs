//! TODO(hrf_into_ffn)
