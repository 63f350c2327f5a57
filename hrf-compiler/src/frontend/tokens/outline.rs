//! Stage 5 (codegen, first slice) for `model!`: the dims module a spec declares.
//!
//! Built from the checked IR when the spec compiles, and salvaged from the raw tree when it does
//! not, so that a mistake in the spec does not also break every use of the module.

use proc_macro2::{Literal, Span as TokenSpan, TokenStream};
use quote::{format_ident, quote};

use crate::expr;
use crate::ir::ModelIr;
use crate::node::{Node, NodeKind, Scalar};

/// Everything `mod <snake_name> { … }` declares.
#[derive(Debug, PartialEq)]
pub struct DimsModule {
    /// CamelCase model name as written (`ConformerLightHrf`).
    pub model: String,
    /// snake_case module name (`conformer_light_hrf`).
    pub module: String,
    /// (SCREAMING_CASE const name, value, how the spec wrote it), in spec order: the named dims,
    /// then `FEATURES`, `MAX_FRAMES` and `NUM_CLASSES` unless a dim already has that name.
    /// `None` when the value could not be evaluated (the spec has an error).
    pub consts: Vec<(String, Option<i64>, String)>,
    pub classes: Vec<String>,
}

/// Value given to a const whose expression failed, in the stub emitted next to the errors: 1
/// keeps `[T; N]`, `N - 1` and `x / N` in user code free of follow-up errors.
const PLACEHOLDER: i64 = 1;

impl DimsModule {
    /// The module of a model that compiled: every value comes from the checked IR.
    pub fn from_ir(ir: &ModelIr) -> Self {
        let mut consts: Vec<(String, Option<i64>, String)> = ir
            .dims
            .iter()
            .map(|(name, value)| (name.to_uppercase(), Some(*value), name.clone()))
            .collect();
        push_unless_named(
            &mut consts,
            "FEATURES",
            Some(ir.features as i64),
            "input.features",
        );
        push_unless_named(
            &mut consts,
            "MAX_FRAMES",
            Some(ir.max_frames as i64),
            "input.max_frames",
        );
        push_unless_named(
            &mut consts,
            "NUM_CLASSES",
            Some(ir.classes.len() as i64),
            "classes.len()",
        );
        DimsModule {
            model: ir.name.clone(),
            module: ir.module.clone(),
            consts,
            classes: ir.classes.clone(),
        }
    }

    /// Best-effort module of a spec that failed to compile, read straight from its tree: the
    /// name, the dims (evaluated where their expressions resolve), the input sizes and the
    /// class names. `None` without a usable `name:`; then no module is emitted.
    pub fn salvage(root: &Node) -> Option<Self> {
        let model = scalar(field(root, "name")?)?.text.clone();
        let module = snake_case(&model);
        syn::parse_str::<syn::Ident>(&module).ok()?;

        let dims: Vec<(String, Option<expr::Expr>)> = match field(root, "dims").map(|n| &n.kind) {
            Some(NodeKind::Map(entries)) => entries
                .iter()
                .map(|(key, value)| {
                    let parsed = scalar(value).and_then(|s| expr::parse(&s.text).ok());
                    (key.name.clone(), parsed)
                })
                .collect(),
            _ => Vec::new(),
        };
        let (values, _) = expr::resolve_dims(&dims);
        let eval_input = |key: &str| -> Option<i64> {
            let text = &scalar(field(field(root, "input")?, key)?)?.text;
            let parsed = expr::parse(text).ok()?;
            expr::eval(
                &parsed,
                &mut |_, name| match dims.iter().position(|(n, _)| n == name) {
                    Some(i) => match values[i] {
                        Some(v) => expr::Lookup::Value(v),
                        None => expr::Lookup::Failed,
                    },
                    None => expr::Lookup::Undefined,
                },
            )
            .ok()
        };
        let classes: Vec<String> = match field(root, "classes").map(|n| &n.kind) {
            Some(NodeKind::Seq(items)) => items
                .iter()
                .filter_map(|item| scalar(item).map(|s| s.text.clone()))
                .collect(),
            _ => Vec::new(),
        };

        let mut consts: Vec<(String, Option<i64>, String)> = dims
            .iter()
            .zip(&values)
            .map(|((name, _), value)| (name.to_uppercase(), *value, name.clone()))
            .collect();
        push_unless_named(
            &mut consts,
            "FEATURES",
            eval_input("features"),
            "input.features",
        );
        push_unless_named(
            &mut consts,
            "MAX_FRAMES",
            eval_input("max_frames"),
            "input.max_frames",
        );
        push_unless_named(
            &mut consts,
            "NUM_CLASSES",
            Some(classes.len() as i64),
            "classes.len()",
        );
        Some(DimsModule {
            model,
            module,
            consts,
            classes,
        })
    }

    /// The module's tokens. Consts whose name is not a valid identifier, or that repeat an
    /// earlier const's name (`d` and `D`, or a dim named `classes`), are left out rather than
    /// emitted as a second definition.
    pub fn to_tokens(&self) -> TokenStream {
        let Ok(module) = syn::parse_str::<syn::Ident>(&self.module) else {
            return TokenStream::new();
        };
        let mut seen: Vec<&str> = vec!["CLASSES"];
        let mut consts = TokenStream::new();
        for (name, value, written) in &self.consts {
            let Ok(ident) = syn::parse_str::<syn::Ident>(name) else {
                continue;
            };
            if seen.contains(&name.as_str()) {
                continue;
            }
            seen.push(name);
            let value = value
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(PLACEHOLDER as usize);
            let value = Literal::usize_unsuffixed(value);
            let doc = format!(" `{written}`");
            // expands to: `/// `ffn`` `pub const FFN: usize = 256;`
            consts.extend(quote! {
                #[doc = #doc]
                pub const #ident: usize = #value;
            });
        }
        let count = Literal::usize_unsuffixed(self.classes.len());
        let classes = &self.classes;
        let doc = format!(
            " Dimensions and class names of the `{}` model, from its `model!` spec.",
            self.model
        );
        let module = format_ident!("{}", module, span = TokenSpan::call_site());
        // expands to:
        // /// Dimensions and class names of the `ConformerLightHrf` model, …
        // pub mod conformer_light_hrf {
        //     pub const D: usize = 64; …
        //     pub const CLASSES: [&str; 4] = ["neutral", "angry", "happy", "sad"];
        // }
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub mod #module {
                #consts
                /// Class names, in the order of the model's logits.
                pub const CLASSES: [&str; #count] = [#(#classes),*];
            }
        }
    }
}

fn push_unless_named(
    consts: &mut Vec<(String, Option<i64>, String)>,
    name: &str,
    value: Option<i64>,
    written: &str,
) {
    if !consts.iter().any(|(n, _, _)| n == name) {
        consts.push((name.to_string(), value, written.to_string()));
    }
}

/// The first value under `key` when `node` is a map.
fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.kind {
        NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

fn scalar(node: &Node) -> Option<&Scalar> {
    match &node.kind {
        NodeKind::Scalar(scalar) => Some(scalar),
        _ => None,
    }
}

/// `ConformerLightHrf` → `conformer_light_hrf`, `HRFModel` → `hrf_model`, `Light2D` →
/// `light2_d`: a `_` goes before an uppercase letter that follows a lowercase letter or digit,
/// or that starts a new word after an acronym.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}
