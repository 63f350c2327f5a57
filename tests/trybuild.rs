//! Compile-time checks of `model!` (the inline front-end): the full example compiles and yields
//! its dims module and model types; every spec mistake is one clear compile error at the right
//! token (`tests/ui/err_*.rs`, expected output in the `.stderr` beside each case); misusing the
//! generated types (frames of another width, another spec's weights or scratch) does not
//! type-check (`tests/ui/type_*.rs`).
//!
//! Separate test cases on purpose: trybuild builds and links every case of a run when one of them
//! must run, but only type-checks (`cargo check`) a run of compile-fail cases.

#[test]
fn model_macro_compiles_the_full_example() {
    trybuild::TestCases::new().pass("tests/ui/pass_*.rs");
}

#[test]
fn model_macro_reports_each_spec_mistake_once_at_its_token() {
    trybuild::TestCases::new().compile_fail("tests/ui/err_*.rs");
}

#[test]
fn generated_types_reject_shape_and_model_mixups() {
    trybuild::TestCases::new().compile_fail("tests/ui/type_*.rs");
}
