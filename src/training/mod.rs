//! Training stage of the CLI: one protocol fold of a corpus → a trained run directory, with
//! validation each epoch, best checkpoints (by validation UA or loss), early stopping, step
//! checkpoints and exact resume.
//!
//! The recipe ([`TrainConfig::recipe_defaults`]) is the one the speech-transformer literature
//! uses: SpecAugment and random crops on training batches ([`recipe`]), label smoothing and
//! optional class weights in the loss, a Polyak (EMA) average of the weights for validation
//! and the best checkpoint, and whole-utterance evaluation by windows ([`predict`]).

mod fit;
pub mod predict;
pub mod recipe;

pub use fit::{Teacher, TrainJob, TrainOutcome, state_path, train};

use hrf_runtime::plan::ModelPlan;
use serde::{Deserialize, Serialize};

/// How a training utterance longer than `max_frames` is cropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Crop {
    /// The middle `max_frames` frames (what runs before the recipe did).
    #[default]
    Centre,
    /// A random window, a pure function of `(seed, global step, position in batch)`.
    Random,
}

/// Per-class weights of the training loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeights {
    /// Every class weighs 1.
    #[default]
    None,
    /// Inverse training-set class frequency, normalised to mean 1 over the classes present.
    Balanced,
}

/// Which validation score picks `best.safetensors` (and drives early stopping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Select {
    /// Highest validation UA (ties keep the earlier epoch).
    #[default]
    Ua,
    /// Lowest validation cross-entropy (plain, unsmoothed and unweighted).
    Loss,
}

impl Select {
    pub fn describe(self) -> &'static str {
        match self {
            Select::Ua => "validation UA",
            Select::Loss => "validation loss",
        }
    }
}

/// Hyper-parameters and loop settings (recorded in run.json).
///
/// Every recipe field has `#[serde(default)]` with the value that means "off" (the behaviour of
/// runs recorded before the field existed), so an older `run.json` still loads and describes
/// what that run did. New runs get [`TrainConfig::recipe_defaults`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate (after warmup; cosine decay to 0 at the last step).
    pub lr: f64,
    pub weight_decay: f32,
    /// Share of the steps spent warming up.
    pub warmup_fraction: f64,
    /// Global gradient-norm clip.
    pub clip_norm: f32,
    /// Stop after this many epochs without a better validation UA (0 = never).
    pub patience: usize,
    pub seed: u64,
    /// Save the full state every this many optimizer steps (0 = only at epoch ends).
    pub checkpoint_steps: u64,
    /// Frames per utterance fed to the model in training (see `crop`); at most the spec's
    /// max_frames. Evaluation scores longer utterances by windows of this many frames.
    pub max_frames: usize,
    /// SpecAugment time masks per training utterance (0 = none).
    #[serde(default)]
    pub time_masks: usize,
    /// Largest time-mask width in frames (each width is uniform in `[0, W]`).
    #[serde(default)]
    pub time_mask_width: usize,
    /// Largest time-mask width as a share of the utterance's frames (Park et al.'s `p`).
    #[serde(default = "one")]
    pub time_mask_ratio: f64,
    /// SpecAugment frequency masks per training utterance (0 = none).
    #[serde(default)]
    pub freq_masks: usize,
    /// Largest frequency-mask width in mel bins (each width is uniform in `[0, F]`).
    #[serde(default)]
    pub freq_mask_width: usize,
    /// Crop of training utterances longer than `max_frames`.
    #[serde(default)]
    pub crop: Crop,
    /// Decay of the weight EMA (0 = off); see [`recipe::Ema`].
    #[serde(default)]
    pub ema_decay: f64,
    /// Label smoothing ε of the training loss (0 = none).
    #[serde(default)]
    pub label_smoothing: f32,
    /// Class weights of the training loss.
    #[serde(default)]
    pub class_weights: ClassWeights,
    /// Which validation score picks the best checkpoint and drives early stopping.
    #[serde(default)]
    pub select: Select,
    /// Knowledge distillation toward a trained teacher (`None`: off; absent from the records
    /// of runs without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<TeacherRef>,
}

