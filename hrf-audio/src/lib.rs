//! hrf audio: WAV → mono 16 kHz → log-Mel features; dataset loaders, protocols and metrics; the
//! synthetic corpus.
