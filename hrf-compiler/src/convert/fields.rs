//! Stage 1 (conversion helpers): reading maps and scalars of a `Node` tree with unknown-field,
//! missing-field, duplicate-field and wrong-type errors.

use crate::ast::{DimExpr, Spanned};
use crate::diagnostics::Diagnostics;
use crate::expr;
use crate::node::{Key, Node, NodeKind, Span};
use crate::suggest::closest;

/// The fields of one spec map, already checked for unknown and duplicate keys.
pub(crate) struct Fields<'a> {
    what: &'a str,
    owner: Span,
    entries: &'a [(Key, Node)],
    allowed: &'a [&'a str],
}

/// How a node is described in "found …" messages.
pub(crate) fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Map(_) => "a map".into(),
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Scalar(s) => format!("`{}`", s.text),
        NodeKind::Null => "nothing".into(),
    }
}

impl<'a> Fields<'a> {
    /// Opens `node` as the map called `what`; `owner` is where "missing field" errors point
    /// (the key that introduced the map). Reports unknown and duplicate keys. A null node reads
    /// as an empty map, so its required fields are reported as missing.
    pub(crate) fn open(
        node: &'a Node,
        what: &'a str,
        owner: &Span,
        allowed: &'a [&'a str],
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let entries: &'a [(Key, Node)] = match &node.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Null => &[],
            _ => {
                let help = if what == "hrf" {
                    "write `hrf: true` for the defaults, or e.g. `hrf: { expand: 4 }`".to_string()
                } else {
                    format!(
                        "write `{what}: {{ {}: … }}`",
                        allowed.first().copied().unwrap_or("…")
                    )
                };
                diags
                    .error(
                        &node.span,
                        format!("`{what}` must be a map of fields, found {}", describe(node)),
                    )
                    .help(help);
                return None;
            }
        };
        for (i, (key, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(k, _)| k.name == key.name) {
                diags
                    .error(
                        &key.span,
                        format!("field `{}` is given twice in `{what}`", key.name),
                    )
                    .help("keep only one of them");
            } else if !allowed.contains(&key.name.as_str()) {
                unknown_field(&key.name, &key.span, what, allowed, diags);
            }
        }
        Some(Self {
            what,
            owner: owner.clone(),
            entries,
            allowed,
        })
    }

    /// `true` when an unknown key of this map was already reported as standing for `name`:
    /// a misspelling (`dim:` for `dims:`), a common other name (`activation:` for `act:`), or
    /// a field written one level too high (`heads:` beside `block:` for `attention:`). Errors
    /// that follow from `name` being absent are then left out.
    pub(crate) fn misspells(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| {
            !self.allowed.contains(&k.name.as_str())
                && (closest(&k.name, self.allowed) == Some(name)
                    || alias(&k.name, self.allowed) == Some(name)
                    || home(&k.name) == Some(name))
        })
    }

    /// The first entry named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a (Key, Node)> {
        self.entries.iter().find(|(k, _)| k.name == name)
    }

    pub(crate) fn required(
        &self,
        name: &str,
        example: &str,
        diags: &mut Diagnostics,
    ) -> Option<&'a (Key, Node)> {
        // A misspelt key already got "did you mean `name`?": one mistake, one error.
        let found = self.get(name);
        if found.is_none() && !self.misspells(name) {
            diags
                .error(
                    &self.owner,
                    format!("missing field `{name}` in `{}`", self.what),
                )
                .help(format!("add `{name}: {example}`"));
        }
        found
    }
}

/// The map a field belongs in, for "`heads` belongs inside `attention:`".
const HOMES: &[(&str, &str)] = &[
    ("heads", "attention"),
    ("window", "attention"),
    ("hidden", "ffn"),
    ("act", "ffn"),
    ("expand", "hrf"),
    ("depth", "hrf"),
    ("init", "hrf"),
    ("decay", "hrf"),
    ("lr_scale", "hrf"),
    ("features", "input"),
    ("max_frames", "input"),
    ("channels", "conv_subsample"),
    ("stride", "conv_subsample"),
    ("factor", "merge"),
];

fn home(field: &str) -> Option<&'static str> {
    HOMES.iter().find(|(f, _)| *f == field).map(|(_, h)| *h)
}