/// The teacher of a distilled run, as recorded in its run.json: which run, which spec (name
/// and hash), and the distillation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherRef {
    /// The teacher's run directory, as given.
    pub run: String,
    pub spec_name: String,
    pub spec_hash: String,
    /// α: the loss is `(1 − α)·CE + α·KD`.
    pub weight: f32,
    /// T of the softened distributions.
    pub temperature: f32,
}

fn one() -> f64 {
    1.0
}

/// The default peak learning rate of a spec: 5e-4 for the `*_large` presets (d 192, six
/// blocks), 1e-3 otherwise. The demo trains with the same values.
pub fn default_lr(module: &str) -> f64 {
    if module.ends_with("large") {
        5e-4
    } else {
        1e-3
    }
}

/// SpecAugment LD's `F = 27` of 80 mel bins scaled to `features` bins (22 of 64), rounded.
pub fn default_freq_mask_width(features: usize) -> usize {
    (27 * features + 40) / 80
}

impl TrainConfig {
    /// The training defaults of `hrf train` (and the demo, and whatever builds on
    /// `TrainConfig`): 20 epochs of batches of 16, AdamW (weight decay 0.01) with 5% warmup and
    /// cosine decay, clip 5, patience 5, step checkpoints every 50 steps, and the recipe:
    ///
    /// - SpecAugment: Park et al. 2019's LD policy scaled to 64 mel bins — 2 frequency masks of
    ///   up to F = 27·64/80 ≈ 22 bins (LD: 27 of 80), 2 time masks of up to T = 100 frames (1 s
    ///   at the 10 ms hop, as in LD); F scales with the spec's mel bins. LD's `p = 1.0` assumes ~12 s LibriSpeech utterances;
    ///   emotional utterances are 2–5 s, so the time masks are also capped at `p = 0.2` of the
    ///   utterance (Park et al.'s Switchboard policies SM/SS use p = 0.2), which keeps at least
    ///   60% of every utterance unmasked. Time warping is not implemented.
    /// - random crops of long training utterances;
    /// - weight EMA with decay 0.999 (with the usual `(1+t)/(10+t)` warmup, so early epochs are
    ///   not dominated by the initial weights; at ~200 steps/epoch the average spans the last
    ///   few epochs late in training);
    /// - label smoothing 0.1 (Szegedy et al. 2016; the usual value for speech transformers);
    /// - no class weights (the synthetic corpus is balanced; `--class-weights balanced` for
    ///   skewed corpora such as IEMOCAP or M3ED);
    /// - best checkpoint by validation UA.
    ///
    /// The spec fixes the peak learning rate ([`default_lr`]), the crop length (its
    /// `max_frames`) and the frequency-mask width ([`default_freq_mask_width`] of its mel bins).
    pub fn recipe_defaults(plan: &ModelPlan, seed: u64) -> TrainConfig {
        TrainConfig {
            epochs: 20,
            batch_size: 16,
            lr: default_lr(plan.module),
            weight_decay: 0.01,
            warmup_fraction: 0.05,
            clip_norm: 5.0,
            patience: 5,
            seed,
            checkpoint_steps: 50,
            max_frames: plan.max_frames,
            time_masks: 2,
            time_mask_width: 100,
            time_mask_ratio: 0.2,
            freq_masks: 2,
            freq_mask_width: default_freq_mask_width(plan.features),
            crop: Crop::Random,
            ema_decay: 0.999,
            label_smoothing: 0.1,
            class_weights: ClassWeights::None,
            select: Select::Ua,
            teacher: None,
        }
    }

    /// The SpecAugment policy of this config.
    pub fn spec_augment(&self) -> recipe::SpecAugment {
        recipe::SpecAugment {
            time_masks: self.time_masks,
            time_mask_width: self.time_mask_width,
            time_mask_ratio: self.time_mask_ratio,
            freq_masks: self.freq_masks,
            freq_mask_width: self.freq_mask_width,
        }
    }

    /// The config a run record's `hyper` describes (recipe fields absent from an older record
    /// take their "off" defaults).
    pub fn from_record(hyper: &serde_json::Value) -> Result<TrainConfig, String> {
        serde_json::from_value(hyper.clone()).map_err(|e| e.to_string())
    }

