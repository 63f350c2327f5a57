//! Stage 5 (codegen, training model): `<Name>Train`, a newtype over the runtime's plan-driven
//! training engine bound to this spec's plan, with `fold()` into `<Name>Folded`. Emitted inside
//! `::hrf_runtime::__with_std!`, so `no_std` users of the same generated file never see it.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, doc_attrs};
use crate::CheckedModel;

pub(super) fn train_struct(model: &CheckedModel, names: &Names) -> TokenStream {
    let Names {
        train,
        folded,
        plan,
        ..
    } = names;
    let doc = doc_attrs(&format!(
        "The `{}` training model (HRF layers present, Q/K/V separate): the runtime's \
         plan-driven engine bound to [`{plan}`]. Derefs to \
         [`TrainModel`](::hrf_runtime::__private::TrainModel) for `forward`, `backward`, \
         `params`, `grads` and the rest.",
        model.ir.name
    ));
    // expands to:
    // __with_std! {
    //     pub struct ConformerLightHrfTrain(TrainModel<f32>);
    //     impl ConformerLightHrfTrain { new(seed), fold(), save(path, optimizer), load(path) }
    //     impl Deref / DerefMut for ConformerLightHrfTrain { Target = TrainModel<f32> }
    // }
    quote! {
        ::hrf_runtime::__with_std! {
            #doc
            pub struct #train(::hrf_runtime::__private::TrainModel<f32>);

            impl #train {
                /// The plan this model trains.
                pub const PLAN: &'static ::hrf_runtime::__private::ModelPlan = &#plan;

                /// A model with freshly initialised weights (deterministic in `seed`).
                pub fn new(seed: u64) -> Self {
                    Self(::hrf_runtime::__private::TrainModel::new(Self::PLAN, seed))
                }

                /// The engine, by value.
                pub fn into_inner(self) -> ::hrf_runtime::__private::TrainModel<f32> {
                    self.0
                }

                /// Applies every fold (HRF into W1, LayerNorm γ/β into the next linear,
                /// BatchNorm into the depthwise conv, CMVN into the first conv, Q/K/V fused) and
                /// returns the deployed model, allocated on the heap.
                ///
                /// # Errors
                ///
                /// When a fold cannot be applied (e.g. a zero CMVN standard deviation).
                #[allow(clippy::result_large_err)] // the runtime's error type, names both tensors
                pub fn fold(
                    &self,
                ) -> ::core::result::Result<
                    ::hrf_runtime::__private::Box<#folded>,
                    ::hrf_runtime::__private::FoldError,
                > {
                    let arena = ::hrf_runtime::__private::fold_model(
                        Self::PLAN,
                        self.0.params(),
                        self.0.buffers(),
                    )?;
                    ::core::result::Result::Ok(::hrf_runtime::__private::boxed_from_f32s::<#folded>(&arena)?)
                }

                /// Saves parameters, buffers and (for exact resume) the optimizer state as a
                /// safetensors checkpoint: layout names, spec name, hash and dims as metadata;
                /// atomic write.
                ///
                /// # Errors
                ///
                /// I/O errors, naming the file.
                pub fn save(
                    &self,
                    path: impl ::core::convert::AsRef<::hrf_runtime::__private::Path>,
                    optimizer: ::core::option::Option<&::hrf_runtime::__private::Optimizer>,
                ) -> ::core::result::Result<(), ::hrf_runtime::__private::TrainError> {
                    self.0.save(path.as_ref(), optimizer)
                }

                /// Loads a checkpoint written by [`Self::save`]; also returns the optimizer
                /// state it holds, if any (for `Optimizer::from_state`).
                ///
                /// # Errors
                ///
                /// I/O errors, or a checkpoint of another spec (the message names both).
                pub fn load(
                    path: impl ::core::convert::AsRef<::hrf_runtime::__private::Path>,
                ) -> ::core::result::Result<
                    (Self, ::core::option::Option<::hrf_runtime::__private::AdamWState>),
                    ::hrf_runtime::__private::TrainError,
                > {
                    let mut engine = ::hrf_runtime::__private::TrainModel::try_new(Self::PLAN, 0)?;
                    let optimizer = engine.load(path.as_ref())?;
                    ::core::result::Result::Ok((Self(engine), optimizer))
                }
            }

            impl ::core::ops::Deref for #train {
                type Target = ::hrf_runtime::__private::TrainModel<f32>;
                fn deref(&self) -> &Self::Target {
                    &self.0
                }
            }

            impl ::core::ops::DerefMut for #train {
                fn deref_mut(&mut self) -> &mut Self::Target {
                    &mut self.0
                }
            }
        }
    }
}
