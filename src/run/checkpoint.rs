//! Run files: the checkpoint format — a training model's params and buffers (one safetensors
//! tensor per layout slot), optionally the AdamW moments and the loop position for an exact
//! resume, and the spec text itself so that a checkpoint is self-contained.
//!
//! Tensors: `<slot>` for every train-table param and buffer (`encoder.0.ffn1.w1.weight`,
//! `frontend.norm.mean`…), and with optimizer state `optimizer.m.<param slot>` / `optimizer.v.<param
//! slot>`. Metadata: `format` = `hrf-train-v1`, `spec_name`, `spec_hash`, `dims` (JSON object),
//! `step`, `optimizer_step` — exactly the training engine's checkpoint
//! (`hrf_runtime::train::TrainState`), which can read these files — plus the CLI's own keys
//! `spec_yaml`, `spec_path`, `classes` (JSON array) and, for resume, `progress` (JSON).
//!
//! Optional group (runs with a weight EMA, in `state.safetensors` only): `ema.<slot>` for every
//! param and buffer slot, flagged by the metadata key `ema` = `params+buffers`. Files without
//! the key (older runs, runs without EMA, `best.safetensors`, which holds the EMA weights as its
//! plain weights) load with `ema: None`; readers that do not know the group ignore it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hrf_runtime::optim::AdamWState;
use hrf_runtime::plan::{ModelPlan, SlotPlan};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::atomic::write_atomic;
use super::progress::TrainProgress;
use super::{RunError, SpecSource};

/// Value of the `ema` metadata key of a checkpoint holding the EMA group.
pub const EMA_GROUP: &str = "params+buffers";

/// The shadow (EMA) copy of a training model's params and buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct EmaWeights {
    /// (train params arena).
    pub params: Vec<f32>,
    /// (train buffers arena).
    pub buffers: Vec<f32>,
}

/// Value of the `format` metadata key.
pub const TRAIN_FORMAT: &str = "hrf-train-v1"; // = hrf_runtime::train::CHECKPOINT_FORMAT

/// Everything a checkpoint holds.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub spec: SpecSource,
    pub plan: &'static ModelPlan,
    /// (train params arena) — in `plan.train.params` order.
    pub params: Vec<f32>,
    /// (train buffers arena) — CMVN statistics, BatchNorm running statistics…
    pub buffers: Vec<f32>,
    /// AdamW moments and step (resume only).
    pub optimizer: Option<AdamWState>,
    /// Optimizer steps the model had taken.
    pub step: u64,
    /// Where the training loop stood (resume only).
    pub progress: Option<TrainProgress>,
    /// The weight EMA (resume of a run with `--ema-decay` > 0 only).
    pub ema: Option<EmaWeights>,
}

impl Checkpoint {
    /// Serialises to safetensors bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RunError> {
        let plan = self.plan;
        let mut tensors: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
        push_slots(&mut tensors, "", plan.train.params, &self.params);
        push_slots(&mut tensors, "", plan.train.buffers, &self.buffers);
        if let Some(opt) = &self.optimizer {
            push_slots(&mut tensors, "optimizer.m.", plan.train.params, &opt.m);
            push_slots(&mut tensors, "optimizer.v.", plan.train.params, &opt.v);
        }
        if let Some(ema) = &self.ema {
            push_slots(&mut tensors, "ema.", plan.train.params, &ema.params);
            push_slots(&mut tensors, "ema.", plan.train.buffers, &ema.buffers);
        }
        let views = tensors
            .iter()
            .map(|(name, bytes, shape)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RunError::Encode(e.to_string()))?;
        let mut meta = HashMap::new();
        meta.insert("format".to_owned(), TRAIN_FORMAT.to_owned());
        meta.insert("spec_name".to_owned(), plan.name.to_owned());
        meta.insert("spec_hash".to_owned(), plan.spec_hash.to_owned());
        meta.insert("spec_path".to_owned(), self.spec.label.clone());
        meta.insert("spec_yaml".to_owned(), self.spec.text.clone());
        meta.insert("dims".to_owned(), dims_json(plan));
        meta.insert(
            "classes".to_owned(),
            serde_json::to_string(plan.classes).unwrap_or_default(),
        );
        meta.insert("step".to_owned(), self.step.to_string());
        if let Some(opt) = &self.optimizer {
            meta.insert("optimizer_step".to_owned(), opt.step.to_string());
        }
        if self.ema.is_some() {
            meta.insert("ema".to_owned(), EMA_GROUP.to_owned());
        }
        if let Some(progress) = &self.progress {
            meta.insert(
                "progress".to_owned(),
                serde_json::to_string(progress).map_err(|e| RunError::Encode(e.to_string()))?,
            );
        }
        let bytes = safetensors::tensor::serialize(views, Some(meta))
            .map_err(|e| RunError::Encode(e.to_string()))?;
        canonical_header(&bytes)
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<(), RunError> {
        write_atomic(path, &self.to_bytes()?)
    }

