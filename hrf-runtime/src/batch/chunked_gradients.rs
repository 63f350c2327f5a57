//! Training parallelism: the deterministic parallel-over-utterances gradient driver.
//!
//! [`ChunkedGradients`] splits a batch's utterances into a fixed number of contiguous chunks.
//! Each chunk is processed by one rayon task, sequentially, into its own gradient buffer; the
//! buffers are then summed in chunk order. Which thread runs which chunk (work stealing)
//! therefore changes nothing: for a fixed chunk count the gradients and the loss are
//! bit-identical run to run *and for any number of threads*. Changing the chunk count changes
//! the summation order, hence the last bits.

use core::ops::Range;
use std::vec;

use rayon::prelude::*;

use super::BatchError;

/// Elements of the gradient summed per rayon task in the final reduction.
const REDUCE_BLOCK: usize = 4096;

/// The parallel-over-utterances gradient driver (see the module docs for why it is
/// deterministic). Owns one gradient accumulator per chunk, reused across steps.
#[derive(Clone, Debug)]
pub struct ChunkedGradients {
    /// (chunks, n_params) — chunk `c`'s gradient accumulator.
    chunk_grads: Vec<f32>,
    /// (chunks) — chunk `c`'s loss sum.
    chunk_losses: Vec<f64>,
    n_params: usize,
    chunks: usize,
}

impl ChunkedGradients {
    /// A driver for a model of `n_params` parameters, splitting each batch into `chunks`
    /// contiguous chunks. `chunks` fixes the summation order: keep it constant for
    /// reproducibility; a small multiple of the thread count balances load.
    pub fn new(n_params: usize, chunks: usize) -> Result<Self, BatchError> {
        if chunks == 0 {
            return Err(BatchError::ZeroSize { what: "chunks" });
        }
        if n_params == 0 {
            return Err(BatchError::ZeroSize { what: "n_params" });
        }
        Ok(ChunkedGradients {
            chunk_grads: vec![0.0; chunks * n_params],
            chunk_losses: vec![0.0; chunks],
            n_params,
            chunks,
        })
    }

    /// Number of chunks.
    pub fn chunks(&self) -> usize {
        self.chunks
    }

    /// Utterances of chunk `c` for a batch of `n` utterances: `⌊c·n/C⌋ .. ⌊(c+1)·n/C⌋`
    /// (balanced, contiguous; empty chunks when `n < C`).
    pub fn chunk_utterances(&self, n: usize, c: usize) -> Range<usize> {
        chunk_range(n, self.chunks, c)
    }

    /// Runs `per_utterance(scratch, u, grad)` for every utterance `u` in `0..n` and returns the
    /// summed loss. Accumulates into `grads` (n_params).
    ///
    /// `per_utterance` gets its chunk's scratch (`scratch` holds one per chunk), the utterance
    /// index and its chunk's gradient buffer (n_params, zeroed at the start of the call), into
    /// which its backward accumulates; it returns the utterance's loss. Within a chunk the
    /// utterances run in order; then `grads[i] += g₀[i] + g₁[i] + …` in chunk order, and the loss
    /// is `((l₀ + l₁) + …)` over chunk sums, each a sum over its utterances in order. Runs in the
    /// current rayon pool (use `ThreadPool::install` to choose one).
    pub fn run<S, F>(
        &mut self,
        scratch: &mut [S],
        n: usize,
        grads: &mut [f32],
        per_utterance: F,
    ) -> Result<f64, BatchError>
    where
        S: Send,
        F: Fn(&mut S, usize, &mut [f32]) -> f64 + Sync,
    {
        if scratch.len() != self.chunks {
            return Err(BatchError::Length {
                buffer: "scratch",
                got: scratch.len(),
                expected: self.chunks,
            });
        }
        if grads.len() != self.n_params {
            return Err(BatchError::Length {
                buffer: "grads",
                got: grads.len(),
                expected: self.n_params,
            });
        }
        let chunks = self.chunks;
        self.chunk_grads
            .par_chunks_mut(self.n_params)
            .zip(self.chunk_losses.par_iter_mut())
            .zip(scratch.par_iter_mut())
            .enumerate()
            .for_each(|(c, ((grad, loss), scratch))| {
                grad.fill(0.0);
                *loss = 0.0;
                for u in chunk_range(n, chunks, c) {
                    *loss += per_utterance(scratch, u, grad);
                }
            });

        // Fixed-order reduction: element i sums its chunks in order 0, 1, …; blocks of elements
        // run in parallel, which cannot change any element's sum. Empty chunks are skipped (which
        // ones are empty depends only on n and the chunk count).
        let busy = |c: &usize| !chunk_range(n, chunks, *c).is_empty();
        let (chunk_grads, n_params) = (&self.chunk_grads, self.n_params);
        grads
            .par_chunks_mut(REDUCE_BLOCK)
            .enumerate()
            .for_each(|(block, out)| {
                let start = block * REDUCE_BLOCK;
                for c in (0..chunks).filter(busy) {
                    let src = &chunk_grads[c * n_params + start..c * n_params + start + out.len()];
                    for (g, s) in out.iter_mut().zip(src) {
                        *g += s;
                    }
                }
            });
        Ok((0..chunks)
            .filter(busy)
            .fold(0.0, |acc, c| acc + self.chunk_losses[c]))
    }
}

