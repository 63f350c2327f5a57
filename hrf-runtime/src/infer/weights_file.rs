//! Folded inference, weight files: the folded arena written as safetensors (one tensor per
//! folded slot, named and shaped as the layout table) with the spec's identity as metadata, and
//! read back with every mismatch reported against the file. `hrf export` writes these; build.rs
//! embedding and `<Name>Folded::read` read them.

use std::boxed::Box;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::layers::{ArenaLenError, F32Arena, boxed_from_f32s};
use crate::plan::{ModelPlan, SlotPlan};

/// Largest magnitude a stored weight may have. Trained hrf weights stay within a few tens
/// (AdamW with weight decay and gradient clipping); folding CMVN (÷σ) and BatchNorm (γ/σ) into a
/// conv scales them by at most a few hundred. A value past ±1e6 is a corrupt or edited file —
/// one such weight saturates every logit (all predictions the same class).
pub const MAX_WEIGHT_MAGNITUDE: f32 = 1e6;
/// Largest magnitude a stored buffer may have: CMVN statistics of log-Mel features (means and
/// deviations of natural-log energies, |x| < 100) and BatchNorm running means and variances of
/// activations (a variance of 1e8 is an activation of 1e4, far past any trained model).
pub const MAX_BUFFER_MAGNITUDE: f32 = 1e8;

/// Index of the first value of `values` that is non-finite or beyond `±limit`.
pub fn first_unusable(values: &[f32], limit: f32) -> Option<usize> {
    values
        .iter()
        .position(|x| !x.is_finite() || x.abs() > limit)
}

/// The `format` metadata value of a folded weight file.
pub const FOLDED_FORMAT: &str = "hrf-folded-v1";

/// Why a folded weight file could not be written or read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum FoldedWeightsError {
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{}: not a readable safetensors file ({problem}); export the weights again", path.display())]
    Format { path: PathBuf, problem: String },
    #[error(
        "{}: metadata format is {found:?}, not \"{FOLDED_FORMAT}\"; this is not a folded weight \
         file (a training checkpoint? fold it with `hrf export`)",
        path.display()
    )]
    NotFolded {
        path: PathBuf,
        found: Option<String>,
    },
    #[error(
        "{}: the weights are for spec `{file_spec}` (hash {file_hash}) but this model is `{spec}` \
         (hash {hash}); export them from a checkpoint of `{spec}`, or build the model from the \
         spec they came from",
        path.display()
    )]
    WrongSpec {
        path: PathBuf,
        file_spec: String,
        file_hash: String,
        spec: String,
        hash: String,
    },
    #[error("{}: tensor `{name}`: {problem}", path.display())]
    Tensor {
        path: PathBuf,
        name: String,
        problem: String,
    },
    #[error(
        "{}: the arena has {got} f32s but `{spec}`'s folded table has {expected}; pass the output \
         of fold_model for this spec",
        path.display()
    )]
    ArenaLength {
        path: PathBuf,
        spec: String,
        expected: usize,
        got: usize,
    },
    #[error(
        "{}: `{spec}`'s folded table declares {declared} bytes of weights but the file holds only \
         {got} bytes; the file is truncated: export the weights again",
        path.display()
    )]
    TooSmall {
        path: PathBuf,
        spec: String,
        declared: u64,
        got: usize,
    },
    #[error(transparent)]
    Arena(#[from] ArenaLenError),
}

/// Every folded slot with its offset in the whole arena (buffers shifted past the params).
fn arena_slots(plan: &ModelPlan) -> impl Iterator<Item = (usize, &'static SlotPlan)> {
    let params_len = plan.folded.params_len();
    let params = plan.folded.params.iter().map(|s| (s.offset, s));
    let buffers = plan
        .folded
        .buffers
        .iter()
        .map(move |s| (params_len + s.offset, s));
    params.chain(buffers)
}

/// `"…"` with JSON escapes.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The metadata a folded file carries: format, spec name and hash, dims (JSON object), classes
/// (JSON array).
fn metadata(plan: &ModelPlan) -> HashMap<String, String> {
    let mut dims = String::from("{");
    for (i, (name, value)) in plan.dims.iter().enumerate() {
        if i > 0 {
            dims.push(',');
        }
        json_string(&mut dims, name);
        let _ = write!(dims, ":{value}");
    }
    dims.push('}');
    let mut classes = String::from("[");
    for (i, c) in plan.classes.iter().enumerate() {
        if i > 0 {
            classes.push(',');
        }
        json_string(&mut classes, c);
    }
    classes.push(']');
    HashMap::from([
        ("format".to_string(), FOLDED_FORMAT.to_string()),
        ("spec_name".to_string(), plan.name.to_string()),
        ("spec_hash".to_string(), plan.spec_hash.to_string()),
        ("dims".to_string(), dims),
        ("classes".to_string(), classes),
    ])
}

