//! hrf spec compiler: spec text → `Node` → `SpecAst` → `ModelIr` → `CheckedModel` → layout → tokens.

pub mod node;
