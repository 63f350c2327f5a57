//! Stages 1–5 for `model!`: tokens → `Node` → `compile_node` → `codegen::generate`, or compile
//! errors.
//!
//! On error every diagnostic becomes a `compile_error!` at its token, next to a stub dims module
//! (no model types), so one mistake in a spec gives one message.

use proc_macro2::{Span as TokenSpan, TokenStream, TokenTree};
use quote::quote;

use super::outline::DimsModule;
use super::parse::parse_model_tokens;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::node::{Node, NodeKind, Span};

/// Expands the body of `model! { … }`. Never panics: every problem becomes a `compile_error!`.
pub fn expand_model(input: TokenStream) -> TokenStream {
    let root = match parse_model_tokens(input.clone()) {
        Ok(root) => root,
        Err(syntax) => {
            let errors = syntax.to_compile_error();
            let stub = DimsModule::salvage(&salvage_entries(input))
                .map(|module| module.to_tokens())
                .unwrap_or_default();
            return quote! { #errors #stub };
        }
    };
    let salvaged = DimsModule::salvage(&root);
    match crate::compile_node(root) {
        // expands to: every item `codegen::generate` emits (dims module, plan, Folded, Scratch,
        // Train), the same as build.rs writes for the YAML form of this spec.
        Ok(model) => crate::codegen::generate(&model, &crate::codegen::CodegenOptions::default()),
        Err(diagnostics) => {
            let errors = diagnostics_to_error(&diagnostics).to_compile_error();
            let stub = salvaged.map(|m| m.to_tokens()).unwrap_or_default();
            quote! { #errors #stub }
        }
    }
}

/// All diagnostics as one `syn::Error` (one `compile_error!` each, in order). The help line,
/// and the label when it says more than the message, follow rustc's `= help:` layout.
pub fn diagnostics_to_error(diagnostics: &Diagnostics) -> syn::Error {
    let mut combined: Option<syn::Error> = None;
    for diagnostic in &diagnostics.items {
        let error = diagnostic_to_error(diagnostic);
        match &mut combined {
            Some(all) => all.combine(error),
            None => combined = Some(error),
        }
    }
    combined.unwrap_or_else(|| {
        syn::Error::new(
            TokenSpan::call_site(),
            "the spec compiler rejected this model without saying why (please report this)",
        )
    })
}

fn diagnostic_to_error(diagnostic: &Diagnostic) -> syn::Error {
    let mut message = diagnostic.message.clone();
    if let Some(label) = &diagnostic.label
        && label != &diagnostic.message
    {
        message.push_str("\n= note: ");
        message.push_str(label);
    }
    if let Some(help) = &diagnostic.help {
        message.push_str("\n= help: ");
        message.push_str(help);
    }
    match &diagnostic.span {
        Span::Tokens { first, last } => spanning(*first, *last, message),
        // A default made by lowering has no tokens: point at the whole invocation.
        Span::Text { .. } | Span::Synthetic => syn::Error::new(TokenSpan::call_site(), message),
    }
}

/// An error underlining `first..=last` when both sit on one line (`d - 64`), else at `first`
/// alone, so an item spanning lines (a whole map) does not draw a multi-line box.
///
/// `Span::join` is nightly-only; syn instead puts `first` on `compile_error!`'s path and `last`
/// on its braces, and rustc underlines from one to the other.
fn spanning(first: TokenSpan, last: TokenSpan, message: String) -> syn::Error {
    if first.start().line != last.end().line {
        return syn::Error::new(first, message);
    }
    let ends: TokenStream = [
        TokenTree::Ident(proc_macro2::Ident::new("first", first)),
        TokenTree::Ident(proc_macro2::Ident::new("last", last)),
    ]
    .into_iter()
    .collect();
    syn::Error::new_spanned(ends, message)
}

/// The top-level entries that still parse on their own, after a syntax error elsewhere: the
/// input is cut at its top-level commas and each piece parsed alone.
fn salvage_entries(input: TokenStream) -> Node {
    let mut entries = Vec::new();
    let mut piece = TokenStream::new();
    let mut flush = |piece: &mut TokenStream| {
        if let Ok(Node {
            kind: NodeKind::Map(mut parsed),
            ..
        }) = parse_model_tokens(std::mem::take(piece))
        {
            entries.append(&mut parsed);
        }
    };
    for tree in input {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut piece),
            _ => piece.extend([tree]),
        }
    }
    flush(&mut piece);
    Node {
        kind: NodeKind::Map(entries),
        span: Span::Synthetic,
    }
}
