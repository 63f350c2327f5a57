//! The HRF variant keys through the `model!` front-end and codegen's plan constant: the
//! generated plan equals the run-time plan of the same spec in YAML (both mirrors carry
//! `init`, `decay` and `lr_scale`), and the generated training type uses them.

use hrf_runtime::plan::{HrfDecay, HrfInit, PlanOp, SublayerKindPlan};

hrf_runtime::model! {
    name: TinyVariants,
    input: { features: 8, max_frames: 40 },
    dims: { d: 8, heads: 2, ffn: 2 * d },
    frontend: { conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 } },
    encoder: [
        { repeat: 1, block: conformer,
          ffn: { hidden: ffn, act: swish,
                 hrf: { expand: 2, depth: 2, init: balanced, decay: merged, lr_scale: 2.5 } },
          attention: { heads: heads }, conv: { kernel: 5 } },
    ],
    pool: mean,
    classes: [a, b],
}

const YAML: &str = "
name: TinyVariants
input: { features: 8, max_frames: 40 }
dims: { d: 8, heads: 2, ffn: 2 * d }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
encoder:
  - repeat: 1
    block: conformer
    ffn: { hidden: ffn, act: swish, hrf: { expand: 2, depth: 2, init: balanced, decay: merged, lr_scale: 2.5 } }
    attention: { heads: heads }
    conv: { kernel: 5 }
pool: mean
classes: [a, b]
";

#[test]
fn the_generated_plan_carries_the_variants_like_the_run_time_plan() {
    let generated = TinyVariantsFolded::PLAN;
    let runtime =
        hrf_runtime::spec::plan_from_yaml("tiny.yaml", YAML).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated, runtime);
    let mut chains = 0;
    for op in generated.ops {
        let PlanOp::Block(b) = op else { continue };
        for s in b.sublayers {
            if let SublayerKindPlan::Ffn(f) = &s.kind {
                let h = f.hrf.expect("HRF on every FFN");
                assert_eq!(
                    (h.init, h.decay, h.lr_scale),
                    (HrfInit::Balanced, HrfDecay::Merged, 2.5)
                );
                chains += 1;
            }
        }
    }
    assert_eq!(chains, 2, "the conformer's two macaron FFNs");
    // The generated training type builds with the variants and folds.
    let train = TinyVariantsTrain::new(1);
    assert!(train.fold().is_ok());
}