    /// Reads a checkpoint; its spec is rebuilt from the embedded YAML. With `expected`, a
    /// checkpoint of another spec is refused naming both.
    pub fn load(path: &Path, expected: Option<&ModelPlan>) -> Result<Checkpoint, RunError> {
        let bytes = std::fs::read(path).map_err(|source| RunError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| RunError::BadCheckpoint {
            path: path.to_path_buf(),
            reason,
        };
        let (_, metadata) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .cloned()
                .ok_or_else(|| bad(format!("metadata key `{key}` is missing")))
        };
        let format = get("format")?;
        if format == hrf_runtime::infer::FOLDED_FORMAT {
            return Err(bad(format!(
                "it is a folded weight file (`{format}`, written by `hrf fold` or `hrf export`), \
                 for embedding in a crate with build.rs; eval, fold, export and bench read a \
                 training checkpoint: pass the run directory or its {}",
                super::BEST_FILE
            )));
        }
        if format != TRAIN_FORMAT {
            return Err(bad(format!(
                "format `{format}`, expected `{TRAIN_FORMAT}` (a training checkpoint written by \
                 `hrf train`); pass the run directory or its {}",
                super::BEST_FILE
            )));
        }
        let spec = SpecSource {
            label: get("spec_path")?,
            text: get("spec_yaml")?,
        };
        let hash = get("spec_hash")?;
        let name = get("spec_name")?;
        if let Some(plan) = expected
            && plan.spec_hash != hash
        {
            return Err(RunError::WrongSpec {
                path: path.to_path_buf(),
                checkpoint: format!("{name} (hash {hash})"),
                given: format!("{} (hash {})", plan.name, plan.spec_hash),
            });
        }
        let plan = spec
            .plan()
            .map_err(|e| bad(format!("its embedded spec does not compile:\n{e}")))?;
        if plan.spec_hash != hash {
            return Err(bad(format!(
                "its embedded spec hashes to {} but the file records {hash}; it was written by \
                 another hrf version — retrain or use the matching hrf",
                plan.spec_hash
            )));
        }
        // The arenas below are sized by the embedded spec, which anyone can edit: before
        // allocating them, the tensors it declares must fit in the file (each tensor's shape is
        // then checked against its slot, and safetensors checks its bytes lie in the file).
        let with_optimizer = meta.contains_key("optimizer_step");
        let with_ema = match meta.get("ema").map(String::as_str) {
            None => false,
            Some(EMA_GROUP) => true,
            Some(other) => {
                return Err(bad(format!(
                    "metadata `ema` is `{other}`, expected `{EMA_GROUP}`; the file was edited or \
                     written by a newer hrf"
                )));
            }
        };
        let declared = declared_bytes(plan, with_optimizer)
            + if with_ema {
                declared_bytes(plan, false)
            } else {
                0
            };
        if declared > bytes.len() as u128 {
            return Err(bad(format!(
                "its embedded spec `{}` (dims {}) declares {declared} bytes of tensors{}, but the \
                 file holds only {} bytes; the file is truncated or its spec was edited — re-copy \
                 it, or use another checkpoint of the run",
                plan.name,
                dims_json(plan),
                if with_optimizer {
                    " (weights, buffers and AdamW moments)"
                } else {
                    ""
                },
                bytes.len()
            )));
        }
        let tensors = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        // Weights and buffers past these bounds are refused as corrupt: no training run
        // reaches them (see `MAX_WEIGHT_MAGNITUDE`), and one of them saturates every logit.
        use hrf_runtime::infer::weights_file::{
            MAX_BUFFER_MAGNITUDE, MAX_WEIGHT_MAGNITUDE, first_unusable,
        };
        let read = |prefix: &str,
                    slots: &[SlotPlan],
                    len: usize,
                    limit: f32|
         -> Result<Vec<f32>, RunError> {
            let mut out = vec![0.0f32; len];
            for slot in slots {
                let name = format!("{prefix}{}", slot.name);
                let view = tensors
                    .tensor(&name)
                    .map_err(|_| bad(format!("tensor `{name}` is missing")))?;
                if view.dtype() != Dtype::F32 || view.shape() != slot.shape {
                    return Err(bad(format!(
                        "tensor `{name}` is {:?} {:?}, expected F32 {:?}",
                        view.dtype(),
                        view.shape(),
                        slot.shape
                    )));
                }
                for (dst, src) in out[slot.range()]
                    .iter_mut()
                    .zip(view.data().chunks_exact(4))
                {
                    *dst = f32::from_le_bytes([src[0], src[1], src[2], src[3]]);
                }
                let values = &out[slot.range()];
                if let Some(i) = first_unusable(values, limit) {
                    return Err(bad(if values[i].is_finite() {
                        format!(
                            "tensor `{name}` holds {:e} at index {i}, beyond ±{limit:e} (no trained \
                             hrf model has such a value); the file is corrupt or was edited — use \
                             another checkpoint of the run, or retrain",
                            values[i]
                        )
                    } else {
                        format!(
                            "tensor `{name}` holds a non-finite value ({}) at index {i}; the file is \
                             corrupt (training stops before it saves non-finite weights) — use \
                             another checkpoint of the run, or retrain",
                            values[i]
                        )
                    }));
                }
            }
            Ok(out)
        };
        let params = read(
            "",
            plan.train.params,
            plan.train.params_len(),
            MAX_WEIGHT_MAGNITUDE,
        )?;
        let buffers = read(
            "",
            plan.train.buffers,
            plan.train.buffers_len(),
            MAX_BUFFER_MAGNITUDE,
        )?;
        let optimizer = match meta.get("optimizer_step") {
            Some(step) => Some(AdamWState {
                // Moments of clipped gradients: m like a weight, v (its square) up to the square.
                m: read(
                    "optimizer.m.",
                    plan.train.params,
                    plan.train.params_len(),
                    MAX_WEIGHT_MAGNITUDE,
                )?,
                v: read(
                    "optimizer.v.",
                    plan.train.params,
                    plan.train.params_len(),
                    MAX_WEIGHT_MAGNITUDE * MAX_WEIGHT_MAGNITUDE,
                )?,
                step: step
                    .parse()
                    .map_err(|_| bad(format!("optimizer_step `{step}` is not a number")))?,
            }),
            None => None,
        };
        let ema = if with_ema {
            Some(EmaWeights {
                params: read(
                    "ema.",
                    plan.train.params,
                    plan.train.params_len(),
                    MAX_WEIGHT_MAGNITUDE,
                )?,
                buffers: read(
                    "ema.",
                    plan.train.buffers,
                    plan.train.buffers_len(),
                    MAX_BUFFER_MAGNITUDE,
                )?,
            })
        } else {
            None
        };
        let progress = match meta.get("progress") {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| bad(format!("progress record is not valid: {e}")))?,
            ),
            None => None,
        };
        let step = match meta.get("step") {
            Some(step) => step
                .parse()
                .map_err(|_| bad(format!("step `{step}` is not a number")))?,
            None => 0,
        };
        Ok(Checkpoint {
            spec,
            plan,
            params,
            buffers,
            optimizer,
            step,
            progress,
            ema,
        })
    }
}

