//! Stage 3 (check): `Lowered` → `ModelIr`. Checks every value and relationship (positivity,
//! heads | d, windows vs sequence lengths, kernels, classes…), collecting every error with its
//! span before returning, then builds the explicit op list.

use crate::ast::{BlockKind, PositionsKind, Spanned};
use crate::diagnostics::Diagnostics;
use crate::ir::*;
use crate::lower::{Lowered, LoweredGroup, LoweredItem, Val};

/// Largest value any dim or field may take; keeps every product in the layout far from overflow.
pub const MAX_DIM: i64 = 1 << 24;
/// Most blocks one `repeat` may ask for, and most subsampling conv layers.
pub const MAX_REPEAT: usize = 256;
pub const MAX_SUBSAMPLE_LAYERS: usize = 8;
/// Most linear layers one HRF chain may hold (design.md §1 uses 1).
pub const MAX_HRF_DEPTH: usize = 8;

pub fn check(l: &Lowered) -> Result<ModelIr, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut c = Checker { diags: &mut diags };
    c.name(&l.name);
    let features = c.positive(&l.features, "features");
    let max_frames = c.positive(&l.max_frames, "max_frames");

    let mut ops = Vec::new();
    ops.push(Op::FeatureNorm {
        name: "frontend.norm".into(),
        features: features.unwrap_or(0),
    });
    // `frames` / `width` are None once unknown: dependent checks are skipped (no cascade).
    let mut frames = max_frames;
    let mut width = features;
    if let Some(s) = &l.subsample {
        let layers = c
            .positive(&s.layers, "layers")
            .and_then(|n| c.at_most(n, MAX_SUBSAMPLE_LAYERS, &s.layers, "layers"));
        let channels = c.positive(&s.channels, "channels");
        let kernel = c
            .positive(&s.kernel, "kernel")
            .and_then(|k| c.odd_kernel(k, &s.kernel, "the subsampling conv"));
        let stride = c.positive(&s.stride, "stride");
        let factor = match (layers, stride) {
            (Some(n), Some(st)) => u32::try_from(n)
                .ok()
                .and_then(|n| st.checked_pow(n))
                .filter(|f| *f as i64 <= MAX_DIM),
            _ => None,
        };
        if layers.is_some() && stride.is_some() && factor.is_none() {
            c.diags
                .error(&s.span, "the subsampling factor stride^layers is too large");
        }
        if let (Some(mf), Some(f)) = (max_frames, factor)
            && mf < f
        {
            c.diags
                .error(
                    &l.max_frames.span,
                    format!(
                        "max_frames = {mf} is shorter than the subsampling factor {f}: no frame would be left"
                    ),
                )
                .help(format!(
                    "the frontend divides frames by {f} (stride^layers); max_frames must be a multiple of {f}: try max_frames = {f}"
                ));
        } else if let (Some(mf), Some(f)) = (max_frames, factor)
            && mf % f != 0
        {
            let down = mf / f * f;
            let up = down + f;
            let try_ = if down > 0 {
                format!("max_frames = {down} or {up}")
            } else {
                format!("max_frames = {up}")
            };
            c.diags
                .error(
                    &l.max_frames.span,
                    format!("max_frames = {mf} is not divisible by the subsampling factor {f}"),
                )
                .help(format!(
                    "the frontend divides frames by {f} (stride^layers); try {try_}"
                ));
        }
        let (mut in_ch, mut n) = (features, max_frames);
        if let (Some(layers), Some(ch), Some(k), Some(st)) = (layers, channels, kernel, stride) {
            for i in 0..layers {
                let conv = ConvIr {
                    name: format!("frontend.conv.{i}"),
                    in_channels: in_ch.unwrap_or(0),
                    out_channels: ch,
                    kernel: k,
                    stride: st,
                    padding: k / 2,
                    in_frames: n.unwrap_or(0),
                    out_frames: 0,
                };
                let out = n.map(|n| conv.out_len(n));
                ops.push(Op::ConvSubsample(ConvIr {
                    out_frames: out.unwrap_or(0),
                    ..conv
                }));
                in_ch = Some(ch);
                n = out;
            }
            frames = n;
        } else {
            frames = None;
        }
        width = channels;
    }
    if l.positions == PositionsKind::Sinusoidal {
        ops.push(Op::Positions {
            width: width.unwrap_or(0),
            frames: frames.unwrap_or(0),
        });
    }

    let mut block_index = 0;
    let mut merge_index = 0;
    let mut last_kind = None;
    for (i, item) in l.items.iter().enumerate() {
        match item {
            LoweredItem::Merge {
                factor,
                width: new_width,
                span,
            } => {
                let between = l.items[..i].iter().any(is_speechformer)
                    && l.items[i + 1..].iter().any(is_speechformer);
                if !between {
                    c.diags
                        .error(span, "`merge` must sit between two speechformer stages")
                        .help("put block groups with `block: speechformer` before and after it");
                }
                let f = c.positive(factor, "factor");
                let w = match new_width {
                    Some(v) => c.positive(v, "width"),
                    None => width,
                };
                let out_frames = frames.zip(f).map(|(n, f)| n.div_ceil(f));
                if let (Some(f), Some(iw), Some(w), Some(n), Some(o)) =
                    (f, width, w, frames, out_frames)
                {
                    ops.push(Op::Merge(MergeIr {
                        name: format!("merge.{merge_index}"),
                        factor: f,
                        in_width: iw,
                        out_width: w,
                        in_frames: n,
                        out_frames: o,
                    }));
                }
                merge_index += 1;
                frames = out_frames;
                width = w;
            }
            LoweredItem::Group(g) => {
                let blocks = c.group(g, width, frames, l.max_frames.v);
                last_kind = Some(g.block.value);
                for mut b in blocks {
                    let name = format!("encoder.{block_index}");
                    b.name = name.clone();
                    for s in &mut b.sublayers {
                        s.name = format!("{name}.{}", s.name);
                    }
                    ops.push(Op::Block(b));
                    block_index += 1;
                }
            }
        }
    }
    let w = width.unwrap_or(0);
    if last_kind != Some(BlockKind::Conformer) {
        ops.push(Op::FinalNorm {
            name: "final_norm".into(),
            width: w,
        });
    }
    ops.push(Op::Pool { width: w });
    c.classes(&l.classes, &l.classes_span);
    ops.push(Op::Classifier {
        name: "classifier".into(),
        width: w,
        classes: l.classes.len(),
    });
    crate::convert::sort_by_position(&mut diags);
    diags.finish()?;

    Ok(ModelIr {
        name: l.name.value.clone(),
        module: snake_case(&l.name.value),
        features: features.unwrap_or(0),
        max_frames: max_frames.unwrap_or(0),
        dims: l
            .dims
            .iter()
            .map(|(n, v)| (n.value.clone(), v.v.unwrap_or(0)))
            .collect(),
        classes: l.classes.iter().map(|c| c.value.clone()).collect(),
        dropout: l.dropout,
        pool: l.pool,
        ops,
    })
}

