//! Stage 5 (codegen, deployed model): `<Name>Folded` (one `#[repr(C)]` field per folded layer,
//! literal const generics), its layout asserts and `predict`, `<Name>Scratch`, and the optional
//! embedded `static` whose bytes come from `include_bytes!`.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::fields::FoldedField;
use super::{CodegenOptions, Names, doc_attrs};
use crate::CheckedModel;

/// `<Name>Folded`, its `F32Arena` impl, compile-time layout checks and methods.
pub(super) fn folded_struct(
    model: &CheckedModel,
    names: &Names,
    fields: &[FoldedField],
) -> TokenStream {
    let Names {
        folded,
        scratch,
        plan,
        ..
    } = names;
    let ir = &model.ir;
    let features = Literal::usize_unsuffixed(ir.features);
    let classes = Literal::usize_unsuffixed(ir.classes.len());
    let doc = doc_attrs(&format!(
        "The deployed `{}` model: every fold applied (HRF into W1, LayerNorm γ/β into the next \
         linear, BatchNorm into the depthwise conv, CMVN into the first conv, fused Q/K/V), one \
         field per layer, all shapes constant.\n\n`#[repr(C)]` of `f32` arrays only: the struct \
         *is* the folded arena of [`{plan}`] ({} `f32`s).",
        ir.name,
        fields.iter().map(|f| f.len).sum::<usize>()
    ));
    let field_defs = fields.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let ty = layer_type_tokens(f);
        let doc = format!(" `{}.*`", f.prefix);
        // expands to: `/// `encoder.0.ffn1.w1.*`` `pub encoder_0_ffn1_w1: ::hrf_runtime::__private::Linear<64, 256>,`
        quote! { #[doc = #doc] pub #ident: #ty }
    });
    let offset_asserts = fields.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let bytes = Literal::usize_unsuffixed(4 * f.offset);
        let message = format!(
            "field `{}` must start at f32 {} of the folded arena",
            f.ident, f.offset
        );
        // expands to: `assert!(offset_of!(ConformerLightHrfFolded, encoder_0_ffn1_w1) == 98816, "…");`
        quote! {
            ::core::assert!(::core::mem::offset_of!(#folded, #ident) == #bytes, #message);
        }
    });
    let size_message = format!("`{folded}` must be exactly the folded arena of `{plan}`");
    let predict_doc = doc_attrs(&format!(
        "Class logits (in the order of `{}::CLASSES`) for one utterance of `frames.len()` \
         log-Mel frames. Performs no heap allocation: every intermediate lives in `scratch`.\n\n \
         # Errors\n\n [`InputError`](::hrf_runtime::__private::InputError) for zero frames, more \
         than `{}::MAX_FRAMES` frames, too few frames for the frontend convs, or a non-finite \
         feature value.",
        ir.module, ir.module
    ));
    // expands to:
    // #[repr(C)] pub struct ConformerLightHrfFolded { pub frontend_conv_0: InputConv1d<64, 64, 3>, … }
    // unsafe impl F32Arena for ConformerLightHrfFolded {}
    // const _: () = { assert!(size_of::<…>() == 4 * (PLAN.folded.params_len() + …)); assert!(offset_of!(…) == …); … };
    // impl ConformerLightHrfFolded { pub const PLAN: &ModelPlan = &CONFORMER_LIGHT_HRF_PLAN; pub fn predict(…) }
    let core = quote! {
        #doc
        #[repr(C)]
        pub struct #folded {
            #(#field_defs,)*
        }

        // SAFETY: `#[repr(C)]` and made only of the runtime's `#[repr(C)]` f32-array layer types;
        // the asserts below pin its size and every field's offset to the plan's folded arena.
        unsafe impl ::hrf_runtime::__private::F32Arena for #folded {}

        const _: () = {
            let size = ::core::mem::size_of::<#folded>();
            let arena = #plan.folded.params_len() + #plan.folded.buffers_len();
            ::core::assert!(size == 4 * arena, #size_message);
            #(#offset_asserts)*
        };

        impl #folded {
            /// The plan this struct is the folded arena of.
            pub const PLAN: &'static ::hrf_runtime::__private::ModelPlan = &#plan;

            #predict_doc
            pub fn predict(
                &self,
                frames: &[[f32; #features]],
                scratch: &mut #scratch,
            ) -> ::core::result::Result<[f32; #classes], ::hrf_runtime::__private::InputError> {
                let mut logits = [0.0f32; #classes];
                ::hrf_runtime::__private::predict_folded(
                    Self::PLAN,
                    ::hrf_runtime::__private::F32Arena::as_f32s(self),
                    frames.as_flattened(),
                    &mut scratch.0,
                    &mut logits,
                )?;
                ::core::result::Result::Ok(logits)
            }
        }
    };
    // expands to: `__with_std! { impl ConformerLightHrfFolded { fn from_f32s, fn read, fn write } }`
    let with_std = quote! {
        ::hrf_runtime::__with_std! {
            impl #folded {
                /// Copies a folded arena (`PLAN.folded` params, then buffers) into a new heap
                /// value, without a stack copy of the whole struct.
                ///
                /// # Errors
                ///
                /// When `weights` does not have exactly the folded arena's length.
                pub fn from_f32s(
                    weights: &[f32],
                ) -> ::core::result::Result<
                    ::hrf_runtime::__private::Box<Self>,
                    ::hrf_runtime::__private::ArenaLenError,
                > {
                    ::hrf_runtime::__private::boxed_from_f32s::<Self>(weights)
                }

                /// Reads folded weights written by [`Self::write`] (or `hrf export`), checking
                /// their spec name, hash and tensor shapes against this model.
                ///
                /// # Errors
                ///
                /// I/O errors and any mismatch with this model, naming the file.
                pub fn read(
                    path: impl ::core::convert::AsRef<::hrf_runtime::__private::Path>,
                ) -> ::core::result::Result<
                    ::hrf_runtime::__private::Box<Self>,
                    ::hrf_runtime::__private::FoldedWeightsError,
                > {
                    ::hrf_runtime::__private::read_folded_weights_boxed::<Self>(Self::PLAN, path.as_ref())
                }

                /// Writes the folded weights (safetensors, one tensor per folded slot, with the
                /// spec's name, hash, dims and classes as metadata) for `read` or build.rs
                /// embedding.
                ///
                /// # Errors
                ///
                /// I/O errors, naming the file.
                pub fn write(
                    &self,
                    path: impl ::core::convert::AsRef<::hrf_runtime::__private::Path>,
                ) -> ::core::result::Result<(), ::hrf_runtime::__private::FoldedWeightsError> {
                    ::hrf_runtime::__private::folded_weights_to_file(
                        Self::PLAN,
                        ::hrf_runtime::__private::F32Arena::as_f32s(self),
                        path.as_ref(),
                    )
                }
            }
        }
    };
    quote! { #core #with_std }
}

fn layer_type_tokens(field: &FoldedField) -> TokenStream {
    let ty = format_ident!("{}", field.layer.type_name());
    let generics = field
        .layer
        .generics()
        .into_iter()
        .map(Literal::usize_unsuffixed);
    quote! { ::hrf_runtime::__private::#ty<#(#generics),*> }
}

/// `<Name>Scratch`: the folded executor's working memory at `max_frames`.
pub(super) fn scratch_struct(model: &CheckedModel, names: &Names) -> TokenStream {
    let Names { scratch, plan, .. } = names;
    let doc = doc_attrs(&format!(
        "Working memory of [`{}`]`::predict` for up to `{}::MAX_FRAMES` frames. Large (it holds \
         every intermediate at full length): prefer [`{scratch}::boxed`] on threads with small \
         stacks, or keep one in a `static`/long-lived value and reuse it across calls.",
        names.folded, model.ir.module
    ));
    // expands to:
    // #[repr(C)] pub struct ConformerLightHrfScratch([f32; scratch_len(&CONFORMER_LIGHT_HRF_PLAN)]);
    // impl ConformerLightHrfScratch { pub const LEN: usize = …; pub const fn new() -> Self { … } }
    // __with_std! { impl … { pub fn boxed() -> Box<Self> { boxed_zeroed() } } }
    quote! {
        #doc
        #[repr(C)]
        pub struct #scratch([f32; ::hrf_runtime::__private::scratch_len(&#plan)]);

        // SAFETY: `#[repr(C)]` around one `f32` array.
        unsafe impl ::hrf_runtime::__private::F32Arena for #scratch {}

        impl #scratch {
            /// Length in `f32`s.
            pub const LEN: usize = ::hrf_runtime::__private::scratch_len(&#plan);

            /// Zeroed scratch, by value (on the stack unless placed elsewhere).
            pub const fn new() -> Self {
                Self([0.0; Self::LEN])
            }
        }

        impl ::core::default::Default for #scratch {
            fn default() -> Self {
                Self::new()
            }
        }

        ::hrf_runtime::__with_std! {
            impl #scratch {
                /// Zeroed scratch allocated directly on the heap (no stack copy): use this on
                /// threads with small stacks.
                pub fn boxed() -> ::hrf_runtime::__private::Box<Self> {
                    ::hrf_runtime::__private::boxed_zeroed::<Self>()
                }
            }
        }
    }
}

