//! Stage 2 (lower): `SpecAst` → `Lowered`: named dims resolved in dependency order, every integer
//! field evaluated (checked `i64`), defaults filled in. Relationships are checked in `check`.

use std::collections::HashMap;

use crate::ast::*;
use crate::check::MAX_DIM;
use crate::diagnostics::Diagnostics;
use crate::expr::{self, DimError, Lookup};
use crate::node::Span;

/// An evaluated integer field. `v` is `None` when evaluation failed (already reported) or the
/// field depends on a failed dim, so later checks skip it instead of cascading.
#[derive(Clone, Debug)]
pub struct Val {
    pub v: Option<i64>,
    pub span: Span,
}

impl Val {
    fn default(v: i64, span: &Span) -> Self {
        Self {
            v: Some(v),
            span: span.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Lowered {
    pub name: Spanned<String>,
    pub features: Val,
    pub max_frames: Val,
    pub dims: Vec<(Spanned<String>, Val)>,
    pub subsample: Option<LoweredSubsample>,
    pub positions: PositionsKind,
    pub items: Vec<LoweredItem>,
    pub encoder_span: Span,
    pub pool: PoolKind,
    pub dropout: f64,
    pub classes: Vec<Spanned<String>>,
    pub classes_span: Span,
}

#[derive(Clone, Debug)]
pub struct LoweredSubsample {
    pub layers: Val,
    pub channels: Val,
    pub kernel: Val,
    pub stride: Val,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum LoweredItem {
    Group(Box<LoweredGroup>),
    Merge {
        factor: Val,
        width: Option<Val>,
        span: Span,
    },
}

/// One `repeat` group; `check` expands it into `repeat` named blocks.
#[derive(Clone, Debug)]
pub struct LoweredGroup {
    pub repeat: Val,
    pub block: Spanned<BlockKind>,
    pub hidden: Val,
    pub act: Activation,
    pub hrf: Option<LoweredHrf>,
    pub heads: Val,
    pub window: Option<Val>,
    /// Conformer conv-module kernel (default 15) and where `conv:` was written, if it was.
    pub conv_kernel: Val,
    pub conv_span: Option<Span>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LoweredHrf {
    pub expand: Val,
    pub depth: Val,
    pub bias: bool,
    pub init: HrfInit,
    pub decay: HrfDecay,
    pub lr_scale: f64,
    pub span: Span,
}

/// Default HRF expansion `r` (m = r·d) and chain depth `k`, design.md §1.
pub const DEFAULT_EXPAND: i64 = 4;
pub const DEFAULT_DEPTH: i64 = 1;
pub const DEFAULT_DROPOUT: f64 = 0.1;
pub const DEFAULT_CONFORMER_KERNEL: i64 = 15;

/// Evaluates everything it can. The returned diagnostics may be non-empty: failed values are
/// `None` in `Lowered`, so `check` can still run and report unrelated mistakes.
pub fn lower(ast: &SpecAst) -> (Lowered, Diagnostics) {
    let mut diags = Diagnostics::new();
    let defs: Vec<(String, Option<expr::Expr>)> = ast
        .dims
        .iter()
        .map(|(n, d)| (n.value.clone(), d.expr.clone()))
        .collect();
    let (values, errors) = expr::resolve_dims(&defs);
    for error in errors {
        match error {
            DimError::Expr { dim, error } => {
                let d = &ast.dims[dim].1;
                let known: Vec<&str> = ast.dims.iter().map(|(n, _)| n.value.as_str()).collect();
                let help = error
                    .help
                    .or_else(|| undefined_help(&error.message, &known));
                let b = diags.error(
                    &d.span.within(&d.scalar, error.start, error.len),
                    error.message,
                );
                if let Some(h) = help {
                    b.help(h);
                }
            }
            DimError::Cycle { cycle } => {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&i| ast.dims[i].0.value.as_str())
                    .collect();
                let first = &ast.dims[cycle[0]];
                let message = if cycle.len() == 2 {
                    format!("dim `{}` is defined in terms of itself", names[0])
                } else {
                    format!("circular dim definition: {}", names.join(" → "))
                };
                diags
                    .error(&first.0.span, message)
                    .help("give one of these dims a value that does not depend on the others");
            }
        }
    }
    // Every dim is a size: report non-positive or huge values once, at the dim, and treat the
    // dim as failed so fields that use it stay silent.
    let mut values = values;
    let out_of_range = |v: Option<i64>| v.is_some_and(|x| x <= 0 || x > MAX_DIM);
    let bad: Vec<bool> = values.iter().map(|v| out_of_range(*v)).collect();
    for (i, ((name, d), v)) in ast.dims.iter().zip(values.iter_mut()).enumerate() {
        let Some(x) = *v else { continue };
        if !bad[i] {
            continue;
        }
        *v = None;
        // A dim computed from an out-of-range dim (`ffn: 4 * d` with `d: 0`) is not reported
        // again: the root cause already is.
        let mut deps = Vec::new();
        if let Some(e) = &d.expr {
            expr::names(e, &mut deps);
        }
        let caused_by_another = deps.iter().any(|(n, _, _)| {
            ast.dims
                .iter()
                .position(|(m, _)| m.value == *n)
                .is_some_and(|j| bad[j])
        });
        if caused_by_another {
            continue;
        }
        let message = if x <= 0 {
            format!("dim `{}` = {x} must be positive", name.value)
        } else {
            format!("dim `{}` = {x} is too large", name.value)
        };
        let help = if x <= 0 {
            "dims are sizes: give it a value of at least 1".to_string()
        } else {
            format!("hrf models use sizes up to {MAX_DIM}")
        };
        diags.error(&d.span, message).help(help);
    }
    let env: HashMap<&str, Option<i64>> = ast
        .dims
        .iter()
        .zip(&values)
        .map(|((n, _), v)| (n.value.as_str(), *v))
        .collect();
    let dims: Vec<(Spanned<String>, Val)> = ast
        .dims
        .iter()
        .zip(&values)
        .map(|((n, d), v)| {
            (
                n.clone(),
                Val {
                    v: *v,
                    span: d.span.clone(),
                },
            )
        })
        .collect();

    let mut ev = Evaluator {
        env: &env,
        undefined_is_reported: ast.dims_unreadable,
        diags: &mut diags,
    };
    let features = ev.eval(&ast.input.features);
    let max_frames = ev.eval(&ast.input.max_frames);
    let subsample = ast
        .frontend
        .conv_subsample
        .as_ref()
        .map(|s| LoweredSubsample {
            layers: ev.eval_or(s.layers.as_ref(), 2, &s.span),
            channels: ev.eval(&s.channels),
            kernel: ev.eval_or(s.kernel.as_ref(), 3, &s.span),
            stride: ev.eval_or(s.stride.as_ref(), 2, &s.span),
            span: s.span.clone(),
        });
    let mut items = Vec::new();
    for item in &ast.encoder {
        items.push(match item {
            EncoderItemAst::Merge(m) => LoweredItem::Merge {
                factor: ev.eval(&m.factor),
                width: m.width.as_ref().map(|w| ev.eval(w)),
                span: m.span.clone(),
            },
            EncoderItemAst::Blocks(g) => {
                let default_act = match g.block.value {
                    BlockKind::ConvTransformer => Activation::Relu,
                    BlockKind::Conformer => Activation::Swish,
                    BlockKind::SpeechFormer => Activation::Gelu,
                };
                let conv_span = g.conv.as_ref().map(|c| c.span.clone());
                let conv_default_span = conv_span.clone().unwrap_or_else(|| g.block.span.clone());
                LoweredItem::Group(Box::new(LoweredGroup {
                    repeat: ev.eval_or(g.repeat.as_ref(), 1, &g.span),
                    block: g.block.clone(),
                    hidden: ev.eval(&g.ffn.hidden),
                    act: g.ffn.act.as_ref().map_or(default_act, |a| a.value),
                    hrf: g.ffn.hrf.as_ref().map(|h| LoweredHrf {
                        expand: ev.eval_or(h.expand.as_ref(), DEFAULT_EXPAND, &h.span),
                        depth: ev.eval_or(h.depth.as_ref(), DEFAULT_DEPTH, &h.span),
                        bias: h.bias.as_ref().is_none_or(|b| b.value),
                        init: h.init.as_ref().map_or(HrfInit::Default, |i| i.value),
                        decay: h.decay.as_ref().map_or(HrfDecay::Factors, |d| d.value),
                        lr_scale: h.lr_scale.as_ref().map_or(1.0, |x| x.value),
                        span: h.span.clone(),
                    }),
                    heads: ev.eval(&g.attention.heads),
                    window: g.attention.window.as_ref().map(|w| ev.eval(w)),
                    conv_kernel: ev.eval_or(
                        g.conv.as_ref().and_then(|c| c.kernel.as_ref()),
                        DEFAULT_CONFORMER_KERNEL,
                        &conv_default_span,
                    ),
                    conv_span,
                    span: g.span.clone(),
                }))
            }
        });
    }
    let lowered = Lowered {
        name: ast.name.clone(),
        features,
        max_frames,
        dims,
        subsample,
        positions: ast
            .frontend
            .positions
            .as_ref()
            .map_or(PositionsKind::Sinusoidal, |p| p.value),
        items,
        encoder_span: ast.encoder_span.clone(),
        pool: ast.pool.as_ref().map_or(PoolKind::Mean, |p| p.value),
        dropout: ast.dropout.as_ref().map_or(DEFAULT_DROPOUT, |d| d.value),
        classes: ast.classes.clone(),
        classes_span: ast.classes_span.clone(),
    };
    (lowered, diags)
}

struct Evaluator<'e> {
    env: &'e HashMap<&'e str, Option<i64>>,
    /// `dims:` could not be read and that is already reported: an unknown name is a
    /// consequence (it was probably defined there), so it fails silently.
    undefined_is_reported: bool,
    diags: &'e mut Diagnostics,
}

impl Evaluator<'_> {
    fn eval(&mut self, d: &DimExpr) -> Val {
        let Some(e) = &d.expr else {
            return Val {
                v: None,
                span: d.span.clone(),
            };
        };
        let (env, silent) = (self.env, self.undefined_is_reported);
        let result = expr::eval(e, &mut |_, name| match env.get(name) {
            Some(Some(v)) => Lookup::Value(*v),
            Some(None) => Lookup::Failed,
            None if silent => Lookup::Failed,
            None => Lookup::Undefined,
        });
        match result {
            Ok(v) => Val {
                v: Some(v),
                span: d.span.clone(),
            },
            Err(err) => {
                if let Some(err) = err {
                    let span = d.span.within(&d.scalar, err.start, err.len);
                    let known: Vec<&str> = env.keys().copied().collect();
                    let help = err.help.or_else(|| undefined_help(&err.message, &known));
                    let b = self.diags.error(&span, err.message);
                    if let Some(h) = help {
                        b.help(h);
                    }
                }
                Val {
                    v: None,
                    span: d.span.clone(),
                }
            }
        }
    }

    fn eval_or(&mut self, d: Option<&DimExpr>, default: i64, span: &Span) -> Val {
        match d {
            Some(d) => self.eval(d),
            None => Val::default(default, span),
        }
    }
}

/// For "undefined dim `dd`": suggest the closest defined dim, or say how to define one.
fn undefined_help(message: &str, known: &[&str]) -> Option<String> {
    let name = message.strip_prefix("undefined dim `")?.strip_suffix('`')?;
    let mut known = known.to_vec();
    known.sort_unstable();
    Some(match crate::suggest::closest(name, &known) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("define it under `dims:`, e.g. `dims: {{ {name}: 64 }}`"),
    })
}
