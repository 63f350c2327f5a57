//! Stage 1 (parse) for `model! { … }`: Rust tokens → `Node`, keeping every token's span.
//!
//! The inline form mirrors the YAML form: `key: value` entries separated by commas, maps in
//! `{ … }`, sequences in `[ … ]`, and scalars that are a name, a number, `true`/`false`, a
//! `"quoted string"`, or a dim expression (`4 * d`, `(d + 8) / 2`) that runs to the next
//! top-level comma. Trailing commas are allowed everywhere.

use proc_macro2::{Delimiter, Span as TokenSpan, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Ident, Lit, Token};

use crate::node::{Key, Node, NodeKind, Scalar, Span};

/// Deepest nesting of maps and lists, and of parentheses in an expression: the YAML front-end's
/// limit, which keeps hostile input from exhausting the stack of later (recursive) stages.
const MAX_DEPTH: usize = 64;

/// Parses the body of a `model! { … }` invocation (the tokens between the macro's braces) into
/// a `NodeKind::Map`. Syntax errors are `syn::Error`s at the offending token.
/// An empty invocation is `NodeKind::Null`, like an empty YAML document, so both front-ends
/// get the converter's single "the spec is empty" error.
pub fn parse_model_tokens(tokens: TokenStream) -> syn::Result<Node> {
    let span = outer_span(&tokens);
    if tokens.is_empty() {
        return Ok(Node {
            kind: NodeKind::Null,
            span,
        });
    }
    let entries = (|input: ParseStream| parse_map_entries(input, 1)).parse2(tokens)?;
    Ok(Node {
        kind: NodeKind::Map(entries),
        span,
    })
}

/// Span of a whole token stream: its first token and its last token (the closing delimiter when
/// the last tree is a group). An empty stream falls back to the macro call site.
fn outer_span(tokens: &TokenStream) -> Span {
    let mut trees = tokens.clone().into_iter();
    let first = trees.next();
    let last = trees.last().or_else(|| first.clone());
    match (first, last) {
        (Some(first), Some(last)) => Span::Tokens {
            first: start_span(&first),
            last: end_span(&last),
        },
        _ => Span::Tokens {
            first: TokenSpan::call_site(),
            last: TokenSpan::call_site(),
        },
    }
}

fn start_span(tree: &TokenTree) -> TokenSpan {
    match tree {
        TokenTree::Group(group) => group.span_open(),
        other => other.span(),
    }
}

fn end_span(tree: &TokenTree) -> TokenSpan {
    match tree {
        TokenTree::Group(group) => group.span_close(),
        other => other.span(),
    }
}

/// `key: value, key: value, …` up to the end of `input`, keys in source order (duplicates kept
/// for the converter to report).
fn parse_map_entries(input: ParseStream, depth: usize) -> syn::Result<Vec<(Key, Node)>> {
    let mut entries: Vec<(Key, Node)> = Vec::new();
    while !input.is_empty() {
        let key = parse_key(input)?;
        let previous = entries.last().map(|(k, _)| k.name.as_str());
        parse_colon(input, &key, previous)?;
        let value = parse_value(input, &ValueSite::Field(&key.name), depth)?;
        entries.push((key, value));
        if input.is_empty() {
            break;
        }
        parse_comma(input, Separated::Fields)?;
    }
    Ok(entries)
}

/// `value, value, …` up to the end of `input`.
fn parse_seq_items(input: ParseStream, depth: usize) -> syn::Result<Vec<Node>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(parse_value(input, &ValueSite::Item, depth)?);
        if input.is_empty() {
            break;
        }
        parse_comma(input, Separated::Items)?;
    }
    Ok(items)
}

fn parse_key(input: ParseStream) -> syn::Result<Key> {
    if input.peek(Ident::peek_any) {
        // `parse_any` admits keywords (`type`, `in`); `unraw` turns `r#type` into `type`.
        let ident = Ident::parse_any(input)?.unraw();
        let span = ident.span();
        return Ok(Key {
            name: ident.to_string(),
            span: Span::Tokens {
                first: span,
                last: span,
            },
        });
    }
    if let Some((TokenTree::Literal(literal), _)) = input.cursor().token_tree()
        && let Lit::Str(text) = Lit::new(literal)
    {
        return Err(input.error(format!(
            "field names are written without quotes: `{}: …`",
            text.value()
        )));
    }
    Err(input.error(format!(
        "expected a field name like `dims`, found {}",
        describe_next(input)
    )))
}