/// Names other toolkits use for our fields (too far from ours for edit distance to catch).
const ALIASES: &[(&str, &str)] = &[
    ("activation", "act"),
    ("num_heads", "heads"),
    ("n_heads", "heads"),
    ("attention_heads", "heads"),
    ("kernel_size", "kernel"),
    ("dimensions", "dims"),
    ("hidden_dim", "hidden"),
    ("hidden_size", "hidden"),
    ("labels", "classes"),
    ("blocks", "encoder"),
    ("type", "block"),
    ("kind", "block"),
    ("num_layers", "repeat"),
    ("pooling", "pool"),
];

/// Our field for a common other name of it, when that field belongs in this map.
fn alias(name: &str, allowed: &[&str]) -> Option<&'static str> {
    ALIASES
        .iter()
        .find(|(other, ours)| *other == name.to_lowercase() && allowed.contains(ours))
        .map(|(_, ours)| *ours)
}

fn unknown_field(name: &str, span: &Span, what: &str, allowed: &[&str], diags: &mut Diagnostics) {
    if let Some(h) = home(name)
        && h != what
    {
        diags
            .error(
                span,
                format!("`{name}` belongs inside `{h}:`, not directly in `{what}`"),
            )
            .help(format!("write `{h}: {{ {name}: … }}`"));
        return;
    }
    if name == "positions" && what == "conv_subsample" {
        diags
            .error(
                span,
                "`positions` belongs in `frontend:`, beside `conv_subsample:`, not inside it",
            )
            .help("write `frontend: { conv_subsample: { … }, positions: none }`");
        return;
    }
    if name == "hrf" {
        diags
            .error(span, format!("`hrf` is not allowed in `{what}`: HRF expands FFNs only"))
            .help("move it into the block's `ffn:` map, e.g. `ffn: { hidden: ffn, hrf: { expand: 4 } }`");
        return;
    }
    let message = format!("unknown field `{name}` in `{what}`");
    match closest(name, allowed).or_else(|| alias(name, allowed)) {
        Some(best) => diags
            .error(span, message)
            .help(format!("did you mean `{best}`?")),
        None => diags
            .error(span, message)
            .help(format!("expected one of: {}", allowed.join(", "))),
    };
}

