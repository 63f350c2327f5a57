//! Stage 4b (budget): after layout, bounds the memory a checked model needs — parameters
//! (training form with gradients and AdamW moments, plus the folded form), training activations
//! for one batch, and the folded executor's scratch — and refuses a model over the budget with a
//! located diagnostic at the dims that drive the cost.
//!
//! Every legal dim is at most `check::MAX_DIM`, yet `d: 65536` or `max_frames: 1048576` would
//! need hundreds of GB (attention scores are frames² · heads); the budget turns that into a
//! compile error instead of an out-of-memory kill. All arithmetic is in `u128`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::CheckedModel;
use crate::diagnostics::Diagnostics;
use crate::ir::{Op, SublayerKind};
use crate::layout::SlotKind;
use crate::lower::Lowered;

/// The default memory budget: 8 GiB. The largest preset needs well under 1 GiB at batch 16, so
/// this leaves an order of magnitude for larger research models, while staying below the RAM of
/// an ordinary 16 GiB workstation or CI runner (which must also hold the corpus features and the
/// OS): a spec over it would be killed by the OS on the machines hrf is used on.
pub const DEFAULT_BUDGET: u64 = 8 << 30;
/// The environment variable that overrides [`DEFAULT_BUDGET`] (bytes, `K`/`M`/`G`/`T` suffixes).
pub const BUDGET_ENV: &str = "HRF_MEMORY_BUDGET";
/// The training batch the activation estimate assumes (`hrf train`'s default `--batch-size`).
pub const DEFAULT_BATCH: usize = 16;
/// Rows of the folded executor's activations are padded to a multiple of this many frames
/// (`hrf_runtime::infer::gemm::TIME_ALIGN`; a test in `hrf-runtime` keeps the two equal).
pub const TIME_ALIGN: usize = 16;

/// 0 = no override (then the env var, then the default).
static OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// Why a budget value is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error(
        "{source_name} = `{value}` is not a byte count: {reason}; give bytes with an optional \
         binary suffix, e.g. 8G, 512M, 16GiB or 1T"
    )]
    Malformed {
        source_name: String,
        value: String,
        reason: &'static str,
    },
}

/// Parses a byte count: digits, then optionally `K`, `M`, `G` or `T` (binary multiples: K = 1024),
/// optionally followed by `i` and/or `B` (`16G`, `16Gi`, `16GiB`, `512MB`, `1000000`); any case.
/// `source_name` names where the value came from in the error (`HRF_MEMORY_BUDGET`,
/// `--memory-budget`).
pub fn parse_bytes(source_name: &str, value: &str) -> Result<u64, BudgetError> {
    let bad = |reason| BudgetError::Malformed {
        source_name: source_name.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let s = value.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad("it does not start with a number"));
    }
    let n: u64 = s[..digits]
        .parse()
        .map_err(|_| bad("the number is too large"))?;
    let suffix = s[digits..].to_ascii_lowercase();
    let shift = match suffix.as_str() {
        "" | "b" => 0,
        "k" | "ki" | "kb" | "kib" => 10,
        "m" | "mi" | "mb" | "mib" => 20,
        "g" | "gi" | "gb" | "gib" => 30,
        "t" | "ti" | "tb" | "tib" => 40,
        _ => return Err(bad("unknown suffix (use K, M, G or T)")),
    };
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| bad("the number is too large"))?;
    if bytes == 0 {
        return Err(bad("a budget of 0 bytes admits no model"));
    }
    Ok(bytes)
}

/// Sets the budget for this process (a `--memory-budget` flag); wins over the env var.
pub fn set_budget(bytes: u64) {
    OVERRIDE.store(bytes, Ordering::Relaxed);
}

/// The budget in force: [`set_budget`], else `HRF_MEMORY_BUDGET`, else [`DEFAULT_BUDGET`].
pub fn configured_budget() -> Result<u64, BudgetError> {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => match std::env::var(BUDGET_ENV) {
            Ok(v) => parse_bytes(BUDGET_ENV, &v),
            Err(std::env::VarError::NotPresent) => Ok(DEFAULT_BUDGET),
            Err(std::env::VarError::NotUnicode(v)) => Err(BudgetError::Malformed {
                source_name: BUDGET_ENV.to_owned(),
                value: v.to_string_lossy().into_owned(),
                reason: "it is not valid UTF-8",
            }),
        },
        bytes => Ok(bytes),
    }
}

/// The three parts of a model's memory, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Training form: params, their gradients and both AdamW moments (4 `f32` per param) plus
    /// buffers; and the folded form's params and buffers.
    pub params: u128,
    /// Training activations for one batch of `batch` utterances at `max_frames`: every
    /// activation slot of the training layout (what the engine saves for backward), twice — the
    /// value and its gradient. An upper estimate (the engine reuses some gradient buffers).
    pub activations: u128,
    /// The folded executor's scratch at `max_frames` (the executor's exact formula).
    pub scratch: u128,
    /// The batch the activation figure is for.
    pub batch: usize,
}

impl MemoryEstimate {
    pub fn of(model: &CheckedModel, batch: usize) -> MemoryEstimate {
        let f32s = |n: usize| 4 * n as u128;
        let train_params = model.train.arena_len(SlotKind::Param);
        let params = 4 * f32s(train_params)
            + f32s(model.train.arena_len(SlotKind::Buffer))
            + f32s(model.folded.arena_len(SlotKind::Param))
            + f32s(model.folded.arena_len(SlotKind::Buffer));
        let activations = 2 * batch as u128 * f32s(model.train.arena_len(SlotKind::Activation));
        MemoryEstimate {
            params,
            activations,
            scratch: 4 * scratch_f32s(model),
            batch,
        }
    }