/// Writes the folded arena `weights` (`plan.folded` params, then buffers) to `path` as
/// safetensors, atomically (a temporary file in the same directory, fsync, rename).
///
/// # Errors
/// A wrong arena length, or I/O errors naming the file.
pub fn folded_weights_to_file(
    plan: &ModelPlan,
    weights: &[f32],
    path: &Path,
) -> Result<(), FoldedWeightsError> {
    let expected = plan.folded.params_len() + plan.folded.buffers_len();
    if weights.len() != expected {
        return Err(FoldedWeightsError::ArenaLength {
            path: path.to_path_buf(),
            spec: plan.name.to_string(),
            expected,
            got: weights.len(),
        });
    }
    let bytes: Vec<u8> = weights.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut views = Vec::new();
    for (offset, slot) in arena_slots(plan) {
        let data = &bytes[4 * offset..4 * (offset + slot.len())];
        let view = TensorView::new(Dtype::F32, slot.shape.to_vec(), data).map_err(|e| {
            FoldedWeightsError::Tensor {
                path: path.to_path_buf(),
                name: slot.name.to_string(),
                problem: e.to_string(),
            }
        })?;
        views.push((slot.name, view));
    }
    let file = safetensors::serialize(views, Some(metadata(plan))).map_err(|e| {
        FoldedWeightsError::Format {
            path: path.to_path_buf(),
            problem: e.to_string(),
        }
    })?;
    let io = |action| {
        move |source| FoldedWeightsError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    crate::atomic_file::write_atomically(path, &file)
        .map_err(io("writing (temporary file, fsync, rename)"))
}

/// Reads a folded weight file written by [`folded_weights_to_file`] into the flat folded arena,
/// checking its format, spec name and hash, and every tensor's presence, dtype and shape.
///
/// # Errors
/// I/O, format and every mismatch with `plan`, naming the file (and the tensor).
pub fn read_folded_weights(plan: &ModelPlan, path: &Path) -> Result<Vec<f32>, FoldedWeightsError> {
    let bytes = std::fs::read(path).map_err(|source| FoldedWeightsError::Io {
        path: path.to_path_buf(),
        action: "reading",
        source,
    })?;
    folded_weights_from_bytes(plan, &bytes, path)
}

/// [`read_folded_weights`] straight into a heap `T` (a generated `<Name>Folded`).
///
/// # Errors
/// As [`read_folded_weights`], or when `T` is not this plan's folded arena.
pub fn read_folded_weights_boxed<T: F32Arena>(
    plan: &ModelPlan,
    path: &Path,
) -> Result<Box<T>, FoldedWeightsError> {
    let weights = read_folded_weights(plan, path)?;
    Ok(boxed_from_f32s::<T>(&weights)?)
}

/// Parses and checks the bytes of a folded weight file (`path` only names it in errors).
pub fn folded_weights_from_bytes(
    plan: &ModelPlan,
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<f32>, FoldedWeightsError> {
    let format_err = |e: safetensors::SafeTensorError| FoldedWeightsError::Format {
        path: path.to_path_buf(),
        problem: e.to_string(),
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(format_err)?;
    let meta = header.metadata().clone().unwrap_or_default();
    let format = meta.get("format");
    if format.map(String::as_str) != Some(FOLDED_FORMAT) {
        return Err(FoldedWeightsError::NotFolded {
            path: path.to_path_buf(),
            found: format.cloned(),
        });
    }
    let get = |k: &str| meta.get(k).cloned().unwrap_or_else(|| "(none)".to_string());
    let (file_spec, file_hash) = (get("spec_name"), get("spec_hash"));
    if file_spec != plan.name || file_hash != plan.spec_hash {
        return Err(FoldedWeightsError::WrongSpec {
            path: path.to_path_buf(),
            file_spec,
            file_hash,
            spec: plan.name.to_string(),
            hash: plan.spec_hash.to_string(),
        });
    }
    let tensors = SafeTensors::deserialize(bytes).map_err(format_err)?;
    let tensor_err = |name: &str, problem: String| FoldedWeightsError::Tensor {
        path: path.to_path_buf(),
        name: name.to_string(),
        problem,
    };
    let floats = plan.folded.params_len() + plan.folded.buffers_len();
    // Every slot's bytes must lie in the file before the arena is allocated.
    let declared = (floats as u64).saturating_mul(4);
    if declared > bytes.len() as u64 {
        return Err(FoldedWeightsError::TooSmall {
            path: path.to_path_buf(),
            spec: plan.name.to_string(),
            declared,
            got: bytes.len(),
        });
    }
    let mut weights = std::vec![0.0f32; floats];
    for (offset, slot) in arena_slots(plan) {
        let view = tensors.tensor(slot.name).map_err(|_| {
            tensor_err(
                slot.name,
                "missing; the file does not hold this model's layers".into(),
            )
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(tensor_err(
                slot.name,
                std::format!("dtype {:?}, expected F32", view.dtype()),
            ));
        }
        if view.shape() != slot.shape {
            return Err(tensor_err(
                slot.name,
                std::format!("shape {:?}, expected {:?}", view.shape(), slot.shape),
            ));
        }
        let out = &mut weights[offset..offset + slot.len()];
        for (w, b) in out.iter_mut().zip(view.data().chunks_exact(4)) {
            *w = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        if let Some(i) = first_unusable(out, MAX_WEIGHT_MAGNITUDE) {
            let what = if out[i].is_finite() {
                std::format!(
                    "holds {:e} at index {i}, beyond ±{MAX_WEIGHT_MAGNITUDE:e} (no trained hrf \
                     model has such a weight)",
                    out[i]
                )
            } else {
                std::format!("holds a non-finite value ({}) at index {i}", out[i])
            };
            return Err(tensor_err(
                slot.name,
                std::format!(
                    "{what}; the file is corrupt: export the weights again from a good checkpoint"
                ),
            ));
        }
    }
    let expected = arena_slots(plan).count();
    if tensors.len() != expected {
        let extra = tensors
            .names()
            .into_iter()
            .find(|n| !arena_slots(plan).any(|(_, s)| s.name == *n))
            .unwrap_or("?")
            .to_string();
        return Err(tensor_err(
            &extra,
            "not a layer of this model; the file was written for another layout".into(),
        ));
    }
    Ok(weights)
}