/// An integer field: a literal or a dim expression. Parse errors point inside the scalar.
pub(crate) fn dim(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<DimExpr> {
    let (key, node) = entry;
    match &node.kind {
        NodeKind::Scalar(s) if is_decimal(&s.text) => {
            let whole = s
                .text
                .trim()
                .parse::<f64>()
                .map_or(1, |v| v.round().max(1.0) as i64);
            diags
                .error(
                    &node.span,
                    format!("`{}` must be a whole number, found `{}`", key.name, s.text.trim()),
                )
                .help(if key.name == "expand" {
                    "HRF expand is the whole ratio m / d (at least 1): try `expand: 1` or `expand: 2`"
                        .to_string()
                } else {
                    format!("sizes are whole numbers: write `{}: {whole}`", key.name)
                });
            // Kept without a value (like a syntax error), so uses of this dim stay silent.
            Some(DimExpr {
                expr: None,
                scalar: s.clone(),
                span: node.span.clone(),
            })
        }
        NodeKind::Scalar(s) => {
            let parsed = match expr::parse(&s.text) {
                Ok(e) => Some(e),
                Err(e) => {
                    let span = node.span.within(s, e.start, e.len);
                    let b = diags.error(&span, e.message);
                    if let Some(h) = e.help {
                        b.help(h);
                    }
                    None
                }
            };
            Some(DimExpr {
                expr: parsed,
                scalar: s.clone(),
                span: node.span.clone(),
            })
        }
        _ => {
            let at = if node.span.is_real() {
                &node.span
            } else {
                &key.span
            };
            diags
                .error(
                    at,
                    format!(
                        "`{}` must be an integer or a dim expression, found {}",
                        key.name,
                        describe(node)
                    ),
                )
                .help(format!(
                    "write e.g. `{}: 64` or `{}: 4 * d`",
                    key.name, key.name
                ));
            None
        }
    }
}

/// A number written with a decimal point (`0.5`, `64.0`, `-1.5`), where a whole number is due.
fn is_decimal(text: &str) -> bool {
    let t = text.trim();
    t.contains('.')
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && t.parse::<f64>().is_ok()
}

/// A plain text field (a name); `example` is a valid value for the help line.
pub(crate) fn text(
    entry: &(Key, Node),
    example: &str,
    diags: &mut Diagnostics,
) -> Option<Spanned<String>> {
    let (key, node) = entry;
    match &node.kind {
        NodeKind::Scalar(s) => Some(Spanned {
            value: s.text.clone(),
            span: node.span.clone(),
        }),
        _ => {
            let at = if node.span.is_real() {
                &node.span
            } else {
                &key.span
            };
            diags
                .error(
                    at,
                    format!("`{}` must be a name, found {}", key.name, describe(node)),
                )
                .help(format!("write `{}: {example}`", key.name));
            None
        }
    }
}

/// One of a fixed set of words (`relu`, `swish`, …); unknown words get a "did you mean".
pub(crate) fn word<T: Copy>(
    entry: &(Key, Node),
    kind: &str,
    choices: &[(&str, T)],
    diags: &mut Diagnostics,
) -> Option<Spanned<T>> {
    let s = text(entry, choices.first().map_or("…", |(w, _)| *w), diags)?;
    if let Some((_, v)) = choices.iter().find(|(w, _)| *w == s.value) {
        return Some(Spanned {
            value: *v,
            span: s.span,
        });
    }
    let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
    let help = match closest(&s.value, &words) {
        Some(best) => format!(
            "did you mean `{best}`? (expected one of: {})",
            words.join(", ")
        ),
        None => format!("expected one of: {}", words.join(", ")),
    };
    diags
        .error(&s.span, format!("unknown {kind} `{}`", s.value))
        .help(help);
    None
}

/// `true` / `false`.
pub(crate) fn boolean(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<Spanned<bool>> {
    let (key, node) = entry;
    if let NodeKind::Scalar(s) = &node.kind
        && !s.quoted
    {
        match s.text.as_str() {
            "true" => {
                return Some(Spanned {
                    value: true,
                    span: node.span.clone(),
                });
            }
            "false" => {
                return Some(Spanned {
                    value: false,
                    span: node.span.clone(),
                });
            }
            _ => {}
        }
    }
    let at = if node.span.is_real() {
        &node.span
    } else {
        &key.span
    };
    diags
        .error(
            at,
            format!(
                "`{}` must be `true` or `false`, found {}",
                key.name,
                describe(node)
            ),
        )
        .help(format!(
            "write `{}: true` or `{}: false`",
            key.name, key.name
        ));
    None
}

/// Largest `hrf: { lr_scale }`: beyond ×100 the factors' steps dwarf the rest's, which is a typo
/// rather than a recipe.
pub(crate) const MAX_LR_SCALE: f64 = 100.0;

/// `hrf: { lr_scale: x }`: a finite number in [0, 100] (0 freezes the HRF factors).
pub(crate) fn lr_scale(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<Spanned<f64>> {
    let (key, node) = entry;
    let at = if node.span.is_real() {
        &node.span
    } else {
        &key.span
    };
    if let NodeKind::Scalar(s) = &node.kind
        && let Ok(v) = s.text.trim().parse::<f64>()
    {
        if v.is_finite() && (0.0..=MAX_LR_SCALE).contains(&v) {
            return Some(Spanned {
                value: v,
                span: node.span.clone(),
            });
        }
        diags
            .error(
                at,
                format!(
                    "`{}` = {} is outside [0, {MAX_LR_SCALE}]",
                    key.name,
                    s.text.trim()
                ),
            )
            .help("lr_scale multiplies the HRF factors' learning rate: 1 is the default, 0 freezes them, e.g. `lr_scale: 2`");
        return None;
    }
    diags
        .error(
            at,
            format!("`{}` must be a number, found {}", key.name, describe(node)),
        )
        .help("write e.g. `lr_scale: 2` (the HRF factors' learning rate relative to the rest)");
    None
}

/// A probability in [0, 1).
pub(crate) fn probability(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<Spanned<f64>> {
    let (key, node) = entry;
    if let NodeKind::Scalar(s) = &node.kind
        && let Ok(v) = s.text.trim().parse::<f64>()
    {
        if (0.0..1.0).contains(&v) {
            return Some(Spanned {
                value: v,
                span: node.span.clone(),
            });
        }
        diags
            .error(
                &node.span,
                format!("`{}` = {} is outside [0, 1)", key.name, s.text),
            )
            .help("a dropout probability like 0.1");
        return None;
    }
    let at = if node.span.is_real() {
        &node.span
    } else {
        &key.span
    };
    diags
        .error(
            at,
            format!(
                "`{}` must be a number in [0, 1), found {}",
                key.name,
                describe(node)
            ),
        )
        .help(format!("write e.g. `{}: 0.1`", key.name));
    None
}