/// Bytes of F32 tensor data a checkpoint of `plan` holds: params and buffers, plus the two
/// AdamW moments of every param `with_optimizer` (exact, in u128: a hostile spec cannot wrap it).
fn declared_bytes(plan: &ModelPlan, with_optimizer: bool) -> u128 {
    let params = plan.train.params_len() as u128;
    let moments = if with_optimizer { 2 * params } else { 0 };
    4 * (params + plan.train.buffers_len() as u128 + moments)
}

/// Rewrites a safetensors file's JSON header with sorted keys (the metadata is a `HashMap`,
/// whose order changes from process to process), so that equal checkpoints are equal bytes:
/// a resumed run can then be compared with an uninterrupted one byte for byte. The header is
/// padded with spaces to a multiple of 8 bytes, as the safetensors writer does; tensor data and
/// offsets are unchanged.
fn canonical_header(bytes: &[u8]) -> Result<Vec<u8>, RunError> {
    let bad = |what: &str| RunError::Encode(format!("safetensors header: {what}"));
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("file shorter than 8 bytes"))?;
    let header_len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| bad("too long"))?;
    let header = bytes
        .get(8..8 + header_len)
        .ok_or_else(|| bad("length past the end"))?;
    let parsed: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    // Nested objects (`__metadata__`, each tensor's info) sorted too.
    let sorted: std::collections::BTreeMap<String, serde_json::Value> =
        parsed.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
    let mut text = serde_json::to_vec(&sorted).map_err(|e| bad(&e.to_string()))?;
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
}

