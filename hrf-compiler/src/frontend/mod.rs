//! Stage 1 front-ends: source text (YAML) or `model!` tokens → the neutral `Node` tree.

pub mod tokens;
pub mod yaml;
