//! Front-end neutral syntax tree: YAML and `model! { … }` both parse into `Node`s, and one
//! conversion (`Node` → `SpecAst`) serves both, so they report the same errors in the same order.

/// Where a piece of spec text came from.
#[derive(Clone, Debug)]
pub enum Span {
    /// YAML source: byte offset and length in the file, and the 1-based line and column of the
    /// first character.
    Text {
        offset: usize,
        len: usize,
        line: usize,
        col: usize,
    },
    /// Tokens of a `model!` invocation: the first and last token of the item.
    /// (`Span::join` is nightly-only, so diagnostics use `first` unless both are the same.)
    Tokens {
        first: proc_macro2::Span,
        last: proc_macro2::Span,
    },
    /// Created by lowering (a default value); diagnostics use the nearest real parent span.
    Synthetic,
}

/// A map key with its own span, so "unknown field" errors point at the key.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A scalar as written. Dimension expressions (`4 * d`) stay text here and are parsed by the pest
/// grammar later; `pieces` maps byte offsets of `text` to source spans so an error inside an
/// expression can point at the right token (for YAML, offsets within the scalar are enough).
#[derive(Clone, Debug)]
pub struct Scalar {
    pub text: String,
    /// `true` when written as a quoted string (`"4 * d"` / `'x'`): never a number or bool.
    pub quoted: bool,
    /// For `model!` input: (byte offset in `text` where a token starts, that token's span).
    /// Empty for YAML, where `Span::Text` plus the offset locates any character.
    pub pieces: Vec<(usize, proc_macro2::Span)>,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    /// Keys in source order; duplicates are kept so the converter can report them.
    Map(Vec<(Key, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
    /// YAML `~` / `null` / an empty value.
    Null,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}
