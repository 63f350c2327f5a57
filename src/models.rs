//! The nine preset models (`specs/*.yaml`), generated at build time by `build.rs`: per preset a
//! dims module, `<MODULE>_PLAN`, `<Name>Train`, `<Name>Folded` and `<Name>Scratch`.
//!
//! The CLI also builds plans from YAML at run time (`--spec any.yaml`); these const-shaped
//! types serve the presets (folded inference and benchmarks without a run-time plan).

// Each command uses some presets' types, never all of them.
#![allow(dead_code)]

include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));
