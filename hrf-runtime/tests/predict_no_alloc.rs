//! `predict_folded` performs zero heap allocations: a counting global allocator around calls
//! on every tiny family at several lengths (and on error paths).

mod folded;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use folded::{ALL_SPECS, plan, random_frames, random_train_arenas};
use hrf_runtime::fold::fold_model;
use hrf_runtime::infer::{predict_folded, scratch_len};

/// Counts allocations (and reallocations) on this thread's calls while `ARMED`.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if ARMED.try_with(|a| a.get()).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

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
