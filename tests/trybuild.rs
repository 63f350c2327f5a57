//! Compile-time checks of `model!` (the inline front-end): the full example compiles and yields
//! its dims module; every spec mistake is one clear compile error at the right token
//! (`tests/ui/err_*.rs`, expected output in the `.stderr` beside each case).

#[test]
fn model_macro_ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    cases.compile_fail("tests/ui/err_*.rs");
}