fn is_speechformer(item: &LoweredItem) -> bool {
    matches!(item, LoweredItem::Group(g) if g.block.value == BlockKind::SpeechFormer)
}

/// `ConformerLightHrf` → `conformer_light_hrf`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

struct Checker<'d> {
    diags: &'d mut Diagnostics,
}

impl Checker<'_> {
    fn name(&mut self, name: &Spanned<String>) {
        let ok = name
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
            && name.value.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            let suggestion: String = name
                .value
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                .collect();
            let help = if suggestion
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
            {
                format!("generated types are named after it: try `{suggestion}`")
            } else {
                "generated types are named after it: try e.g. `ConformerLight`".into()
            };
            self.diags
                .error(
                    &name.span,
                    format!("model name `{}` must be a CamelCase identifier", name.value),
                )
                .help(help);
        }
    }

    /// The value as `usize` when it is in 1..=MAX_DIM; reports otherwise.
    fn positive(&mut self, val: &Val, what: &str) -> Option<usize> {
        let v = val.v?;
        if v <= 0 {
            self.diags
                .error(&val.span, format!("`{what}` = {v} must be positive"))
                .help(format!("give `{what}` a value of at least 1"));
            return None;
        }
        if v > MAX_DIM {
            self.diags
                .error(&val.span, format!("`{what}` = {v} is too large"))
                .help(format!("hrf models use sizes up to {MAX_DIM}"));
            return None;
        }
        usize::try_from(v).ok()
    }

    fn at_most(&mut self, v: usize, limit: usize, val: &Val, what: &str) -> Option<usize> {
        if v <= limit {
            return Some(v);
        }
        self.diags
            .error(
                &val.span,
                format!("`{what}` = {v} is more than the limit of {limit}"),
            )
            .help(format!("use `{what}` ≤ {limit}"));
        None
    }

    fn odd_kernel(&mut self, k: usize, val: &Val, which: &str) -> Option<usize> {
        if k % 2 == 1 {
            return Some(k);
        }
        self.diags
            .error(
                &val.span,
                format!(
                    "kernel = {k} is even, but {which} uses same padding (kernel / 2 on each side)"
                ),
            )
            .help(format!(
                "use an odd kernel: try kernel = {} or {}",
                k.saturating_sub(1).max(1),
                k + 1
            ));
        None
    }

    fn group(
        &mut self,
        g: &LoweredGroup,
        width: Option<usize>,
        frames: Option<usize>,
        max_frames: Option<i64>,
    ) -> Vec<BlockIr> {
        let repeat = self
            .positive(&g.repeat, "repeat")
            .and_then(|r| self.at_most(r, MAX_REPEAT, &g.repeat, "repeat"));
        let hidden = self.positive(&g.hidden, "hidden");
        let heads = self.positive(&g.heads, "heads");
        if let (Some(h), Some(w)) = (heads, width)
            && w % h != 0
        {
            self.diags
                .error(
                    &g.heads.span,
                    format!("heads = {h} does not divide d = {w}"),
                )
                .help(divisor_help(h, w));
        }
        let window = match &g.window {
            Some(v) => self.positive(v, "window"),
            None => None,
        };
        if let (Some(win), Some(n), Some(wv)) = (window, frames, &g.window)
            && win > n
        {
            self.diags
                .error(&wv.span, format!("attention window {win} is larger than the sequence ({n} frames after subsampling at max_frames = {})", max_frames.unwrap_or(0)))
                .help(format!("use window ≤ {n}, or remove `window` for global attention"));
        }
        let hrf = g.hrf.as_ref().and_then(|h| {
            let expand = self.at_least_one(&h.expand, "expand");
            let depth = self
                .at_least_one(&h.depth, "depth")
                .and_then(|d| self.at_most(d, MAX_HRF_DEPTH, &h.depth, "depth"));
            let (e, d, w) = (expand?, depth?, width?);
            // The HRF layer is m = expand · d wide: the same size limit as any dim.
            if e.checked_mul(w).is_none_or(|m| m as i64 > MAX_DIM) {
                self.diags
                    .error(
                        &h.expand.span,
                        format!("hrf expand = {e} makes the HRF layer {e} · {w} units wide, more than {MAX_DIM}"),
                    )
                    .help("expand is the ratio m / d of the HRF layer; 4 is the usual choice");
                return None;
            }
            Some(HrfIr {
                expand: e,
                depth: d,
                bias: h.bias,
                inner: e * w,
                init: h.init,
                decay: h.decay,
                lr_scale: h.lr_scale,
            })
        });
        let kernel = match (g.block.value, &g.conv_span) {
            (BlockKind::Conformer, _) => self
                .positive(&g.conv_kernel, "kernel")
                .and_then(|k| self.odd_kernel(k, &g.conv_kernel, "the conformer depthwise conv")),
            (kind, Some(span)) => {
                let name = match kind {
                    BlockKind::ConvTransformer => "conv_transformer",
                    _ => "speechformer",
                };
                self.diags
                    .error(
                        span,
                        format!("`conv` is only used by conformer blocks, not `{name}`"),
                    )
                    .help("remove `conv:` or use `block: conformer`");
                None
            }
            _ => Some(0),
        };
        let (Some(repeat), Some(hidden), Some(heads), Some(w), Some(n), Some(kernel)) =
            (repeat, hidden, heads, width, frames, kernel)
        else {
            return Vec::new();
        };
        if g.hrf.is_some() && hrf.is_none() {
            return Vec::new();
        }
        let ffn = |name: &str, scale: f64| SublayerIr {
            name: name.into(),
            residual_scale: scale,
            kind: SublayerKind::Ffn(FfnIr {
                width: w,
                hidden,
                act: g.act,
                hrf: hrf.clone(),
            }),
        };
        let attn = SublayerIr {
            name: "attn".into(),
            residual_scale: 1.0,
            kind: SublayerKind::Attention(AttentionIr {
                width: w,
                heads,
                head_dim: w / heads,
                window,
            }),
        };
        let sublayers = match g.block.value {
            BlockKind::Conformer => vec![
                ffn("ffn1", 0.5),
                attn,
                SublayerIr {
                    name: "conv".into(),
                    residual_scale: 1.0,
                    kind: SublayerKind::ConvModule { width: w, kernel },
                },
                ffn("ffn2", 0.5),
            ],
            _ => vec![attn, ffn("ffn", 1.0)],
        };
        let block = BlockIr {
            name: String::new(),
            kind: g.block.value,
            width: w,
            frames: n,
            sublayers,
            final_norm: g.block.value == BlockKind::Conformer,
        };
        vec![block; repeat]
    }

    fn at_least_one(&mut self, val: &Val, what: &str) -> Option<usize> {
        let v = val.v?;
        if v < 1 {
            self.diags
                .error(&val.span, format!("hrf {what} = {v} must be at least 1"))
                .help(if what == "expand" {
                    "expand is the ratio m / d of the HRF layer; 4 is the usual choice"
                } else {
                    "depth is the number of HRF layers; 1 is the usual choice"
                });
            return None;
        }
        self.positive(val, what)
    }

    fn classes(&mut self, classes: &[Spanned<String>], span: &crate::node::Span) {
        for (i, c) in classes.iter().enumerate() {
            if c.value.trim().is_empty() {
                self.diags.error(&c.span, "a class name is empty");
            } else if classes[..i].iter().any(|p| p.value == c.value) {
                self.diags
                    .error(&c.span, format!("class `{}` is listed twice", c.value))
                    .help("class names must be unique");
            }
        }
        if classes.len() < 2 {
            self.diags
                .error(
                    span,
                    format!(
                        "a classifier needs at least 2 classes, found {}",
                        classes.len()
                    ),
                )
                .help("list every class, e.g. `classes: [neutral, angry, happy, sad]`");
        }
    }
}

/// "try heads = 4 or 8": the nearest divisors of `width` below and above `heads`.
fn divisor_help(heads: usize, width: usize) -> String {
    let below = (1..heads).rev().find(|h| width.is_multiple_of(*h));
    let above = (heads + 1..=width).find(|h| width.is_multiple_of(*h));
    match (below, above) {
        (Some(b), Some(a)) => format!("try heads = {b} or {a}"),
        (Some(b), None) => format!("try heads = {b}"),
        (None, Some(a)) => format!("try heads = {a}"),
        (None, None) => "heads must divide d".into(),
    }
}
