//! Run directories: what `hrf train` writes and `eval`/`fold`/`export` read back — the spec,
//! the run record, checkpoints (atomic writes), and the training history.
//!
//! ```text
//! <run>/run.json            spec, data, fold, seed and hyper-parameters (the run record)
//! <run>/spec.yaml           the spec text
//! <run>/state.safetensors   latest full training state (weights, AdamW moments, EMA, loop position)
//! <run>/best.safetensors    weights (the EMA weights with --ema-decay) at the best validation
//!                           UA or loss (--select); what eval/fold/export use
//! <run>/history.json        per-epoch losses and validation metrics
//! ```

pub mod atomic;
pub mod checkpoint;
pub mod progress;

use std::path::{Path, PathBuf};

use hrf_compiler::presets::{PRESETS, preset};
use hrf_runtime::plan::ModelPlan;
use serde::{Deserialize, Serialize};

pub use atomic::{
    check_dir_creatable, ensure_writable_dir, ensure_writable_file, write_text_atomic,
};
pub use checkpoint::{Checkpoint, EmaWeights, resolve_model_path};
pub use progress::{EpochRecord, TrainProgress};

pub const RUN_FILE: &str = "run.json";
pub const SPEC_FILE: &str = "spec.yaml";
pub const STATE_FILE: &str = "state.safetensors";
pub const BEST_FILE: &str = "best.safetensors";
pub const HISTORY_FILE: &str = "history.json";

/// Why a run file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "output directory {} is not writable ({source}); choose another --out or fix its permissions",
        path.display()
    )]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--out {} exists and is a file, not a directory; choose another --out", path.display())]
    NotADirectory { path: PathBuf },
    #[error("--out {} is a directory; give a file name such as model.safetensors", path.display())]
    IsADirectory { path: PathBuf },
    #[error("{} is not a usable checkpoint: {reason}", path.display())]
    BadCheckpoint { path: PathBuf, reason: String },
    #[error(
        "checkpoint {} was trained with spec {checkpoint}, but the spec given is {given}; pass \
         the checkpoint's own spec (or none), or train a new run",
        path.display()
    )]
    WrongSpec {
        path: PathBuf,
        checkpoint: String,
        given: String,
    },
    #[error(
        "model {} does not exist; pass a run directory written by `hrf train --out` or a \
         checkpoint file (best.safetensors)",
        path.display()
    )]
    MissingModel { path: PathBuf },
    #[error(
        "{} holds no best.safetensors; is it a run directory written by `hrf train`? (a run \
         killed before its first epoch ended has only state.safetensors: resume it with \
         `hrf train --resume --out {}`)",
        dir.display(),
        dir.display()
    )]
    NoCheckpointInDir { dir: PathBuf },
    #[error("cannot encode a checkpoint: {0}")]
    Encode(String),
    #[error("{}: {reason}", path.display())]
    BadRecord { path: PathBuf, reason: String },
    #[error("{0}")]
    Spec(String),
}

/// A spec as given on the command line: a label for messages (path or `specs/<preset>.yaml`)
/// and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecSource {
    pub label: String,
    pub text: String,
}

impl SpecSource {
    /// A YAML path if that file exists, else a preset name (`conformer_light_hrf`).
    pub fn resolve(arg: &str) -> Result<SpecSource, RunError> {
        let path = Path::new(arg);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| RunError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            return Ok(SpecSource {
                label: path.display().to_string(),
                text,
            });
        }
        if let Some(text) = preset(arg) {
            return Ok(SpecSource {
                label: format!("specs/{arg}.yaml"),
                text: text.to_owned(),
            });
        }
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        Err(RunError::Spec(format!(
            "--spec `{arg}`: no such file and no preset of that name\n  = help: give a path to a \
             YAML spec, or one of: {}",
            names.join(", ")
        )))
    }

    /// Compiles the spec into its plan (rendered diagnostics on error).
    pub fn plan(&self) -> Result<&'static ModelPlan, String> {
        hrf_runtime::spec::plan_from_yaml(&self.label, &self.text)
    }

    /// Compiles the spec into the checked model (layout tables, FLOP counts, parameter counts).
    pub fn checked(&self) -> Result<hrf_compiler::CheckedModel, String> {
        hrf_compiler::compile_yaml(&self.label, &self.text)
            .map_err(|d| d.render(&self.label, &self.text))
    }
}

