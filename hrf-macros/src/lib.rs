//! `model! { … }`: a thin shim that hands its tokens to hrf-compiler.

use proc_macro::TokenStream;

/// Declares a model inline. See the spec language in the hrf README.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    let _ = input;
    quote::quote!(compile_error!("model! is not implemented yet");).into()
}