/// `previous` is the key of the entry before, for the hint when `key` is really the next item
/// of a list written without brackets (`classes: neutral, angry`).
fn parse_colon(input: ParseStream, key: &Key, previous: Option<&str>) -> syn::Result<()> {
    let key_span = match key.span {
        Span::Tokens { first, .. } => first,
        Span::Text { .. } | Span::Synthetic => input.span(),
    };
    let key = key.name.as_str();
    if input.peek(Token![::]) {
        return Err(input.error(format!("expected a single `:` after `{key}`, found `::`")));
    }
    if input.peek(Token![:]) {
        input.parse::<Token![:]>()?;
        return Ok(());
    }
    if input.peek(Token![=]) {
        return Err(input.error(format!(
            "expected `:` after `{key}`, found `=`: fields are written `{key}: value`"
        )));
    }
    if input.is_empty() || input.peek(Token![,]) {
        // A bare word followed by `,` is most likely the next item of a list written without
        // brackets: point at the word itself.
        if let Some(previous) = previous {
            return Err(syn::Error::new(
                key_span,
                format!(
                    "expected `:` and a value after `{key}`; if `{key}` continues the value of \
                     `{previous}`, write a list in brackets: `{previous}: [a, b]`"
                ),
            ));
        }
        return Err(input.error(format!("expected `:` and a value after `{key}`")));
    }
    Err(input.error(format!(
        "expected `:` after `{key}`, found {}",
        describe_next(input)
    )))
}

/// Where a value is expected, for the "expected a value" message.
enum ValueSite<'a> {
    Field(&'a str),
    Item,
}

/// What a comma separates, for the "expected `,`" message.
#[derive(Clone, Copy)]
enum Separated {
    Fields,
    Items,
}

fn parse_comma(input: ParseStream, separated: Separated) -> syn::Result<()> {
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        return Ok(());
    }
    let between = match separated {
        Separated::Fields => "fields",
        Separated::Items => "list items",
    };
    if input.peek(Token![:]) {
        return Err(input.error(
            "expected `,`, found `:`: a nested map is written in braces, `key: { field: value }`",
        ));
    }
    if input.peek(Token![;]) {
        return Err(input.error(format!("expected `,` between {between}, found `;`")));
    }
    Err(input.error(format!(
        "expected `,` between {between}, found {}",
        describe_next(input)
    )))
}

/// One value: `{ map }`, `[ seq ]`, or a scalar token run.
/// `depth` counts the maps and lists around the value (the top-level map is 1).
fn parse_value(input: ParseStream, site: &ValueSite, depth: usize) -> syn::Result<Node> {
    if input.is_empty() || input.peek(Token![,]) {
        return Err(input.error(match site {
            ValueSite::Field(key) => format!("expected a value after `{key}:`"),
            ValueSite::Item => "expected a list item".to_string(),
        }));
    }
    let nested = input.peek(syn::token::Brace) || input.peek(syn::token::Bracket);
    if nested && depth >= MAX_DEPTH {
        return Err(input.error(format!("the spec nests deeper than {MAX_DEPTH} levels")));
    }
    if input.peek(syn::token::Brace) {
        let content;
        let brace = syn::braced!(content in input);
        let entries = parse_map_entries(&content, depth + 1)?;
        return Ok(Node {
            kind: NodeKind::Map(entries),
            span: Span::Tokens {
                first: brace.span.open(),
                last: brace.span.close(),
            },
        });
    }
    if input.peek(syn::token::Bracket) {
        let content;
        let bracket = syn::bracketed!(content in input);
        let items = parse_seq_items(&content, depth + 1)?;
        return Ok(Node {
            kind: NodeKind::Seq(items),
            span: Span::Tokens {
                first: bracket.span.open(),
                last: bracket.span.close(),
            },
        });
    }
    parse_scalar(input)
}