/// `pub static <MODULE>: <Name>Folded` over `include_bytes!` of the folded arena (little-endian
/// `f32`s written by build.rs), plus a compile-time little-endian check.
pub(super) fn embedded_static(
    model: &CheckedModel,
    names: &Names,
    opts: &CodegenOptions,
) -> TokenStream {
    let Some(embed) = &opts.embedded_weights else {
        return TokenStream::new();
    };
    let folded = &names.folded;
    let ident: Ident = format_ident!("{}", model.ir.module.to_uppercase());
    let bytes = Literal::usize_unsuffixed(4 * model.folded.param_count() + 4 * buffers_len(model));
    let file = &embed.bin_path;
    let doc = doc_attrs(&format!(
        "`{}` with the weights of `{}` embedded in the binary (read-only data, no float \
         literals).",
        model.ir.name, embed.source
    ));
    // expands to:
    // const _: () = assert!(cfg!(target_endian = "little"), "…");
    // pub static CONFORMER_LIGHT_HRF: ConformerLightHrfFolded =
    //     unsafe { transmute::<[u8; N], ConformerLightHrfFolded>(*include_bytes!("…/conformer_light_hrf.weights.bin")) };
    quote! {
        const _: () = ::core::assert!(
            ::core::cfg!(target_endian = "little"),
            "embedded hrf weights are little-endian f32: this target is big-endian; load them with `read` instead"
        );

        #doc
        pub static #ident: #folded = {
            // SAFETY: the struct is `#[repr(C)]` f32 arrays with no padding (asserted next to
            // its definition), every bit pattern is a valid f32, and the file holds exactly the
            // folded arena as little-endian f32 (asserted above), written by build.rs.
            unsafe { ::core::mem::transmute::<[u8; #bytes], #folded>(*::core::include_bytes!(#file)) }
        };
    }
}

fn buffers_len(model: &CheckedModel) -> usize {
    model.folded.buffers().map(|s| s.len()).sum()
}