/// A JSON value with every object's keys in sorted order.
fn sort_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            serde_json::to_value(sorted).unwrap_or(serde_json::Value::Null)
        }
        other => other,
    }
}

/// `{"d": 64, "heads": 4, …}` in spec order.
pub fn dims_json(plan: &ModelPlan) -> String {
    let map: serde_json::Map<String, serde_json::Value> = plan
        .dims
        .iter()
        .map(|(n, v)| ((*n).to_owned(), serde_json::Value::from(*v)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Appends one little-endian F32 tensor per slot.
fn push_slots(
    out: &mut Vec<(String, Vec<u8>, Vec<usize>)>,
    prefix: &str,
    slots: &[SlotPlan],
    arena: &[f32],
) {
    for slot in slots {
        let bytes = arena[slot.range()]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        out.push((format!("{prefix}{}", slot.name), bytes, slot.shape.to_vec()));
    }
}

/// The checkpoint a `--model` argument names: a run directory means its `best.safetensors`.
pub fn resolve_model_path(model: &Path) -> Result<PathBuf, RunError> {
    if model.is_dir() {
        let best = model.join(super::BEST_FILE);
        if best.is_file() {
            return Ok(best);
        }
        return Err(RunError::NoCheckpointInDir {
            dir: model.to_path_buf(),
        });
    }
    if !model.exists() {
        return Err(RunError::MissingModel {
            path: model.to_path_buf(),
        });
    }
    Ok(model.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(d: usize) -> SpecSource {
        SpecSource {
            label: format!("tiny{d}.yaml"),
            text: format!(
                "name: Tiny{d}\ninput: {{ features: 8, max_frames: 32 }}\ndims: {{ d: {d}, heads: 2, ffn: 16 }}\n\
                 frontend:\n  conv_subsample: {{ layers: 2, channels: d, kernel: 3, stride: 2 }}\n  positions: sinusoidal\n\
                 encoder:\n  - repeat: 1\n    block: conformer\n    attention: {{ heads: heads }}\n\
                 \x20   ffn: {{ hidden: ffn, act: swish, hrf: {{ expand: 2 }} }}\n    conv: {{ kernel: 3 }}\n\
                 pool: mean\nclasses: [a, b]\n"
            ),
        }
    }

    #[test]
    fn checkpoints_round_trip_as_canonical_bytes_and_refuse_another_spec() {
        let source = spec(8);
        let plan = source.plan().unwrap();
        let (np, nb) = (plan.train.params_len(), plan.train.buffers_len());
        let ckpt = Checkpoint {
            spec: source.clone(),
            plan,
            params: (0..np).map(|i| i as f32 * 0.25 - 3.0).collect(),
            buffers: (0..nb).map(|i| 1.0 + i as f32).collect(),
            optimizer: Some(AdamWState {
                m: vec![0.5; np],
                v: vec![0.125; np],
                step: 9,
            }),
            step: 9,
            progress: Some(TrainProgress {
                epoch: 2,
                step_in_epoch: 3,
                global_step: 9,
                epoch_loss_sum: 0.1 + 0.2,
                ..TrainProgress::default()
            }),
            ema: None,
        };
        // The metadata is a HashMap (random order per instance): the bytes must not depend on it.
        let bytes = ckpt.to_bytes().unwrap();
        for _ in 0..4 {
            assert!(ckpt.to_bytes().unwrap() == bytes);
        }
        let dir = std::env::temp_dir().join(format!("hrf-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.safetensors");
        ckpt.save(&path).unwrap();
        let back = Checkpoint::load(&path, Some(plan)).unwrap();
        assert_eq!(back.params, ckpt.params);
        assert_eq!(back.buffers, ckpt.buffers);
        assert_eq!(back.optimizer, ckpt.optimizer);
        assert_eq!(back.progress, ckpt.progress);
        assert_eq!((back.step, back.plan.spec_hash), (9, plan.spec_hash));
        // The training engine reads the same file.
        let state = hrf_runtime::train::TrainState::load(plan, &path).unwrap();
        assert_eq!(state.params, ckpt.params);
        assert_eq!(back.ema, None);
        // With the EMA group: round trip; the engine's reader still reads the file.
        let with_ema = Checkpoint {
            ema: Some(EmaWeights {
                params: (0..np).map(|i| i as f32 * 0.5).collect(),
                buffers: (0..nb).map(|i| 2.0 + i as f32).collect(),
            }),
            ..ckpt.clone()
        };
        let ema_path = dir.join("ema.safetensors");
        with_ema.save(&ema_path).unwrap();
        let back = Checkpoint::load(&ema_path, Some(plan)).unwrap();
        assert_eq!(back.ema, with_ema.ema);
        assert_eq!(back.params, ckpt.params);
        let state = hrf_runtime::train::TrainState::load(plan, &ema_path).unwrap();
        assert_eq!(state.params, ckpt.params);
        let other = spec(12).plan().unwrap();
        let err = Checkpoint::load(&path, Some(other))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("was trained with spec Tiny8") && err.contains("Tiny12"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A checkpoint holding only metadata, whose embedded spec is `source`.
    fn metadata_only(source: &SpecSource, name: &str, hash: &str, file: &str) -> (PathBuf, usize) {
        let mut meta = HashMap::new();
        for (k, v) in [
            ("format", TRAIN_FORMAT),
            ("spec_name", name),
            ("spec_hash", hash),
            ("spec_path", &source.label),
            ("spec_yaml", &source.text),
        ] {
            meta.insert(k.to_owned(), v.to_owned());
        }
        let no_tensors: Vec<(String, TensorView)> = Vec::new();
        let bytes = safetensors::tensor::serialize(no_tensors, Some(meta)).unwrap();
        assert!(bytes.len() < 2_048, "{}", bytes.len());
        let dir = std::env::temp_dir().join(format!("hrf-ckpt-{file}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(file);
        std::fs::write(&path, &bytes).unwrap();
        (path, bytes.len())
    }

    #[test]
    fn a_small_file_whose_spec_declares_more_tensors_than_it_holds_is_refused_before_allocating() {
        let source = spec(256);
        let plan = source.plan().unwrap();
        let (path, len) = metadata_only(&source, plan.name, plan.spec_hash, "short.safetensors");
        let err = Checkpoint::load(&path, None).unwrap_err().to_string();
        let declared = declared_bytes(plan, false);
        assert!(declared > 1 << 20, "{declared}");
        assert_eq!(
            err,
            format!(
                "{} is not a usable checkpoint: its embedded spec `Tiny256` (dims \
                 {{\"d\":256,\"ffn\":16,\"heads\":2}}) declares {declared} bytes of tensors, but \
                 the file holds only {len} bytes; the file is truncated or its spec was edited — \
                 re-copy it, or use another checkpoint of the run",
                path.display(),
            )
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_small_file_whose_embedded_spec_is_over_the_memory_budget_is_refused() {
        let source = spec(65_536);
        let (path, _) = metadata_only(&source, "Tiny65536", "0", "huge.safetensors");
        let err = Checkpoint::load(&path, None).unwrap_err().to_string();
        let head = format!(
            "{} is not a usable checkpoint: its embedded spec does not compile:\nerror: the \
             model needs ",
            path.display()
        );
        assert!(err.starts_with(&head), "{err}");
        assert!(
            err.contains("more than the budget of 8.0 GiB") && err.contains("--> tiny65536.yaml"),
            "{err}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn absurd_finite_weights_and_buffers_are_refused_naming_the_tensor() {
        let source = spec(8);
        let plan = source.plan().unwrap();
        let (np, nb) = (plan.train.params_len(), plan.train.buffers_len());
        let dir = std::env::temp_dir().join(format!("hrf-ckpt-absurd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (in_params, value, limit) in [(true, 1e30f32, "1e6"), (false, -1e9, "1e8")] {
            let (mut params, mut buffers) = (vec![0.5f32; np], vec![1.0f32; nb]);
            let slot = if in_params {
                &plan.train.params[3]
            } else {
                &plan.train.buffers[1]
            };
            let target = if in_params { &mut params } else { &mut buffers };
            target[slot.range().start + 2] = value;
            let ckpt = Checkpoint {
                spec: source.clone(),
                plan,
                params,
                buffers,
                optimizer: None,
                step: 0,
                progress: None,
                ema: None,
            };
            let path = dir.join("absurd.safetensors");
            ckpt.save(&path).unwrap();
            let err = Checkpoint::load(&path, None).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "{} is not a usable checkpoint: tensor `{}` holds {value:e} at index 2, \
                     beyond ±{limit} (no trained hrf model has such a value); the file is corrupt \
                     or was edited — use another checkpoint of the run, or retrain",
                    path.display(),
                    slot.name
                )
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_finite_weights_are_refused_naming_the_tensor() {
        let source = spec(8);
        let plan = source.plan().unwrap();
        let (np, nb) = (plan.train.params_len(), plan.train.buffers_len());
        let mut params = vec![0.5f32; np];
        // The second value of the third param tensor.
        let slot = &plan.train.params[2];
        params[slot.range().start + 1] = f32::INFINITY;
        let ckpt = Checkpoint {
            spec: source,
            plan,
            params,
            buffers: vec![1.0; nb],
            optimizer: None,
            step: 0,
            progress: None,
            ema: None,
        };
        let dir = std::env::temp_dir().join(format!("hrf-ckpt-inf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("inf.safetensors");
        ckpt.save(&path).unwrap();
        let err = Checkpoint::load(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{} is not a usable checkpoint: tensor `{}` holds a non-finite value (inf) at \
                 index 1; the file is corrupt (training stops before it saves non-finite \
                 weights) — use another checkpoint of the run, or retrain",
                path.display(),
                slot.name
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
