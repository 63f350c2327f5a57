//! Stage 1 for the inline form: `model! { … }` tokens → `Node` (parse.rs), and the macro's whole
//! expansion, `Node` → compiler → dims module or `compile_error!`s (expand.rs).

mod parse;
#[cfg(test)]
mod tests;

pub use parse::parse_model_tokens;