    pub fn total(&self) -> u128 {
        self.params + self.activations + self.scratch
    }
}

fn padded(x: u128) -> u128 {
    x.div_ceil(TIME_ALIGN as u128) * TIME_ALIGN as u128
}

/// `f32`s of the folded executor's scratch: the same walk as `hrf_runtime::infer::scratch`
/// (`ScratchLayout::of`), over the IR, in `u128`: two ping-pong activation buffers, im2col
/// columns, norm, hidden, context, one head's `(frames, tp)` probabilities, and a row.
pub fn scratch_f32s(model: &CheckedModel) -> u128 {
    let ir = &model.ir;
    let mut frames = ir.max_frames as u128;
    let mut tp = padded(frames);
    let (mut act, mut cols, mut norm, mut hidden, mut context, mut probs) =
        (ir.features as u128 * tp, 0u128, 0u128, 0u128, 0u128, 0u128);
    let mut row = (2 * tp).max(ir.features as u128);
    for op in &ir.ops {
        match op {
            Op::FeatureNorm { .. } | Op::Positions { .. } => {}
            Op::ConvSubsample(c) => {
                let n = frames as usize;
                frames = c.out_len(n) as u128;
                tp = padded(frames);
                act = act.max(tp * c.out_channels as u128);
                cols = cols.max(tp * (c.in_channels * c.kernel) as u128);
                row = row.max((2 * tp).max(c.out_channels as u128));
            }
            Op::Block(b) => {
                let d = b.width as u128;
                act = act.max(tp * d);
                norm = norm.max(tp * d);
                context = context.max(tp * d);
                row = row.max(d);
                for s in &b.sublayers {
                    match &s.kind {
                        SublayerKind::Ffn(f) => hidden = hidden.max(tp * f.hidden as u128),
                        SublayerKind::Attention(a) => {
                            hidden = hidden.max(tp * 3 * a.width as u128);
                            probs = probs.max(frames * tp);
                        }
                        SublayerKind::ConvModule { width, .. } => {
                            let w = *width as u128;
                            hidden = hidden.max(tp * 2 * w);
                            norm = norm.max(tp * w);
                            context = context.max(tp * w);
                        }
                    }
                }
            }
            Op::Merge(m) => {
                frames = frames.div_ceil(m.factor as u128);
                tp = padded(frames);
                let w = m.in_width.max(m.out_width) as u128;
                act = act.max(tp * w);
                row = row.max(w);
            }
            Op::FinalNorm { width, .. } | Op::Pool { width } => row = row.max(*width as u128),
            Op::Classifier { width, classes, .. } => {
                row = row.max((*width).max(*classes) as u128);
            }
        }
    }
    2 * act + cols + norm + hidden + context + probs + row
}

/// `68.0 GiB (73014444032 bytes)`.
pub fn describe_bytes(bytes: u128) -> String {
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        if bytes >= 1u128 << shift {
            let v = bytes as f64 / (1u128 << shift) as f64;
            return format!("{v:.1} {unit} ({bytes} bytes)");
        }
    }
    format!("{bytes} bytes")
}

/// Checks `model` against the configured budget at [`DEFAULT_BATCH`]; an error is located at
/// the dim that drives the largest part (the widest named dim for parameters, `max_frames` for
/// activations and scratch).
pub(crate) fn check(model: &CheckedModel, lowered: &Lowered) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    let budget = match configured_budget() {
        Ok(b) => b,
        Err(e) => {
            diags
                .error(&lowered.name.span, e.to_string())
                .label("the memory budget is needed to check this model")
                .help(format!("fix or unset {BUDGET_ENV}"));
            return Err(diags);
        }
    };
    let est = MemoryEstimate::of(model, DEFAULT_BATCH);
    if est.total() <= budget as u128 {
        return Ok(());
    }
    // The widths come from the dim the blocks are as wide as (`d`), else the largest dim.
    let width = model
        .ir
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Block(b) => Some(b.width as i64),
            _ => None,
        })
        .max();
    let named = || lowered.dims.iter().filter_map(|(n, v)| Some((n, v, v.v?)));
    let widest = named()
        .find(|(_, _, v)| Some(*v) == width)
        .or_else(|| named().max_by_key(|(_, _, v)| *v));
    let frames = format!("max_frames = {}", model.ir.max_frames);
    let (span, driver) = match widest {
        Some((name, val, v)) if est.params >= est.activations.max(est.scratch) => {
            (&val.span, format!("{} = {v}", name.value))
        }
        _ => (&lowered.max_frames.span, frames.clone()),
    };
    let dims = match widest {
        Some((name, _, v)) => {
            format!(
                "{} = {v} sets the widths and {frames} the sequence length",
                name.value
            )
        }
        None => format!("{frames} sets the sequence length"),
    };
    diags
        .error(
            span,
            format!(
                "the model needs {} of memory, more than the budget of {}: parameters (training \
                 form with gradients and AdamW moments, plus the folded form) {}, training \
                 activations for a batch of {} {}, folded inference scratch {}; {dims}",
                describe_bytes(est.total()),
                describe_bytes(budget as u128),
                describe_bytes(est.params),
                est.batch,
                describe_bytes(est.activations),
                describe_bytes(est.scratch),
            ),
        )
        .label(format!("{driver} drives the largest part"))
        .help(format!(
            "lower the dims (or max_frames; attention memory grows with its square), or raise \
             the budget with {BUDGET_ENV}=<bytes> or --memory-budget <bytes> (e.g. 32G)"
        ));
    Err(diags)
}

#[cfg(test)]
mod tests;
