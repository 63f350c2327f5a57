//! Dimension expressions (stage 1–2): pest grammar → `Expr` → checked `i64` evaluation, plus the
//! dependency resolution between named dims with cycle detection.

use std::collections::HashMap;

use pest::Parser as _;
use pest::iterators::Pair;

/// Longest expression text and deepest nesting accepted (a spec needs a few characters).
const MAX_LEN: usize = 256;
const MAX_NESTING: usize = 32;

#[derive(pest_derive::Parser)]
#[grammar = "expr.pest"]
struct ExprParser;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    Int(i64),
    Name(String),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// A parsed expression; `start..start + len` is its byte range in the source text (so errors
/// can point inside a YAML scalar or at a `model!` token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub start: usize,
    pub len: usize,
}

/// An error located by byte range inside the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub start: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

impl ExprError {
    fn at(start: usize, len: usize, message: String) -> Self {
        Self {
            start,
            len,
            message,
            help: None,
        }
    }
}

/// Parses `text` (`4 * d`, `(d + 8) / 2`) into an `Expr`.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    // Bound the recursion of the parser and of every later walk over the tree.
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        depth = match c {
            '(' | '-' => depth + 1,
            ')' => depth.saturating_sub(1),
            _ => depth,
        };
        if depth > MAX_NESTING || i > MAX_LEN {
            return Err(ExprError {
                start: 0,
                len: text.len(),
                message: "dim expression is too long or too deeply nested".into(),
                help: Some(format!(
                    "keep it under {MAX_LEN} characters and {MAX_NESTING} levels of `(` or `-`"
                )),
            });
        }
    }
    let mut pairs = ExprParser::parse(Rule::expr, text).map_err(|e| syntax_error(text, &e))?;
    let top = pairs.next().and_then(|p| p.into_inner().next());
    match top {
        Some(sum) => build(sum),
        None => Err(ExprError::at(0, text.len(), "empty dim expression".into())),
    }
}

fn syntax_error(text: &str, e: &pest::error::Error<Rule>) -> ExprError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = text.get(pos..).unwrap_or("");
    let found = rest.chars().next();
    let len = found.map_or(1, char::len_utf8);
    let message = match found {
        None if text.trim().is_empty() => "empty dim expression".to_string(),
        None => format!("dim expression `{text}` ends too early"),
        Some(c) => format!("unexpected `{c}` in dim expression `{text}`"),
    };
    ExprError {
        start: pos,
        len,
        message,
        help: Some(
            "a dim expression uses integers, dim names, + - * / and parentheses, e.g. `4 * d`"
                .into(),
        ),
    }
}

fn range(pair: &Pair<'_, Rule>) -> (usize, usize) {
    let span = pair.as_span();
    (span.start(), span.end() - span.start())
}

fn build(pair: Pair<'_, Rule>) -> Result<Expr, ExprError> {
    let (start, len) = range(&pair);
    match pair.as_rule() {
        Rule::sum | Rule::product => {
            let mut inner = pair.into_inner();
            let first = inner.next().ok_or_else(|| internal(start, len))?;
            let mut acc = build(first)?;
            while let Some(op) = inner.next() {
                let rhs = build(inner.next().ok_or_else(|| internal(start, len))?)?;
                let op = match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let end = rhs.start + rhs.len;
                let s = acc.start;
                acc = Expr {
                    kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)),
                    start: s,
                    len: end - s,
                };
            }
            Ok(acc)
        }
        Rule::unary => {
            let mut negs = Vec::new();
            let mut atom = None;
            for p in pair.into_inner() {
                if p.as_rule() == Rule::neg {
                    negs.push(p.as_span().start());
                } else {
                    atom = Some(build(p)?);
                }
            }
            let mut e = atom.ok_or_else(|| internal(start, len))?;
            let end = e.start + e.len;
            for s in negs.into_iter().rev() {
                e = Expr {
                    kind: ExprKind::Neg(Box::new(e)),
                    start: s,
                    len: end - s,
                };
            }
            // The unary's own range includes the parentheses of `(d + 1)`.
            e.start = start;
            e.len = len;
            Ok(e)
        }
        Rule::int => match pair.as_str().parse::<i64>() {
            Ok(v) => Ok(Expr {
                kind: ExprKind::Int(v),
                start,
                len,
            }),
            Err(_) => Err(ExprError::at(
                start,
                len,
                format!(
                    "integer `{}` is too large (the limit is {})",
                    pair.as_str(),
                    i64::MAX
                ),
            )),
        },
        Rule::name => Ok(Expr {
            kind: ExprKind::Name(pair.as_str().to_string()),
            start,
            len,
        }),
        _ => Err(internal(start, len)),
    }
}

fn internal(start: usize, len: usize) -> ExprError {
    ExprError::at(start, len, "malformed dim expression".into())
}

/// What a name in an expression refers to.
pub enum Lookup {
    Value(i64),
    /// A dim whose own definition failed: already reported, stay silent (no cascade).
    Failed,
    Undefined,
}

