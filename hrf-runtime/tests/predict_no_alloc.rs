//! `predict_folded` performs zero heap allocations: a counting global allocator around calls
//! on every tiny family at several lengths (and on error paths).

mod folded;

use folded::{ALL_SPECS, plan, random_frames, random_train_arenas};
use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{predict_folded, scratch_len};

mod alloc_counter;

use alloc_counter::{Counting, allocations_in};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
}

#[test]
fn predict_folded_never_allocates() {
    for (k, yaml) in ALL_SPECS.iter().enumerate() {
        let plan = plan(yaml);
        let (params, buffers) = random_train_arenas(plan, 50 + k as u64);
        let weights = fold_model(plan, &params, &buffers).unwrap();
        let mut scratch = vec![0.0f32; scratch_len(plan)];
        let mut logits = vec![0.0f32; plan.classes.len()];
        for n in [1, 6, plan.max_frames] {
            let frames = random_frames(n, plan.features, n as u64);
            let allocs = allocations_in(|| {
                predict_folded(plan, &weights, &frames, &mut scratch, &mut logits).unwrap();
            });
            assert_eq!(allocs, 0, "{} n = {n}", plan.name);
            assert!(logits.iter().all(|v| v.is_finite()));
        }
        // Error paths do not allocate either.
        let mut bad = random_frames(3, plan.features, 1);
        bad[4] = f32::NAN;
        let allocs = allocations_in(|| {
            let r = predict_folded(plan, &weights, &bad, &mut scratch, &mut logits);
            assert!(r.is_err());
        });
        assert_eq!(allocs, 0, "{} error path", plan.name);
    }
}
