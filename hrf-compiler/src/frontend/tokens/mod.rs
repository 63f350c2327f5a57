//! Stage 1 for the inline form: `model! { … }` tokens → `Node` (parse.rs), and the macro's whole
//! expansion, `Node` → compiler → dims module or `compile_error!`s (expand.rs, outline.rs).

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
