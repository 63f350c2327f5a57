//! Training checkpoints: params, buffers and (optionally) AdamW moments as safetensors, one
//! tensor per train-table slot, with the spec's identity in the metadata; atomic writes.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::optim::AdamWState;
use crate::plan::{ModelPlan, SlotPlan};

use super::{Optimizer, TrainError, TrainModel};

/// The `format` metadata value of a training checkpoint.
pub const CHECKPOINT_FORMAT: &str = "hrf-train-v1";

/// Everything needed to resume training bit-exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState {
    /// (train.params_len)
    pub params: Vec<f32>,
    /// (train.buffers_len)
    pub buffers: Vec<f32>,
    /// AdamW moments and step count, if saved with an optimizer.
    pub optimizer: Option<AdamWState>,
    /// Optimizer steps the model had taken.
    pub step: u64,
}

/// `{"d": 64, "heads": 4, …}` — the plan's dims as a JSON object.
fn dims_json(plan: &ModelPlan) -> String {
    let fields: Vec<String> = plan
        .dims
        .iter()
        .map(|(n, v)| std::format!("\"{n}\": {v}"))
        .collect();
    std::format!("{{{}}}", fields.join(", "))
}

fn bytes_of(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl TrainState {
    /// The model's current state (and the optimizer's, if given).
    pub fn capture(model: &TrainModel<f32>, optimizer: Option<&Optimizer>) -> Self {
        Self {
            params: model.params().to_vec(),
            buffers: model.buffers().to_vec(),
            optimizer: optimizer.map(|o| o.state().clone()),
            step: model.step(),
        }
    }

    /// Writes params and buffers into `model` (checked lengths); returns the optimizer state
    /// for [`Optimizer::from_state`].
    pub fn restore(self, model: &mut TrainModel<f32>) -> Result<Option<AdamWState>, TrainError> {
        if self.params.len() != model.params().len() || self.buffers.len() != model.buffers().len()
        {
            return Err(TrainError::OptimizerMismatch {
                what: std::format!(
                    "the state holds {} params and {} buffers, the model {} and {}",
                    self.params.len(),
                    self.buffers.len(),
                    model.params().len(),
                    model.buffers().len()
                ),
            });
        }
        model.params_mut().copy_from_slice(&self.params);
        model.buffers_mut().copy_from_slice(&self.buffers);
        model.step = self.step;
        model.zero_grads();
        Ok(self.optimizer)
    }

    /// Saves as safetensors: tensors named by the train table (`optimizer.m.<slot>`,
    /// `optimizer.v.<slot>` for the moments); metadata `format`, `spec_name`, `spec_hash`,
    /// `dims` (JSON), `step`, `optimizer_step`. Written to `<path>.tmp`, fsynced, renamed.
    pub fn save(&self, plan: &ModelPlan, path: &Path) -> Result<(), TrainError> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut add = |prefix: &str, slots: &[SlotPlan], arena: &[f32]| {
            for s in slots {
                let shape = s.shape.to_vec();
                tensors.push((
                    std::format!("{prefix}{}", s.name),
                    shape,
                    bytes_of(&arena[s.range()]),
                ));
            }
        };
        add("", plan.train.params, &self.params);
        add("", plan.train.buffers, &self.buffers);
        if let Some(o) = &self.optimizer {
            add("optimizer.m.", plan.train.params, &o.m);
            add("optimizer.v.", plan.train.params, &o.v);
        }
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), CHECKPOINT_FORMAT.to_string());
        meta.insert("spec_name".to_string(), plan.name.to_string());
        meta.insert("spec_hash".to_string(), plan.spec_hash.to_string());
        meta.insert("dims".to_string(), dims_json(plan));
        meta.insert("step".to_string(), self.step.to_string());
        if let Some(o) = &self.optimizer {
            meta.insert("optimizer_step".to_string(), o.step.to_string());
        }
        let views = tensors
            .iter()
            .map(|(n, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (n.as_str(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(path, std::format!("cannot encode: {e}")))?;
        let bytes = safetensors::serialize(views, Some(meta))
            .map_err(|e| bad(path, std::format!("cannot encode: {e}")))?;
        crate::atomic_file::write_atomically(path, &bytes).map_err(io)?;
        Ok(())
    }

    /// Reads a checkpoint written by [`TrainState::save`] for `plan`: refuses another spec's
    /// checkpoint (naming both), a wrong format, and any missing or mis-shaped tensor.
    pub fn load(plan: &'static ModelPlan, path: &Path) -> Result<Self, TrainError> {
        let bytes = fs::read(path).map_err(|source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(path, std::format!("not a safetensors file ({e})")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |k: &str| meta.get(k).cloned().unwrap_or_default();
        if get("format") != CHECKPOINT_FORMAT {
            return Err(bad(
                path,
                std::format!(
                    "format is `{}`, expected `{CHECKPOINT_FORMAT}`",
                    get("format")
                ),
            ));
        }
        if get("spec_hash") != plan.spec_hash || get("spec_name") != plan.name {
            return Err(TrainError::WrongSpec {
                path: path.to_path_buf(),
                found_spec: get("spec_name"),
                found_hash: get("spec_hash"),
                expected_spec: plan.name,
                expected_hash: plan.spec_hash,
            });
        }
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(path, std::format!("not a safetensors file ({e})")))?;
        let read = |prefix: &str, slots: &[SlotPlan], len: usize| -> Result<Vec<f32>, TrainError> {
            let mut arena = std::vec![0.0f32; len];
            for s in slots {
                let name = std::format!("{prefix}{}", s.name);
                let t = file
                    .tensor(&name)
                    .map_err(|_| bad(path, std::format!("tensor `{name}` is missing")))?;
                if t.dtype() != Dtype::F32 || t.shape() != s.shape {
                    return Err(bad(
                        path,
                        std::format!(
                            "tensor `{name}` is {:?} {:?}, expected F32 {:?}",
                            t.dtype(),
                            t.shape(),
                            s.shape
                        ),
                    ));
                }
                for (v, b) in arena[s.range()].iter_mut().zip(t.data().chunks_exact(4)) {
                    *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            Ok(arena)
        };
        let (np, nb) = (plan.train.params_len(), plan.train.buffers_len());
        let params = read("", plan.train.params, np)?;
        let buffers = read("", plan.train.buffers, nb)?;
        let number = |k: &str| -> Result<u64, TrainError> {
            get(k)
                .parse()
                .map_err(|_| bad(path, std::format!("metadata `{k}` is not a step count")))
        };
        let optimizer = if meta.contains_key("optimizer_step") {
            Some(AdamWState {
                m: read("optimizer.m.", plan.train.params, np)?,
                v: read("optimizer.v.", plan.train.params, np)?,
                step: number("optimizer_step")?,
            })
        } else {
            None
        };
        Ok(Self {
            params,
            buffers,
            optimizer,
            step: number("step")?,
        })
    }
}

fn bad(path: &Path, problem: String) -> TrainError {
    TrainError::BadCheckpoint {
        path: path.to_path_buf(),
        problem,
    }
}

impl TrainModel<f32> {
    /// Saves params, buffers and (if given) the optimizer state; see [`TrainState::save`].
    pub fn save(&self, path: &Path, optimizer: Option<&Optimizer>) -> Result<(), TrainError> {
        TrainState::capture(self, optimizer).save(self.plan(), path)
    }

    /// Loads a checkpoint of this model's spec into it; returns the saved optimizer state, if
    /// any, for [`Optimizer::from_state`].
    pub fn load(&mut self, path: &Path) -> Result<Option<AdamWState>, TrainError> {
        TrainState::load(self.plan(), path)?.restore(self)
    }
}