/// `⌊c·n/C⌋ .. ⌊(c+1)·n/C⌋`: chunk `c`'s utterances (see [`ChunkedGradients::chunk_utterances`]).
fn chunk_range(n: usize, chunks: usize, c: usize) -> Range<usize> {
    (c * n / chunks)..((c + 1) * n / chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;
    use rayon::ThreadPoolBuilder;
    use std::vec::Vec;

    const FEATURES: usize = 7;

    /// A toy per-utterance least-squares model, `loss_u = Σ_t (w·x_t − y_u)² / len_u`, with
    /// frames spanning six orders of magnitude so that the gradient's f32 sums depend on order.
    struct Toy {
        /// (n) — each utterance's `(len, FEATURES)` frames.
        frames: Vec<Vec<f32>>,
        targets: Vec<f32>,
        /// (FEATURES)
        w: Vec<f32>,
    }

    impl Toy {
        fn new(n: usize, seed: u64) -> Toy {
            let mut rng = Rng::new(seed);
            let frames = (0..n)
                .map(|u| {
                    let len = 1 + (u * 5) % 9;
                    (0..len * FEATURES)
                        .map(|_| (rng.uniform() * 10f64.powf(3.0 * rng.uniform())) as f32)
                        .collect()
                })
                .collect();
            let targets = rng.vec(n, 50.0).into_iter().map(|t| t as f32).collect();
            let w = rng
                .vec(FEATURES, 1.0)
                .into_iter()
                .map(|v| v as f32)
                .collect();
            Toy { frames, targets, w }
        }

        /// Accumulates `dloss_u/dw = Σ_t 2·r_t·x_t / len` into `grad`; `residuals` is scratch.
        fn utterance(&self, residuals: &mut Vec<f32>, u: usize, grad: &mut [f32]) -> f64 {
            let x = &self.frames[u];
            let len = x.len() / FEATURES;
            residuals.clear();
            for t in 0..len {
                let pred: f32 = (0..FEATURES).map(|i| self.w[i] * x[t * FEATURES + i]).sum();
                residuals.push(pred - self.targets[u]);
            }
            for (t, r) in residuals.iter().enumerate() {
                for i in 0..FEATURES {
                    grad[i] += 2.0 * r * x[t * FEATURES + i] / len as f32;
                }
            }
            residuals.iter().map(|r| (r * r) as f64).sum::<f64>() / len as f64
        }

        /// One driver run in a pool of `threads`, starting from `grads = 1` (accumulation).
        fn run(&self, threads: usize, chunks: usize) -> (f64, Vec<f32>) {
            let pool = ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut driver = ChunkedGradients::new(FEATURES, chunks).unwrap();
            let mut scratch = vec![Vec::new(); chunks];
            let mut grads = vec![1.0f32; FEATURES];
            let n = self.frames.len();
            let loss = pool
                .install(|| {
                    driver.run(&mut scratch, n, &mut grads, |s, u, g| {
                        self.utterance(s, u, g)
                    })
                })
                .unwrap();
            (loss, grads)
        }

        /// The documented order, sequentially: chunk sums, then `1 + g₀ + g₁ + …` per element.
        fn sequential(&self, chunks: usize, reverse: bool) -> (f64, Vec<f32>) {
            let n = self.frames.len();
            let mut parts = Vec::new();
            for c in 0..chunks {
                let range = chunk_range(n, chunks, c);
                if range.is_empty() {
                    continue;
                }
                let mut g = vec![0.0f32; FEATURES];
                let loss: f64 = range.fold(0.0, |acc, u| {
                    acc + self.utterance(&mut Vec::new(), u, &mut g)
                });
                parts.push((loss, g));
            }
            if reverse {
                parts.reverse();
            }
            let mut grads = vec![1.0f32; FEATURES];
            let mut loss = 0.0;
            for (l, g) in &parts {
                loss += l;
                grads.iter_mut().zip(g).for_each(|(a, b)| *a += b);
            }
            (loss, grads)
        }
    }

    fn bits(g: &[f32]) -> Vec<u32> {
        g.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn parallel_gradients_are_bit_identical_run_to_run() {
        let toy = Toy::new(23, 5);
        let (loss0, g0) = toy.run(2, 4);
        for _ in 0..5 {
            let (loss, g) = toy.run(2, 4);
            assert_eq!(loss.to_bits(), loss0.to_bits());
            assert_eq!(bits(&g), bits(&g0));
        }
    }

    #[test]
    fn parallel_gradients_do_not_depend_on_thread_count() {
        let toy = Toy::new(23, 6);
        let (loss1, g1) = toy.run(1, 4);
        for threads in [2, 3] {
            let (loss, g) = toy.run(threads, 4);
            assert_eq!(loss.to_bits(), loss1.to_bits(), "{threads} threads");
            assert_eq!(bits(&g), bits(&g1), "{threads} threads");
        }
    }

    #[test]
    fn parallel_gradients_follow_the_documented_order() {
        // Bit-equal to a plain loop in the documented order (also with more chunks than
        // utterances), and that order matters: summing the chunks in reverse changes bits.
        for (n, chunks) in [(23, 4), (3, 5), (1, 2)] {
            let toy = Toy::new(n, 7);
            let (loss, g) = toy.run(2, chunks);
            let (want_loss, want_g) = toy.sequential(chunks, false);
            assert_eq!(
                loss.to_bits(),
                want_loss.to_bits(),
                "n {n}, chunks {chunks}"
            );
            assert_eq!(bits(&g), bits(&want_g), "n {n}, chunks {chunks}");
        }
        let toy = Toy::new(23, 7);
        assert_ne!(
            bits(&toy.sequential(4, false).1),
            bits(&toy.sequential(4, true).1)
        );
    }

    #[test]
    fn parallel_gradients_match_the_f64_gradient() {
        let toy = Toy::new(23, 8);
        let (_, g) = toy.run(2, 3);
        let mut want = vec![1.0f64; FEATURES];
        let mut scale = 0.0f64;
        for (u, x) in toy.frames.iter().enumerate() {
            let len = x.len() / FEATURES;
            for t in 0..len {
                let pred: f64 = (0..FEATURES)
                    .map(|i| toy.w[i] as f64 * x[t * FEATURES + i] as f64)
                    .sum();
                let r = pred - toy.targets[u] as f64;
                for i in 0..FEATURES {
                    let term = 2.0 * r * x[t * FEATURES + i] as f64 / len as f64;
                    want[i] += term;
                    scale = scale.max(term.abs());
                }
            }
        }
        for (a, b) in g.iter().zip(&want) {
            assert!(
                (*a as f64 - b).abs() <= 1e-5 * scale,
                "{a} vs {b} (scale {scale})"
            );
        }
    }

    #[test]
    fn parallel_gradients_report_wrong_buffers() {
        assert_eq!(
            ChunkedGradients::new(4, 0).unwrap_err().to_string(),
            "parallel gradients: chunks = 0; need at least one chunk and one parameter"
        );
        let mut driver = ChunkedGradients::new(4, 2).unwrap();
        let err = driver
            .run(&mut [(), (), ()], 5, &mut [0.0; 4], |_, _, _| 0.0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "parallel gradients: `scratch` has 3 entries but 2 are needed; build the driver with \
             the model's parameter count and one scratch per chunk"
        );
        let err = driver
            .run(&mut [(), ()], 5, &mut [0.0; 3], |_, _, _| 0.0)
            .unwrap_err();
        assert!(matches!(
            err,
            BatchError::Length {
                buffer: "grads",
                got: 3,
                expected: 4
            }
        ));
    }
}