/// Evaluates with checked `i64` arithmetic. `Err(None)` means the expression depends on a dim
/// whose error was already reported.
pub fn eval(
    expr: &Expr,
    lookup: &mut dyn FnMut(&Expr, &str) -> Lookup,
) -> Result<i64, Option<ExprError>> {
    match &expr.kind {
        ExprKind::Int(v) => Ok(*v),
        ExprKind::Name(n) => match lookup(expr, n) {
            Lookup::Value(v) => Ok(v),
            Lookup::Failed => Err(None),
            Lookup::Undefined => Err(Some(ExprError::at(
                expr.start,
                expr.len,
                format!("undefined dim `{n}`"),
            ))),
        },
        ExprKind::Neg(inner) => {
            let v = eval(inner, lookup)?;
            v.checked_neg().ok_or_else(|| Some(overflow(expr)))
        }
        ExprKind::Binary(op, a, b) => {
            let x = eval(a, lookup)?;
            let y = eval(b, lookup)?;
            let r = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div => {
                    if y == 0 {
                        return Err(Some(ExprError::at(
                            b.start,
                            b.len,
                            format!("division by zero in `{}`", render(expr)),
                        )));
                    }
                    if x % y != 0 {
                        return Err(Some(ExprError {
                            start: expr.start,
                            len: expr.len,
                            message: format!(
                                "`{}` = {x} / {y} is not an exact division",
                                render(expr)
                            ),
                            help: Some(format!(
                                "dims are integers: make {x} a multiple of {y} (e.g. {})",
                                (x / y) * y
                            )),
                        }));
                    }
                    x.checked_div(y)
                }
            };
            r.ok_or_else(|| Some(overflow(expr)))
        }
    }
}

fn overflow(expr: &Expr) -> ExprError {
    ExprError::at(
        expr.start,
        expr.len,
        format!("`{}` overflows a 64-bit integer", render(expr)),
    )
}

/// Canonical text of an expression (fully parenthesised only where needed).
pub fn render(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Neg(e) => format!("-{}", render_operand(e)),
        ExprKind::Binary(op, a, b) => {
            format!(
                "{} {} {}",
                render_operand(a),
                op.symbol(),
                render_operand(b)
            )
        }
    }
}

fn render_operand(e: &Expr) -> String {
    match e.kind {
        ExprKind::Binary(..) => format!("({})", render(e)),
        _ => render(e),
    }
}

/// Names an expression refers to, in source order, with their byte ranges.
pub fn names(expr: &Expr, out: &mut Vec<(String, usize, usize)>) {
    match &expr.kind {
        ExprKind::Int(_) => {}
        ExprKind::Name(n) => out.push((n.clone(), expr.start, expr.len)),
        ExprKind::Neg(e) => names(e, out),
        ExprKind::Binary(_, a, b) => {
            names(a, out);
            names(b, out);
        }
    }
}

/// A failure while resolving the named dims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimError {
    /// Error inside dim `dim`'s expression.
    Expr { dim: usize, error: ExprError },
    /// `cycle` lists dim indices `a → b → … → a`; reported once, at the first dim of the cycle.
    Cycle { cycle: Vec<usize> },
}

/// Resolves dims defined in terms of each other, in any order. `defs[i]` is `(name, parsed
/// expression or None when it failed to parse)`. Returns each dim's value (`None` when it failed
/// or depends on a failure) and the errors, each reported once at its root cause.
pub fn resolve_dims(defs: &[(String, Option<Expr>)]) -> (Vec<Option<i64>>, Vec<DimError>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Todo,
        Visiting,
        Done,
    }
    let index: HashMap<&str, usize> = defs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    let mut values: Vec<Option<i64>> = vec![None; defs.len()];
    let mut state = vec![State::Todo; defs.len()];
    let mut errors = Vec::new();

    // Iterative DFS would be longer; specs have a handful of dims, recursion depth is bounded
    // by their count (checked by the caller's size limit on documents).
    fn visit(
        i: usize,
        defs: &[(String, Option<Expr>)],
        index: &HashMap<&str, usize>,
        values: &mut [Option<i64>],
        state: &mut [State],
        stack: &mut Vec<usize>,
        errors: &mut Vec<DimError>,
    ) {
        if state[i] != State::Todo {
            return;
        }
        state[i] = State::Visiting;
        stack.push(i);
        let Some(expr) = &defs[i].1 else {
            state[i] = State::Done;
            stack.pop();
            return;
        };
        let mut deps = Vec::new();
        names(expr, &mut deps);
        for (n, _, _) in &deps {
            if let Some(&j) = index.get(n.as_str()) {
                if state[j] == State::Visiting {
                    let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[from..].to_vec();
                    cycle.push(j);
                    errors.push(DimError::Cycle {
                        cycle: cycle.clone(),
                    });
                    // Mark the cycle's members visited-and-failed so nothing else reports them.
                    for &k in &cycle {
                        state[k] = State::Done;
                    }
                } else {
                    visit(j, defs, index, values, state, stack, errors);
                }
            }
        }
        if state[i] == State::Visiting {
            let result = eval(expr, &mut |_, n| match index.get(n) {
                Some(&j) => match values[j] {
                    Some(v) => Lookup::Value(v),
                    None => Lookup::Failed,
                },
                None => Lookup::Undefined,
            });
            match result {
                Ok(v) => values[i] = Some(v),
                Err(Some(error)) => errors.push(DimError::Expr { dim: i, error }),
                Err(None) => {}
            }
            state[i] = State::Done;
        }
        stack.pop();
    }

    let mut stack = Vec::new();
    for i in 0..defs.len() {
        visit(
            i,
            defs,
            &index,
            &mut values,
            &mut state,
            &mut stack,
            &mut errors,
        );
    }
    (values, errors)
}

#[cfg(test)]
mod tests;
