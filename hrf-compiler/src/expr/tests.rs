//! Tests of dim-expression parsing, evaluation and dependency resolution.

use super::*;

fn value(text: &str, env: &[(&str, i64)]) -> Result<i64, Option<ExprError>> {
    let e = parse(text).map_err(Some)?;
    eval(&e, &mut |_, n| match env.iter().find(|(k, _)| *k == n) {
        Some((_, v)) => Lookup::Value(*v),
        None => Lookup::Undefined,
    })
}

#[test]
fn precedence_parentheses_and_unary_minus() {
    assert_eq!(value("4 * d", &[("d", 64)]), Ok(256));
    assert_eq!(value("(d + 8) / 2", &[("d", 64)]), Ok(36));
    assert_eq!(value("2 + 3 * 4 - 6 / 2", &[]), Ok(11));
    assert_eq!(value("100 - 10 - 1", &[]), Ok(89));
    assert_eq!(value("-(2 * 3) + 10", &[]), Ok(4));
    assert_eq!(value("--5", &[]), Ok(5));
}

#[test]
fn inexact_division_is_an_error_with_a_suggestion() {
    let err = value("d / 3", &[("d", 64)]).unwrap_err().unwrap();
    assert_eq!(err.message, "`d / 3` = 64 / 3 is not an exact division");
    assert_eq!((err.start, err.len), (0, 5));
    assert_eq!(
        err.help.as_deref(),
        Some("dims are integers: make 64 a multiple of 3 (e.g. 63)")
    );
}

#[test]
fn overflow_and_division_by_zero_are_errors() {
    let e = value("4611686018427387904 * 2", &[]).unwrap_err().unwrap();
    assert!(e.message.contains("overflows"), "{}", e.message);
    let e = value("8 / (d - d)", &[("d", 3)]).unwrap_err().unwrap();
    assert_eq!((e.start, e.len), (4, 7));
    let e = value("99999999999999999999", &[]).unwrap_err().unwrap();
    assert!(e.message.contains("too large"));
}

#[test]
fn undefined_name_points_at_the_name() {
    let e = value("4 * dd", &[("d", 64)]).unwrap_err().unwrap();
    assert_eq!(
        (e.start, e.len, e.message.as_str()),
        (4, 2, "undefined dim `dd`")
    );
}

#[test]
fn syntax_errors_point_at_the_offending_character() {
    let e = parse("4 * ").unwrap_err();
    assert_eq!(e.start, 4);
    assert_eq!(e.message, "dim expression `4 * ` ends too early");
    let e = parse("4 ** d").unwrap_err();
    assert_eq!(e.start, 3);
    assert_eq!(e.message, "unexpected `*` in dim expression `4 ** d`");
}

#[test]
fn dims_resolve_in_any_order_and_cycles_are_named() {
    let defs: Vec<(String, Option<Expr>)> = [("ffn", "4 * d"), ("d", "h * 16"), ("h", "4")]
        .iter()
        .map(|(n, t)| (n.to_string(), parse(t).ok()))
        .collect();
    let (values, errors) = resolve_dims(&defs);
    assert!(errors.is_empty());
    assert_eq!(values, vec![Some(256), Some(64), Some(4)]);

    let defs: Vec<(String, Option<Expr>)> = [("a", "b + 1"), ("b", "c"), ("c", "a"), ("x", "a")]
        .iter()
        .map(|(n, t)| (n.to_string(), parse(t).ok()))
        .collect();
    let (values, errors) = resolve_dims(&defs);
    assert_eq!(
        errors,
        vec![DimError::Cycle {
            cycle: vec![0, 1, 2, 0]
        }]
    );
    assert_eq!(values, vec![None; 4]);
}

#[test]
fn render_round_trips_structure() {
    let e = parse("(d+8)/2 - -x").unwrap();
    assert_eq!(render(&e), "((d + 8) / 2) - -x");
    assert_eq!(parse(&render(&e)).map(|p| render(&p)), Ok(render(&e)));
}
