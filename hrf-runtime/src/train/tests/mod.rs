//! Training-engine tests on shrunken specs of the three families (d 8, 2 heads, ffn 16, HRF on),
//! built at run time with `plan_from_yaml`.

mod gradients;
mod hrf_variants;
mod invariance;
mod training;

use std::vec::Vec;

use crate::batch::{Batch, UtteranceRef};
use crate::plan::ModelPlan;
use crate::spec::plan_from_yaml;
use crate::testing::Rng;

/// ConvTransformer: 2 blocks, ReLU FFN with a one-layer HRF (expand 2), CMVN, two strided convs.
pub(super) const TINY_CONV_TRANSFORMER: &str = "
name: TinyConvTransformer
input: { features: 6, max_frames: 40 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 2
    block: conv_transformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: relu, hrf: { expand: 2 } }
pool: mean
dropout: 0.1
classes: [a, b, c]
";

/// Conformer: 1 block (macaron Swish FFNs with a depth-2 HRF chain, attention, conv module with
/// GLU, depthwise k = 5, BatchNorm, Swish), closing LN.
pub(super) const TINY_CONFORMER: &str = "
name: TinyConformer
input: { features: 6, max_frames: 40 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 1
    block: conformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: swish, hrf: { expand: 2, depth: 2 } }
    conv: { kernel: 5 }
pool: mean
dropout: 0.1
classes: [a, b, c]
";

/// SpeechFormer: a windowed stage (w 3), a merge by 2, a global stage; GELU FFNs with HRF.
pub(super) const TINY_SPEECHFORMER: &str = "
name: TinySpeechformer
input: { features: 6, max_frames: 40 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 1
    block: speechformer
    attention: { heads: heads, window: 3 }
    ffn: { hidden: ffn, act: gelu, hrf: { expand: 2 } }
  - merge: { factor: 2, width: d }
  - repeat: 1
    block: speechformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: gelu, hrf: { expand: 2 } }
pool: mean
dropout: 0.1
classes: [a, b, c]
";

pub(super) const ALL_SPECS: [&str; 3] = [TINY_CONV_TRANSFORMER, TINY_CONFORMER, TINY_SPEECHFORMER];

pub(super) fn plan(yaml: &str) -> &'static ModelPlan {
    match plan_from_yaml("tiny.yaml", yaml) {
        Ok(p) => p,
        Err(e) => panic!("tiny spec does not compile:\n{e}"),
    }
}

/// Random utterances of the given lengths (features uniform in ±2) and labels `i % classes`.
pub(super) fn random_utterances(plan: &ModelPlan, lengths: &[usize], seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    lengths
        .iter()
        .map(|&n| {
            rng.vec(n * plan.features, 2.0)
                .into_iter()
                .map(|v| v as f32)
                .collect()
        })
        .collect()
}

pub(super) fn batch_of(plan: &ModelPlan, utterances: &[Vec<f32>], labels: &[usize]) -> Batch {
    let refs: Vec<UtteranceRef<'_>> = utterances
        .iter()
        .zip(labels)
        .map(|(frames, &label)| UtteranceRef { frames, label })
        .collect();
    match Batch::from_utterances(&refs, plan.features, plan.max_frames) {
        Ok(b) => b,
        Err(e) => panic!("test batch: {e}"),
    }
}
