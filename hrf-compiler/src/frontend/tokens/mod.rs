//! Stage 1 for the inline form: `model! { … }` tokens → `Node`, and the macro's whole expansion.
//!
//! `parse.rs`: tokens → `Node`. `expand.rs`: `Node` → compiler → dims module (`outline.rs`) or
//! `compile_error!`s.

mod expand;
#[cfg(test)]
mod expand_tests;
mod outline;
mod parse;
#[cfg(test)]
mod tests;

pub use expand::{diagnostics_to_error, expand_model};
pub use outline::{DimsModule, snake_case};
pub use parse::parse_model_tokens;
