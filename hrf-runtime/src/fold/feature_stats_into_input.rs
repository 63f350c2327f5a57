//! TODO(feature_stats_into_input)