    /// `name: recorded → now` for every setting where `self` (recorded) and `now` differ.
    pub fn differences(&self, now: &TrainConfig) -> Vec<String> {
        let (a, b) = (
            serde_json::to_value(self).unwrap_or_default(),
            serde_json::to_value(now).unwrap_or_default(),
        );
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            return Vec::new();
        };
        a.iter()
            .filter_map(|(k, va)| {
                let vb = b.get(k).cloned().unwrap_or_default();
                (*va != vb).then(|| format!("{k}: run {va}, now {vb}"))
            })
            .collect()
    }
}

/// The checkpoint a diverged run still has, named in its error only when it exists.
#[derive(Debug)]
pub struct KeptCheckpoint(pub Option<std::path::PathBuf>);

impl std::fmt::Display for KeptCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(path) => write!(
                f,
                "The last good checkpoint is {} (after fixing the data, --resume continues from it)",
                path.display()
            ),
            None => f.write_str("No checkpoint had been saved yet"),
        }
    }
}

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TrainRunError {
    #[error(
        "{what} became {value} at epoch {epoch}, step {step}: training diverged. {kept}; lower \
         --lr (now {lr}) and rerun with a new --out"
    )]
    NonFinite {
        /// `loss` or `gradient norm`: the first value that stopped being finite.
        what: &'static str,
        value: f32,
        epoch: usize,
        step: u64,
        lr: f64,
        kept: KeptCheckpoint,
    },
    #[error("{0}")]
    Run(#[from] crate::run::RunError),
    #[error("{0}")]
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_from_before_the_recipe_loads_with_the_recipe_off() {
        let old = serde_json::json!({
            "epochs": 20, "batch_size": 16, "lr": 0.001, "weight_decay": 0.01,
            "warmup_fraction": 0.05, "clip_norm": 5.0, "patience": 5, "seed": 0,
            "checkpoint_steps": 50, "max_frames": 600
        });
        let config = TrainConfig::from_record(&old).unwrap();
        assert!(!config.spec_augment().is_on());
        assert_eq!(
            (config.crop, config.ema_decay, config.label_smoothing),
            (Crop::Centre, 0.0, 0.0)
        );
        assert_eq!(
            (config.class_weights, config.select),
            (ClassWeights::None, Select::Ua)
        );
        // Today's defaults differ from it exactly in the recipe fields.
        let plan = crate::run::SpecSource::resolve("conformer_light")
            .unwrap()
            .plan()
            .unwrap();
        let now = TrainConfig::recipe_defaults(plan, 0);
        assert_eq!((now.freq_mask_width, now.max_frames), (22, 600));
        assert_eq!(default_freq_mask_width(16), 5);
        let diff = config.differences(&now);
        for key in [
            "time_masks",
            "time_mask_width",
            "time_mask_ratio",
            "freq_masks",
            "freq_mask_width",
            "crop",
            "ema_decay",
            "label_smoothing",
        ] {
            assert!(diff.iter().any(|d| d.starts_with(key)), "{key}: {diff:?}");
        }
        assert_eq!(diff.len(), 8, "{diff:?}");
        // A new record round-trips.
        let back = TrainConfig::from_record(&serde_json::to_value(&now).unwrap()).unwrap();
        assert_eq!(back, now);
    }

    #[test]
    fn divergence_names_the_kept_checkpoint_only_when_there_is_one() {
        let diverged = |kept| TrainRunError::NonFinite {
            what: "loss",
            value: f32::NAN,
            epoch: 1,
            step: 3,
            lr: 10.0,
            kept,
        };
        assert_eq!(
            diverged(KeptCheckpoint(None)).to_string(),
            "loss became NaN at epoch 1, step 3: training diverged. No checkpoint had been saved \
             yet; lower --lr (now 10) and rerun with a new --out"
        );
        let kept = KeptCheckpoint(Some("run/state.safetensors".into()));
        assert_eq!(
            diverged(kept).to_string(),
            "loss became NaN at epoch 1, step 3: training diverged. The last good checkpoint is \
             run/state.safetensors (after fixing the data, --resume continues from it); lower \
             --lr (now 10) and rerun with a new --out"
        );
    }
}
