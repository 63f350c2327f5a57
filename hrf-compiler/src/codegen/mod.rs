//! Stage 5 (codegen): `CheckedModel` → Rust tokens naming only `::hrf_runtime::__private::…`
//! (hrf-compiler never depends on hrf-runtime). Both entry points call [`generate`]: `model!`
//! (inline) and `hrf_compiler::build` (build.rs, prettyplease-formatted into `OUT_DIR`).
//!
//! For `name: ConformerLightHrf` it emits:
//! - `pub mod conformer_light_hrf { pub const D: usize = 64; … pub const CLASSES: [&str; 4] }`;
//! - `pub const CONFORMER_LIGHT_HRF_PLAN: ModelPlan`: the op list and both layout tables as plain
//!   data, equal to what `hrf_runtime::spec::plan_from_checked` builds at run time;
//! - `ConformerLightHrfFolded`: `#[repr(C)]`, one field per folded layer with literal const
//!   generics (`pub encoder_0_ffn1_w1: Linear<64, 256>`), viewed by the runtime as one `&[f32]`
//!   arena; `predict(&self, &[[f32; 64]], &mut Scratch) -> Result<[f32; 4], InputError>`;
//! - `ConformerLightHrfScratch`: the executor's working memory at `max_frames`;
//! - `ConformerLightHrfTrain` (inside `__with_std!`): the training engine bound to the plan;
//! - with embedded weights (build.rs only): `pub static CONFORMER_LIGHT_HRF: …Folded`.

mod fields;
mod folded;
mod plan_const;
#[cfg(test)]
mod tests;
mod train;

pub use fields::{FoldedField, LayerType, folded_fields};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::CheckedModel;
use crate::frontend::tokens::DimsModule;

/// What to emit besides the always-present items.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodegenOptions {
    /// Folded weights to embed as `pub static <MODULE>: <Name>Folded` (build.rs only).
    pub embedded_weights: Option<EmbeddedWeights>,
}

/// A folded arena already written as little-endian `f32` bytes for `include_bytes!`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedWeights {
    /// Path of the `.weights.bin` file as `include_bytes!` should see it (absolute).
    pub bin_path: String,
    /// Where the weights came from, for the static's doc (`weights/x.safetensors`).
    pub source: String,
}

/// The identifiers every part of the output refers to.
pub(crate) struct Names {
    /// `ConformerLightHrfTrain`
    pub train: Ident,
    /// `ConformerLightHrfFolded`
    pub folded: Ident,
    /// `ConformerLightHrfScratch`
    pub scratch: Ident,
    /// `CONFORMER_LIGHT_HRF_PLAN`
    pub plan: Ident,
}

impl Names {
    fn of(model: &CheckedModel) -> Self {
        let name = &model.ir.name;
        Names {
            train: format_ident!("{name}Train"),
            folded: format_ident!("{name}Folded"),
            scratch: format_ident!("{name}Scratch"),
            plan: format_ident!("{}_PLAN", model.ir.module.to_uppercase()),
        }
    }
}

/// Every item generated for `model` (see the module docs). Never panics: an internal
/// inconsistency between the folded table and the runtime's layer types becomes a
/// `compile_error!` naming the layer.
pub fn generate(model: &CheckedModel, opts: &CodegenOptions) -> TokenStream {
    let fields = match folded_fields(model) {
        Ok(fields) => fields,
        Err(message) => {
            let message = format!("hrf codegen: {message} (please report this)");
            return quote! { ::core::compile_error!(#message); };
        }
    };
    let names = Names::of(model);
    let dims = DimsModule::from_ir(&model.ir).to_tokens();
    let plan_ident = &names.plan;
    let plan = plan_const::plan_expr(model);
    let plan_doc = doc_attrs(&format!(
        "Plan of the `{}` model: identity, op list and both layout tables, as the runtime's \
         engines walk them.",
        model.ir.name
    ));
    let folded = folded::folded_struct(model, &names, &fields);
    let scratch = folded::scratch_struct(model, &names);
    let train = train::train_struct(model, &names);
    let embedded = folded::embedded_static(model, &names, opts);
    // expands to: the dims module, the folded struct, the scratch struct, the training newtype,
    // the optional static, and `pub const CONFORMER_LIGHT_HRF_PLAN: ModelPlan = { … };`.
    // The plan (long tables of plain data) goes last, so a reader meets the types first.
    quote! {
        #dims
        #folded
        #scratch
        #train
        #embedded

        #plan_doc
        pub const #plan_ident: ::hrf_runtime::__private::ModelPlan = #plan;
    }
}

/// [`generate`]'s output formatted as a source file with prettyplease, under `header` (one or
/// more `//` lines), items separated by blank lines. `Err` only when the tokens do not parse as
/// a file (a codegen bug).
///
/// prettyplease prints macro bodies as raw tokens, so the items inside each
/// `::hrf_runtime::__with_std! { … }` are parsed and formatted on their own, then indented.
pub fn generate_file(
    model: &CheckedModel,
    opts: &CodegenOptions,
    header: &str,
) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(generate(model, opts))?;
    let mut out = format!("{header}\n");
    let mut shell = file.clone();
    shell.items.clear();
    for item in file.items {
        out.push('\n');
        let with_std_body = match &item {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "__with_std") =>
            {
                Some(syn::parse2::<syn::File>(m.mac.tokens.clone())?)
            }
            _ => None,
        };
        match with_std_body {
            Some(body) => {
                out.push_str("::hrf_runtime::__with_std! {\n");
                for line in prettyplease::unparse(&body).lines() {
                    if !line.is_empty() {
                        out.push_str("    ");
                    }
                    out.push_str(line);
                    out.push('\n');
                }
                out.push_str("}\n");
            }
            None => {
                let mut single = shell.clone();
                single.items.push(item);
                out.push_str(&prettyplease::unparse(&single));
            }
        }
    }
    Ok(out)
}

/// `#[doc = "…"]` attributes for `text`: one per line, lines wrapped at 92 columns, so that
/// prettyplease prints ordinary `///` comments.
pub(crate) fn doc_attrs(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && line.len() + 1 + word.len() > 92 {
                let doc = format!(" {line}");
                out.extend(quote! { #[doc = #doc] });
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let doc = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        out.extend(quote! { #[doc = #doc] });
    }
    out
}
