//! Build-time embedding (build.rs): a folded-weights safetensors file → the folded arena as
//! little-endian `f32` bytes, after checking that the file was exported for exactly this spec.
//!
//! The file is what the runtime's folded-weights writer produces (`hrf export`,
//! `<Name>Folded::write`): one `F32` tensor per folded slot, named as in the folded layout
//! table, with metadata `format = "hrf-folded-v1"`, `spec_name`, `spec_hash`, `dims` (a JSON
//! object) and `classes` (a JSON array).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::CheckedModel;

/// `format` metadata of folded-weights files.
pub const FOLDED_FORMAT: &str = "hrf-folded-v1";

/// Why a weights file cannot be embedded for a spec. Every message names the file and says
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read weights file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a safetensors file ({reason}): embed a file written by `hrf export` or `<Name>Folded::write`"
    )]
    NotSafetensors { path: PathBuf, reason: String },
    #[error(
        "{path} is not an hrf folded-weights file (metadata `format` is {found}, expected `{FOLDED_FORMAT}`): a training checkpoint must be folded first, with `hrf export --model <run> --out {path}`"
    )]
    WrongFormat { path: PathBuf, found: String },
    #[error(
        "{path} lacks the `{key}` metadata of folded-weights files: re-export it with `hrf export --model <run> --out {path}`"
    )]
    MissingMetadata { path: PathBuf, key: &'static str },
    #[error(
        "{path} holds weights of model `{file_model}`, but {spec} declares `{spec_model}`: embed the weights exported for `{spec_model}`, or name the right model in `embed_weights`"
    )]
    OtherModel {
        path: PathBuf,
        file_model: String,
        spec: String,
        spec_model: String,
    },
    #[error(
        "weights in {path} were exported with dims {file_dims} but {spec} now declares {spec_dims}: re-run `hrf export --model <run> --out {path}` with a model trained on the current spec, or restore the spec"
    )]
    DimsDiffer {
        path: PathBuf,
        spec: String,
        file_dims: String,
        spec_dims: String,
    },
    #[error(
        "weights in {path} were exported for classes {file_classes} but {spec} now lists {spec_classes}: re-export from a model trained on the current spec, or restore the class list"
    )]
    ClassesDiffer {
        path: PathBuf,
        spec: String,
        file_classes: String,
        spec_classes: String,
    },
    #[error(
        "weights were exported for spec {spec_name} (hash {file_hash}) but {spec} now hashes to {spec_hash}: re-run `hrf export --model <run> --out {path}` or restore the spec"
    )]
    HashDiffer {
        path: PathBuf,
        spec: String,
        spec_name: String,
        file_hash: String,
        spec_hash: String,
    },
    #[error(
        "{path} has no tensor `{name}` {expected:?}, which {spec} needs: re-export the weights for the current spec"
    )]
    MissingTensor {
        path: PathBuf,
        spec: String,
        name: String,
        expected: Vec<usize>,
    },
    #[error(
        "{path} has tensor `{name}`, which the folded layout of {spec} does not: re-export the weights for the current spec"
    )]
    ExtraTensor {
        path: PathBuf,
        spec: String,
        name: String,
    },
    #[error(
        "tensor `{name}` in {path} has shape {found:?} but {spec} expects {expected:?}: re-export the weights for the current spec"
    )]
    WrongShape {
        path: PathBuf,
        spec: String,
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("tensor `{name}` in {path} is {found}, expected F32: write it with `hrf export`")]
    WrongDtype {
        path: PathBuf,
        name: String,
        found: String,
    },
    #[error(
        "tensor `{name}` in {path} holds a non-finite value at index {index}: the exported model diverged; retrain or export another checkpoint"
    )]
    NonFinite {
        path: PathBuf,
        name: String,
        index: usize,
    },
}

