//! TODO(schedule)