/// A scalar: every token up to the next top-level `,` (or the end) that can continue an
/// expression. A name or number right after another one stops the run, so a missing comma is
/// reported by the caller at the second token.
fn parse_scalar(input: ParseStream) -> syn::Result<Node> {
    let mut run = ScalarRun::default();
    while let Some((tree, _)) = input.cursor().token_tree() {
        if !run.accepts(&tree) {
            break;
        }
        let tree: TokenTree = input.parse()?;
        run.push(&tree)?;
    }
    run.finish()
}

/// What the previous token of a scalar run was, which decides what may follow and how the text
/// is spaced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing yet, or just after `(`.
    Start,
    /// A name, a number, a string or a `( … )` group.
    Operand,
    /// An operator written as a binary one (`4 * d`): a space follows.
    Binary { joint: bool },
    /// A prefix `-`/`+` (`-4`, `2 * -d`): no space follows.
    Unary,
}

/// The text and per-token spans of a scalar being collected.
#[derive(Default)]
struct ScalarRun {
    /// The scalar as written, tokens joined with single spaces (none after `(`, before `)` or
    /// after a prefix sign), so `(d + 8) / 2` reads the same as in YAML.
    text: String,
    /// (byte offset in `text` where a token starts, that token's span), in order.
    pieces: Vec<(usize, TokenSpan)>,
    /// `Some` once a `"quoted string"` was pushed; its span.
    quoted: Option<TokenSpan>,
    first: Option<TokenSpan>,
    last: Option<TokenSpan>,
    prev: PrevState,
    /// How many `(` are open at the token being pushed.
    parens: usize,
    /// The last operator pushed, for "expected an operand after `*`".
    last_operator: Option<(char, TokenSpan)>,
}

/// `Prev` with a `Default` of `Start`.
#[derive(Clone, Copy)]
struct PrevState(Prev);

impl Default for PrevState {
    fn default() -> Self {
        PrevState(Prev::Start)
    }
}

/// Punctuation that always ends a scalar: separators and the key/value colon.
fn ends_scalar(ch: char) -> bool {
    matches!(ch, ',' | ';' | ':' | '=')
}

impl ScalarRun {
    /// Whether `tree` continues this scalar: operators always do (except separators); an operand
    /// only where an operand is expected; `{`/`[` never do (they start a value of their own).
    fn accepts(&self, tree: &TokenTree) -> bool {
        match tree {
            TokenTree::Punct(punct) => !ends_scalar(punct.as_char()),
            TokenTree::Group(group) => {
                matches!(group.delimiter(), Delimiter::Parenthesis | Delimiter::None)
                    && self.prev.0 != Prev::Operand
            }
            TokenTree::Ident(_) | TokenTree::Literal(_) => self.prev.0 != Prev::Operand,
        }
    }

    fn push(&mut self, tree: &TokenTree) -> syn::Result<()> {
        self.first.get_or_insert_with(|| start_span(tree));
        match tree {
            TokenTree::Ident(ident) => {
                self.push_text(&ident.unraw().to_string(), ident.span(), Prev::Operand);
            }
            TokenTree::Literal(literal) => self.push_literal(literal)?,
            TokenTree::Punct(punct) => {
                let ch = punct.as_char();
                let prefix = matches!(ch, '-' | '+')
                    && matches!(self.prev.0, Prev::Start | Prev::Binary { .. } | Prev::Unary);
                let prev = if prefix {
                    Prev::Unary
                } else {
                    Prev::Binary {
                        joint: punct.spacing() == proc_macro2::Spacing::Joint,
                    }
                };
                self.push_text(&ch.to_string(), punct.span(), prev);
                self.last_operator = Some((ch, punct.span()));
            }
            TokenTree::Group(group) => {
                // `( … )`, or an invisible group from a `macro_rules!` fragment (`$x:expr`),
                // which also stands for one operand: written with parentheses to keep its
                // grouping.
                if group.stream().is_empty() {
                    return Err(syn::Error::new(
                        group.span_open(),
                        "empty parentheses: expected an expression inside `( … )`",
                    ));
                }
                self.parens += 1;
                if self.parens > MAX_DEPTH {
                    return Err(syn::Error::new(
                        group.span_open(),
                        format!("the expression nests deeper than {MAX_DEPTH} parentheses"),
                    ));
                }
                self.push_text("(", group.span_open(), Prev::Start);
                for inner in group.stream() {
                    if !self.accepts(&inner) {
                        return Err(self.inside_parens_error(&inner));
                    }
                    self.push(&inner)?;
                }
                self.check_not_dangling()?;
                self.push_text(")", group.span_close(), Prev::Operand);
                self.parens -= 1;
            }
        }
        self.last = Some(end_span(tree));
        Ok(())
    }

