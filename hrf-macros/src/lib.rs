//! `model! { … }`: a thin shim that hands its tokens to hrf-compiler.
