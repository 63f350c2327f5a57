//! Tests of data stages 0–1 on fake corpora that each test builds on disk in the real layouts.

mod daic_woz;
mod fake_tree;
mod filename_corpora;
mod iemocap;
mod m3ed;
mod manifest;
mod protocol;
mod report;
mod source;
mod summary;