    fn push_literal(&mut self, literal: &proc_macro2::Literal) -> syn::Result<()> {
        match Lit::new(literal.clone()) {
            Lit::Str(text) => {
                if self.quoted.is_some() || !self.pieces.is_empty() {
                    return Err(syn::Error::new(
                        literal.span(),
                        "a quoted string must be the whole value",
                    ));
                }
                self.quoted = Some(literal.span());
                self.push_text(&text.value(), literal.span(), Prev::Operand);
            }
            Lit::Int(_) | Lit::Float(_) => {
                self.push_text(&literal.to_string(), literal.span(), Prev::Operand);
            }
            _ => {
                return Err(syn::Error::new(
                    literal.span(),
                    format!("expected a number, a name or a \"quoted string\", found `{literal}`"),
                ));
            }
        }
        Ok(())
    }

    /// Appends one token's text, spaced as described on `text`.
    fn push_text(&mut self, token: &str, span: TokenSpan, now: Prev) {
        let glued = match self.prev.0 {
            Prev::Start | Prev::Unary => true,
            // `**`, `<=`: a joint operator glues to the next operator.
            Prev::Binary { joint } => joint && matches!(now, Prev::Binary { .. }),
            Prev::Operand => token == ")",
        };
        if !glued && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.pieces.push((self.text.len(), span));
        self.text.push_str(token);
        self.prev = PrevState(now);
    }

    /// An operator with nothing after it (`4 *,` or `(d -)`) is reported at the operator.
    fn check_not_dangling(&self) -> syn::Result<()> {
        match (self.prev.0, self.last_operator) {
            (Prev::Binary { .. } | Prev::Unary, Some((ch, span))) => Err(syn::Error::new(
                span,
                format!("expected a number or a dim name after `{ch}`"),
            )),
            _ => Ok(()),
        }
    }

    /// Error for a token inside `( … )` that cannot continue the expression.
    fn inside_parens_error(&self, tree: &TokenTree) -> syn::Error {
        let message = match tree {
            TokenTree::Punct(punct) => {
                format!("`{}` is not allowed inside parentheses", punct.as_char())
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                "a map `{ … }` cannot be part of an expression".to_string()
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Bracket => {
                "a list `[ … ]` cannot be part of an expression".to_string()
            }
            _ => format!("expected an operator before {}", describe(tree)),
        };
        syn::Error::new(start_span(tree), message)
    }

    fn finish(self) -> syn::Result<Node> {
        self.check_not_dangling()?;
        if let Some(span) = self.quoted
            && self.pieces.len() > 1
        {
            return Err(syn::Error::new(
                span,
                "a quoted string must be the whole value",
            ));
        }
        let (Some(first), Some(last)) = (self.first, self.last) else {
            // Unreachable through `parse_value`, which checks for a value first; reported
            // rather than assumed.
            return Err(syn::Error::new(TokenSpan::call_site(), "expected a value"));
        };
        Ok(Node {
            kind: NodeKind::Scalar(Scalar {
                text: self.text,
                quoted: self.quoted.is_some(),
                pieces: self.pieces,
            }),
            span: Span::Tokens { first, last },
        })
    }
}

/// "`x`" for the next token of `input`, for error messages.
fn describe_next(input: ParseStream) -> String {
    match input.cursor().token_tree() {
        Some((tree, _)) => describe(&tree),
        None => "the end of the input".to_string(),
    }
}

/// "`x`" for one token tree, groups shown by their opening delimiter.
fn describe(tree: &TokenTree) -> String {
    match tree {
        TokenTree::Group(group) => match group.delimiter() {
            Delimiter::Brace => "`{`".to_string(),
            Delimiter::Bracket => "`[`".to_string(),
            Delimiter::Parenthesis => "`(`".to_string(),
            Delimiter::None => format!("`{}`", group.stream()),
        },
        other => format!("`{other}`"),
    }
}