/// The run record (`run.json`): what was trained on what, with which settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub spec_name: String,
    pub spec_hash: String,
    pub spec_path: String,
    /// `--data` as given (`synth:…`, `manifest:…`).
    pub data: String,
    /// Protocol fold index and name (`Ses01`).
    pub fold: usize,
    pub fold_name: String,
    pub seed: u64,
    pub classes: Vec<String>,
    pub train_utterances: usize,
    pub val_utterances: usize,
    pub test_utterances: usize,
    pub hyper: serde_json::Value,
}

impl RunInfo {
    pub fn save(&self, dir: &Path) -> Result<(), RunError> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| RunError::Encode(e.to_string()))?;
        write_text_atomic(&dir.join(RUN_FILE), &text)
    }

    /// The record of the run directory `dir`, if it has one.
    pub fn load(dir: &Path) -> Result<Option<RunInfo>, RunError> {
        let path = dir.join(RUN_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|source| RunError::Read {
            path: path.clone(),
            source,
        })?;
        let info: RunInfo = serde_json::from_str(&text).map_err(|e| RunError::BadRecord {
            path: path.clone(),
            reason: format!("not a valid run record: {e}"),
        })?;
        // Every reader crops utterances to this many frames: 0 would score 1-frame crops.
        if info
            .hyper
            .get("max_frames")
            .and_then(serde_json::Value::as_u64)
            == Some(0)
        {
            return Err(RunError::BadRecord {
                path,
                reason: "`max_frames` is 0, but utterances are cropped to at least 1 frame; \
                         the record was edited — set it to the --max-frames the run was trained \
                         with (the spec's max_frames by default)"
                    .to_owned(),
            });
        }
        Ok(Some(info))
    }
}

/// The history file of a run directory (empty when absent or unreadable: plots are optional).
pub fn load_history(dir: &Path) -> Vec<EpochRecord> {
    std::fs::read_to_string(dir.join(HISTORY_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// A trained model named by `--model`: its checkpoint and, when it sits in a run directory,
/// that directory and its record.
pub struct LoadedModel {
    pub path: PathBuf,
    pub checkpoint: Checkpoint,
    pub run_dir: Option<PathBuf>,
    pub info: Option<RunInfo>,
}

impl LoadedModel {
    /// Loads `--model` (a run directory or a checkpoint file); with `expected`, a checkpoint of
    /// another spec is refused naming both.
    pub fn load(model: &Path, expected: Option<&ModelPlan>) -> Result<LoadedModel, RunError> {
        let path = resolve_model_path(model)?;
        let checkpoint = Checkpoint::load(&path, expected)?;
        let run_dir = path
            .parent()
            .filter(|d| d.join(RUN_FILE).is_file())
            .map(Path::to_path_buf);
        let info = match &run_dir {
            Some(dir) => RunInfo::load(dir)?,
            None => None,
        };
        Ok(LoadedModel {
            path,
            checkpoint,
            run_dir,
            info,
        })
    }

    /// Frames per utterance the run was trained with (the spec's max_frames otherwise).
    pub fn max_frames(&self) -> usize {
        let spec = self.checkpoint.plan.max_frames;
        self.info
            .as_ref()
            .and_then(|i| i.hyper.get("max_frames"))
            .and_then(serde_json::Value::as_u64)
            .map_or(spec, |m| (m as usize).min(spec))
    }

    /// The training-form model with the checkpoint's weights.
    pub fn train_model(&self) -> Result<hrf_runtime::train::TrainModel, String> {
        let c = &self.checkpoint;
        let mut model =
            hrf_runtime::train::TrainModel::try_new(c.plan, 0).map_err(|e| e.to_string())?;
        hrf_runtime::train::TrainState {
            params: c.params.clone(),
            buffers: c.buffers.clone(),
            optimizer: None,
            step: c.step,
        }
        .restore(&mut model)
        .map_err(|e| e.to_string())?;
        Ok(model)
    }
}