/// The folded arena of `model` (params, then buffers, in table order) as little-endian `f32`
/// bytes, read from the safetensors file at `path`. `spec` names the spec in messages.
pub fn folded_arena_bytes(
    model: &CheckedModel,
    spec: &str,
    path: &Path,
) -> Result<Vec<u8>, WeightsError> {
    let bytes = std::fs::read(path).map_err(|source| WeightsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| WeightsError::NotSafetensors {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| WeightsError::NotSafetensors {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let empty = std::collections::HashMap::new();
    let metadata = header.metadata().as_ref().unwrap_or(&empty);
    check_identity(model, spec, path, metadata)?;

    let slots: Vec<_> = model
        .folded
        .params()
        .chain(model.folded.buffers())
        .collect();
    let mut out = Vec::with_capacity(4 * slots.iter().map(|s| s.len()).sum::<usize>());
    for slot in &slots {
        let view = tensors
            .tensor(&slot.name)
            .map_err(|_| WeightsError::MissingTensor {
                path: path.to_path_buf(),
                spec: spec.to_string(),
                name: slot.name.clone(),
                expected: slot.shape.clone(),
            })?;
        if view.dtype() != Dtype::F32 {
            return Err(WeightsError::WrongDtype {
                path: path.to_path_buf(),
                name: slot.name.clone(),
                found: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != slot.shape.as_slice() {
            return Err(WeightsError::WrongShape {
                path: path.to_path_buf(),
                spec: spec.to_string(),
                name: slot.name.clone(),
                found: view.shape().to_vec(),
                expected: slot.shape.clone(),
            });
        }
        // safetensors stores little-endian values: the bytes are copied as they are.
        let data = view.data();
        if let Some(index) = data
            .chunks_exact(4)
            .position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
        {
            return Err(WeightsError::NonFinite {
                path: path.to_path_buf(),
                name: slot.name.clone(),
                index,
            });
        }
        out.extend_from_slice(data);
    }
    if let Some(extra) = tensors
        .names()
        .into_iter()
        .find(|name| !slots.iter().any(|s| s.name == *name))
    {
        return Err(WeightsError::ExtraTensor {
            path: path.to_path_buf(),
            spec: spec.to_string(),
            name: extra.to_string(),
        });
    }
    Ok(out)
}

/// Format, model name, dims, classes, then the spec hash (which also covers block kinds and
/// options), so the message names the most specific difference.
fn check_identity(
    model: &CheckedModel,
    spec: &str,
    path: &Path,
    metadata: &std::collections::HashMap<String, String>,
) -> Result<(), WeightsError> {
    let get = |key: &'static str| {
        metadata
            .get(key)
            .ok_or_else(|| WeightsError::MissingMetadata {
                path: path.to_path_buf(),
                key,
            })
    };
    let format = metadata.get("format");
    if format.map(String::as_str) != Some(FOLDED_FORMAT) {
        return Err(WeightsError::WrongFormat {
            path: path.to_path_buf(),
            found: format.map_or("missing".to_string(), |f| format!("`{f}`")),
        });
    }
    let ir = &model.ir;
    let file_model = get("spec_name")?;
    if *file_model != ir.name {
        return Err(WeightsError::OtherModel {
            path: path.to_path_buf(),
            file_model: file_model.clone(),
            spec: spec.to_string(),
            spec_model: ir.name.clone(),
        });
    }
    let spec_dims: BTreeMap<String, i64> = ir.dims.iter().cloned().collect();
    let file_dims: Option<BTreeMap<String, i64>> = serde_json::from_str(get("dims")?).ok();
    if file_dims.as_ref() != Some(&spec_dims) {
        return Err(WeightsError::DimsDiffer {
            path: path.to_path_buf(),
            spec: spec.to_string(),
            file_dims: get("dims")?.clone(),
            spec_dims: serde_json::to_string(&spec_dims).unwrap_or_default(),
        });
    }
    let file_classes: Option<Vec<String>> = serde_json::from_str(get("classes")?).ok();
    if file_classes.as_ref() != Some(&ir.classes) {
        return Err(WeightsError::ClassesDiffer {
            path: path.to_path_buf(),
            spec: spec.to_string(),
            file_classes: get("classes")?.clone(),
            spec_classes: serde_json::to_string(&ir.classes).unwrap_or_default(),
        });
    }
    let file_hash = get("spec_hash")?;
    let spec_hash = model.spec_hash();
    if *file_hash != spec_hash {
        return Err(WeightsError::HashDiffer {
            path: path.to_path_buf(),
            spec: spec.to_string(),
            spec_name: ir.name.clone(),
            file_hash: file_hash.clone(),
            spec_hash,
        });
    }
    Ok(())
}
