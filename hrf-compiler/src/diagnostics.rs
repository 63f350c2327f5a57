//! Diagnostics shared by every compiler stage: located errors, collected in source order, rendered
//! rustc-style for YAML (`--> path:line:col`, the source line, a caret, `= help:`).

use std::fmt::Write as _;

use crate::node::{Scalar, Span};

/// One located error.
///
/// For YAML input `span` is `Span::Text`; for `model!` input it is `Span::Tokens` (turn it into a
/// `syn::Error` at `first`). `label` is the short text under the caret (defaults to `message`);
/// `help` is a suggested fix, rendered as `= help: …`.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub label: Option<String>,
    pub help: Option<String>,
}

/// Every error a compile produced, in the order the stages found them (source order within a
/// stage). Never empty when returned as `Err`.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

/// Builder returned by [`Diagnostics::error`] so a help line can be chained on.
pub struct DiagnosticBuilder<'a> {
    diagnostic: &'a mut Diagnostic,
}

impl DiagnosticBuilder<'_> {
    /// Adds the `= help:` line.
    pub fn help(self, help: impl Into<String>) -> Self {
        self.diagnostic.help = Some(help.into());
        self
    }

    /// Replaces the text under the caret (the header still shows the message).
    pub fn label(self, label: impl Into<String>) -> Self {
        self.diagnostic.label = Some(label.into());
        self
    }
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at `span`; chain `.help(…)` to suggest a fix.
    pub fn error(&mut self, span: &Span, message: impl Into<String>) -> DiagnosticBuilder<'_> {
        self.items.push(Diagnostic {
            span: span.clone(),
            message: message.into(),
            label: None,
            help: None,
        });
        let last = self.items.len() - 1;
        DiagnosticBuilder {
            diagnostic: &mut self.items[last],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// `Err(self)` when any error was recorded, so a stage can end with `diags.finish()?`.
    pub fn finish(self) -> Result<(), Diagnostics> {
        if self.items.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Renders every diagnostic rustc-style against the YAML `source` read from `path`:
    ///
    /// ```text
    /// error: heads = 5 does not divide d = 64
    /// --> specs/bad.yaml:7:12
    ///   |
    /// 7 |     heads: 5
    ///   |            ^ heads = 5 does not divide d = 64
    ///   = help: try heads = 4 or 8
    /// ```
    ///
    /// Diagnostics are separated by a blank line. A span that is not `Span::Text` renders the
    /// header and help only.
    pub fn render(&self, path: &str, source: &str) -> String {
        let mut out = String::new();
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            render_one(&mut out, d, path, source);
        }
        out
    }
}

fn render_one(out: &mut String, d: &Diagnostic, path: &str, source: &str) {
    let _ = writeln!(out, "error: {}", d.message);
    let label = d.label.as_deref().unwrap_or(&d.message);
    let mut gutter = 1;
    if let Span::Text {
        offset,
        len,
        line,
        col,
    } = d.span
    {
        let line_text = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let line_no = line.to_string();
        gutter = line_no.len();
        let pad = " ".repeat(gutter);
        // Carets cover the span's characters on its first line (at least one).
        let start_char = col.saturating_sub(1);
        let span_text = source.get(offset..offset.saturating_add(len)).unwrap_or("");
        let span_chars = span_text.lines().next().unwrap_or("").chars().count();
        let line_chars = line_text.chars().count();
        let carets = span_chars.min(line_chars.saturating_sub(start_char)).max(1);
        // Tabs are shown as 4 spaces (as rustc does) so the caret stays under its character.
        let tabs_before = line_text
            .chars()
            .take(start_char)
            .filter(|&c| c == '\t')
            .count();
        let _ = writeln!(out, "--> {path}:{line}:{col}");
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{line_no} | {}", line_text.replace('\t', "    "));
        let _ = writeln!(
            out,
            "{pad} | {}{} {label}",
            " ".repeat(start_char + 3 * tabs_before),
            "^".repeat(carets)
        );
    } else {
        let _ = writeln!(out, "--> {path}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{} = help: {help}", " ".repeat(gutter));
    }
}

impl Span {
    /// The span of bytes `start..start + len` inside `scalar`'s text, when `self` is that
    /// scalar's span. For YAML, offsets within a single-line scalar map one-to-one to columns;
    /// for `model!` input the tokens covering the first and the last byte are taken from
    /// `scalar.pieces`. Falls back to the whole scalar when the text spans lines or has no
    /// pieces.
    pub fn within(&self, scalar: &Scalar, start: usize, len: usize) -> Span {
        match self {
            Span::Text {
                offset, line, col, ..
            } => {
                if scalar.text.contains('\n') {
                    return self.clone();
                }
                let prefix = scalar.text.get(..start).unwrap_or("");
                Span::Text {
                    offset: offset + start,
                    len: len.max(1),
                    line: *line,
                    col: col + prefix.chars().count(),
                }
            }
            Span::Tokens { .. } => {
                // The token holding byte `start` and the one holding the range's last byte
                // (`start + len - 1`): `d / 3` inside `4 * (d / 3)` spans `d` to `3`.
                let token_at = |byte: usize| {
                    scalar
                        .pieces
                        .iter()
                        .rev()
                        .find(|(at, _)| *at <= byte)
                        .map(|(_, token)| *token)
                };
                match (token_at(start), token_at(start + len.max(1) - 1)) {
                    (Some(first), Some(last)) => Span::Tokens { first, last },
                    _ => self.clone(),
                }
            }
            Span::Synthetic => Span::Synthetic,
        }
    }

    /// `true` for spans that point at real source.
    pub fn is_real(&self) -> bool {
        !matches!(self, Span::Synthetic)
    }
}

#[cfg(test)]
mod tests {
    use crate::frontend::tokens::parse_model_tokens;
    use crate::node::{NodeKind, Span};

    /// (line, 0-based column) where each end of a token span starts.
    fn token_ends(span: &Span) -> ((usize, usize), (usize, usize)) {
        match span {
            Span::Tokens { first, last } => (
                (first.start().line, first.start().column),
                (last.start().line, last.start().column),
            ),
            other => panic!("expected a token span, got {other:?}"),
        }
    }

    #[test]
    fn within_a_model_macro_expression_spans_from_first_to_last_token() {
        let tokens = "ffn: 2 * (d / 3)".parse().expect("lexes");
        let root = parse_model_tokens(tokens).expect("parses");
        let NodeKind::Map(entries) = &root.kind else {
            panic!("expected a map")
        };
        let value = &entries[0].1;
        let NodeKind::Scalar(scalar) = &value.kind else {
            panic!("expected a scalar")
        };
        let start = scalar.text.find("d / 3").expect("sub-expression");
        // `d / 3` covers columns 10 (`d`) to 14 (`3`) of the source line.
        let inner = value.span.within(scalar, start, "d / 3".len());
        assert_eq!(token_ends(&inner), ((1, 10), (1, 14)));
        // A one-byte range is one token.
        assert_eq!(
            token_ends(&value.span.within(scalar, start, 1)),
            ((1, 10), (1, 10))
        );
        // The whole scalar: `2` to `)`.
        let whole = value.span.within(scalar, 0, scalar.text.len());
        assert_eq!(token_ends(&whole), ((1, 5), (1, 15)));
    }
}
