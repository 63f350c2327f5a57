//! End-to-end checks of every preset (`specs/*.yaml`) through its generated types: the
//! training model's gradients (on a shrunken copy), learning, fold → `predict` against the
//! trained model, zero allocations in `predict`, and padding invariance.

include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hrf_runtime::batch::{Batch, UtteranceRef};
use hrf_runtime::plan::ModelPlan;
use hrf_runtime::train::{Mode, Optimizer, OptimizerConfig, TrainModel};

// ---------------------------------------------------------------------------------------------
// Allocation counting: only allocations made on a thread while it has counting switched on.

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap allocations made by `f` on this thread.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// splitmix64: a seeded source of test data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn frames(&mut self, n: usize, features: usize) -> Vec<f32> {
        (0..n * features).map(|_| self.uniform() as f32).collect()
    }
}

/// Moves a freshly initialised model away from its init: every parameter perturbed (so γ/β,
/// biases and HRF layers are generic), non-trivial CMVN statistics and BatchNorm running
/// statistics, so that every fold has real work to do.
fn randomise<T: hrf_runtime::real::Real>(model: &mut TrainModel<T>, seed: u64) {
    let plan = model.plan();
    let mut rng = Rng(seed);
    for p in model.params_mut() {
        *p += T::from_f64(0.1 * rng.uniform());
    }
    let f = plan.features;
    let mean: Vec<f32> = (0..f).map(|_| 0.5 * rng.uniform() as f32).collect();
    let std: Vec<f32> = (0..f)
        .map(|_| 0.7 + 0.5 * rng.uniform().abs() as f32)
        .collect();
    model
        .set_feature_stats(&mean, &std)
        .unwrap_or_else(|e| panic!("{}: {e}", plan.name));
    for slot in plan.train.buffers {
        if slot.name.ends_with(".running_mean") {
            for v in &mut model.buffers_mut()[slot.range()] {
                *v = T::from_f64(0.2 * rng.uniform());
            }
        } else if slot.name.ends_with(".running_var") {
            for v in &mut model.buffers_mut()[slot.range()] {
                *v = T::from_f64(0.6 + 0.5 * rng.uniform().abs());
            }
        }
    }
}

fn batch(plan: &ModelPlan, utterances: &[Vec<f32>], labels: &[usize]) -> Batch {
    let refs: Vec<UtteranceRef<'_>> = utterances
        .iter()
        .zip(labels)
        .map(|(frames, &label)| UtteranceRef { frames, label })
        .collect();
    Batch::from_utterances(&refs, plan.features, plan.max_frames)
        .unwrap_or_else(|e| panic!("{}: {e}", plan.name))
}

/// The preset's YAML with every size shrunk (d 8, 2 heads, 1 block per stage, 8 features,
/// 64 frames, conv kernel 5, windows 3) but the same structure: same ops, HRF where the preset
/// has it, same activations.
fn shrunken(name: &str) -> &'static ModelPlan {
    let text = hrf_compiler::presets::preset(name).unwrap_or_else(|| panic!("no preset {name}"));
    let mut small = String::new();
    for line in text.lines() {
        let line = line
            .replace(
                "features: 64, max_frames: 600",
                "features: 8, max_frames: 64",
            )
            .replace("d: 192,", "d: 8,")
            .replace("d: 64,", "d: 8,")
            .replace("heads: 4,", "heads: 2,")
            .replace("kernel: 15", "kernel: 5");
        let line = if let Some(i) = line.find("repeat: ") {
            format!("{}repeat: 1", &line[..i])
        } else if let Some(i) = line.find("window: ") {
            let end = line[i..].find([',', '}']).map_or(line.len(), |e| i + e);
            format!("{}window: 3{}", &line[..i], &line[end..])
        } else {
            line
        };
        small.push_str(&line);
        small.push('\n');
    }
    let plan = hrf_runtime::spec::plan_from_yaml(name, &small)
        .unwrap_or_else(|e| panic!("shrunken {name} does not compile:\n{e}\n{small}"));
    assert_eq!(plan.features, 8, "{name}: the shrink missed the input line");
    assert!(
        plan.dims.iter().any(|&(d, v)| d == "d" && v == 8),
        "{name}: the shrink missed d"
    );
    plan
}

const PRESETS: [&str; 9] = [
    "conv_transformer_light",
    "conv_transformer_light_hrf",
    "conv_transformer_large",
    "conformer_light",
    "conformer_light_hrf",
    "conformer_large",
    "speechformer_light",
    "speechformer_light_hrf",
    "speechformer_large",
];

// ---------------------------------------------------------------------------------------------
// (a) whole-model gradients, shrunken copies, f64.

/// Central differences with step 1e-6 in f64 agree with exact gradients to ~1e-8 on these
/// models; 1e-5 (relative, floor 1) leaves room for deep compositions and still catches any
/// wrong term, which shows as an O(1) error.
const GRAD_TOL: f64 = 1e-5;

#[test]
fn every_preset_gradients_match_finite_differences_on_a_shrunken_copy() {
    for name in PRESETS {
        let plan = shrunken(name);
        let mut model = TrainModel::<f64>::new(plan, 3);
        randomise(&mut model, 4);
        let mut rng = Rng(5);
        let utts = [rng.frames(37, 8), rng.frames(64, 8), rng.frames(9, 8)];
        let batch = batch(plan, &utts, &[1, 3, 0]);
        model.zero_grads();
        let run = |m: &mut TrainModel<f64>| m.forward(&batch, Mode::Eval).unwrap();
        run(&mut model);
        model.backward().unwrap();
        let analytic = model.grads().to_vec();
        let params = model.params().to_vec();
        // Every parameter for the small models; a fixed stride keeps the check fast for all.
        let stride = (params.len() / 1500).max(1);
        let h = 1e-6;
        let mut worst = (0.0f64, 0usize);
        for i in (0..params.len()).step_by(stride) {
            let mut p = params.clone();
            p[i] = params[i] + h;
            model.params_mut().copy_from_slice(&p);
            let up = run(&mut model);
            p[i] = params[i] - h;
            model.params_mut().copy_from_slice(&p);
            let down = run(&mut model);
            let numeric = (up - down) / (2.0 * h);
            let err = (numeric - analytic[i]).abs() / numeric.abs().max(analytic[i].abs()).max(1.0);
            if err > worst.0 {
                worst = (err, i);
            }
        }
        let slot = plan
            .train
            .params
            .iter()
            .find(|s| s.range().contains(&worst.1))
            .map_or("?", |s| s.name);
        assert!(
            worst.0 <= GRAD_TOL,
            "{name}: gradient error {:.3e} at param {} ({slot})",
            worst.0,
            worst.1
        );
        assert!(
            analytic.iter().filter(|g| g.abs() > 1e-9).count() > analytic.len() / 2,
            "{name}: most gradients should be non-zero"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (b) 30 AdamW steps on a learnable synthetic task, shrunken copies.

/// The mean loss of the last 5 of 30 steps must fall below this fraction of the first step's.
const LEARNED_LOSS_FRACTION: f32 = 0.6;

#[test]
fn every_preset_learns_a_synthetic_task_in_30_steps() {
    for name in PRESETS {
        let plan = shrunken(name);
        // Class c raises features 2c and 2c + 1 by 1.5 over uniform noise.
        let mut rng = Rng(7);
        let mut utts = Vec::new();
        let mut labels = Vec::new();
        for i in 0..16 {
            let class = i % 4;
            let len = 16 + (rng.next_u64() % 49) as usize;
            let frames = (0..len * 8)
                .map(|j| {
                    let bump = if (j % 8) / 2 == class { 1.5 } else { 0.0 };
                    (bump + rng.uniform()) as f32
                })
                .collect();
            utts.push(frames);
            labels.push(class);
        }
        let batch = batch(plan, &utts, &labels);
        let mut model = TrainModel::<f32>::new(plan, 1);
        let config = OptimizerConfig {
            peak_lr: 1e-2,
            warmup_steps: 3,
            ..OptimizerConfig::new(30)
        };
        let mut opt = Optimizer::new(&model, config).unwrap();
        let mut losses = Vec::new();
        for step in 0..30 {
            let loss = model
                .forward(&batch, Mode::Train { dropout_seed: step })
                .unwrap();
            model.zero_grads();
            model.backward().unwrap();
            opt.step(&mut model).unwrap();
            losses.push(loss);
        }
        let last = losses[25..].iter().sum::<f32>() / 5.0;
        assert!(
            last < LEARNED_LOSS_FRACTION * losses[0],
            "{name}: loss {} → {last} ({losses:?})",
            losses[0]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (c) fold → predict equals the trained model, (d) zero allocations, (e) padding invariance:
// the full-size presets through their generated types.

/// Folded logits vs trained eval-mode logits: max |Δ| / max |logit| (f32 rounding of the
/// folded weights and a different summation order).
const FOLD_REL_TOL: f32 = 1e-4;

fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(0.0f32, |m, x| m.max(x.abs())).max(1e-3);
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

macro_rules! check_preset {
    ($name:literal, $train:ident, $folded:ident, $scratch:ident) => {{
        let mut train = $train::new(11);
        randomise::<f32>(&mut train, 12);
        let folded = train.fold().unwrap_or_else(|e| panic!("{}: {e}", $name));
        let mut scratch = $scratch::boxed();
        let plan = $train::PLAN;
        let f = plan.features;
        let mut rng = Rng(13);
        for len in [1, 2, 7, 64, 300, plan.max_frames] {
            let flat = rng.frames(len, f);
            let frames: Vec<[f32; $folded::PLAN.features]> = flat
                .chunks_exact(f)
                .map(|c| c.try_into().unwrap())
                .collect();
            let (logits, allocations) = allocations_in(|| folded.predict(&frames, &mut scratch));
            let logits = logits.unwrap_or_else(|e| panic!("{} len {len}: {e}", $name));
            assert_eq!(allocations, 0, "{} len {len}: predict allocated", $name);
            let trained = train.predict(&flat).unwrap();
            let rel = max_rel_diff(&logits, &trained);
            assert!(
                rel <= FOLD_REL_TOL,
                "{} len {len}: folded {logits:?} vs trained {trained:?} (rel {rel:.2e})",
                $name
            );
        }
        // (e) an utterance's logits alone and beside a longer one.
        let short = rng.frames(40, f);
        let long = rng.frames(173, f);
        let alone = batch(plan, std::slice::from_ref(&short), &[0]);
        let beside = batch(plan, &[short.clone(), long], &[0, 1]);
        train.forward(&alone, Mode::Eval).unwrap();
        let a = train.logits()[..plan.classes.len()].to_vec();
        train.forward(&beside, Mode::Eval).unwrap();
        let b = train.logits()[..plan.classes.len()].to_vec();
        assert!(
            max_rel_diff(&a, &b) <= 1e-6,
            "{}: logits depend on padding: {a:?} vs {b:?}",
            $name
        );
    }};
}

#[test]
fn conv_transformer_presets_fold_predict_without_allocating_and_ignore_padding() {
    check_preset!(
        "conv_transformer_light",
        ConvTransformerLightTrain,
        ConvTransformerLightFolded,
        ConvTransformerLightScratch
    );
    check_preset!(
        "conv_transformer_light_hrf",
        ConvTransformerLightHrfTrain,
        ConvTransformerLightHrfFolded,
        ConvTransformerLightHrfScratch
    );
    check_preset!(
        "conv_transformer_large",
        ConvTransformerLargeTrain,
        ConvTransformerLargeFolded,
        ConvTransformerLargeScratch
    );
}

#[test]
fn conformer_presets_fold_predict_without_allocating_and_ignore_padding() {
    check_preset!(
        "conformer_light",
        ConformerLightTrain,
        ConformerLightFolded,
        ConformerLightScratch
    );
    check_preset!(
        "conformer_light_hrf",
        ConformerLightHrfTrain,
        ConformerLightHrfFolded,
        ConformerLightHrfScratch
    );
    check_preset!(
        "conformer_large",
        ConformerLargeTrain,
        ConformerLargeFolded,
        ConformerLargeScratch
    );
}

#[test]
fn speechformer_presets_fold_predict_without_allocating_and_ignore_padding() {
    check_preset!(
        "speechformer_light",
        SpeechformerLightTrain,
        SpeechformerLightFolded,
        SpeechformerLightScratch
    );
    check_preset!(
        "speechformer_light_hrf",
        SpeechformerLightHrfTrain,
        SpeechformerLightHrfFolded,
        SpeechformerLightHrfScratch
    );
    check_preset!(
        "speechformer_large",
        SpeechformerLargeTrain,
        SpeechformerLargeFolded,
        SpeechformerLargeScratch
    );
}
