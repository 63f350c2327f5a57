//! Stage 1 (conversion): the front-end-neutral `Node` tree → `SpecAst`, shared by YAML and
//! `model!` so both report the same errors in the same order.

mod fields;

use crate::ast::*;
use crate::diagnostics::Diagnostics;
use crate::node::{Key, Node, NodeKind, Span};
use crate::suggest::closest;
use fields::{Fields, boolean, describe, dim, lr_scale, probability, text, word};

const TOP: &[&str] = &[
    "name", "input", "dims", "frontend", "encoder", "pool", "dropout", "classes",
];
const INPUT: &[&str] = &["features", "max_frames"];
const FRONTEND: &[&str] = &["conv_subsample", "positions"];
const SUBSAMPLE: &[&str] = &["layers", "channels", "kernel", "stride"];
const GROUP: &[&str] = &["repeat", "block", "ffn", "attention", "conv"];
const FFN: &[&str] = &["hidden", "act", "hrf"];
const HRF: &[&str] = &["expand", "depth", "bias", "init", "decay", "lr_scale"];
const ATTENTION: &[&str] = &["heads", "window"];
const CONV: &[&str] = &["kernel"];
const MERGE: &[&str] = &["factor", "width"];

const HRF_INITS: &[(&str, HrfInit)] = &[
    ("default", HrfInit::Default),
    ("identity", HrfInit::Identity),
    ("balanced", HrfInit::Balanced),
];
const HRF_DECAYS: &[(&str, HrfDecay)] =
    &[("factors", HrfDecay::Factors), ("merged", HrfDecay::Merged)];
const BLOCKS: &[(&str, BlockKind)] = &[
    ("conv_transformer", BlockKind::ConvTransformer),
    ("conformer", BlockKind::Conformer),
    ("speechformer", BlockKind::SpeechFormer),
];
const ACTIVATIONS: &[(&str, Activation)] = &[
    ("relu", Activation::Relu),
    ("swish", Activation::Swish),
    ("gelu", Activation::Gelu),
];

/// Converts the whole document. Every problem is collected; `Err` when there was any.
/// Converts the whole document, collecting every problem. `Ok` carries the AST together with
/// the errors that did not prevent building it (an unknown field, a misspelt activation that
/// falls back to the default), so later stages can still report independent mistakes; `Err`
/// when a required part could not be read.
pub fn convert(root: &Node) -> Result<(SpecAst, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let ast = convert_spec(root, &mut diags);
    sort_by_position(&mut diags);
    match ast {
        Some(ast) => Ok((ast, diags)),
        None => {
            if diags.is_empty() {
                diags.error(&root.span, "the spec is incomplete");
            }
            Err(diags)
        }
    }
}

fn convert_spec(root: &Node, diags: &mut Diagnostics) -> Option<SpecAst> {
    let top_span = match root.span {
        Span::Text {
            offset, line, col, ..
        } => Span::Text {
            offset,
            len: 1,
            line,
            col,
        },
        ref other => other.clone(),
    };
    if matches!(root.kind, NodeKind::Null) {
        diags
            .error(&top_span, "the spec is empty")
            .help("start with `name: MyModel`, then `input`, `encoder` and `classes`");
        return None;
    }
    if !matches!(root.kind, NodeKind::Map(_)) {
        diags
            .error(
                &root.span,
                format!("a spec must be a map of fields, found {}", describe(root)),
            )
            .help("start with `name: MyModel`, then `input`, `encoder` and `classes`");
        return None;
    }
    let f = Fields::open(root, "spec", &top_span, TOP, diags)?;
    let name = f
        .required("name", "MyModel", diags)
        .and_then(|e| text(e, "MyModel", diags));
    let input = f
        .required("input", "{ features: 64, max_frames: 600 }", diags)
        .and_then(|e| input(e, diags));
    let dims_entry = f.get("dims");
    let dims = dims_entry.map(|e| dims(e, diags)).unwrap_or_default();
    // `dims` written as a list or a scalar, or under a misspelt key (`dim:`): one error says so,
    // and every use of a dim it would have defined stays silent.
    let dims_unreadable = match dims_entry {
        Some((_, node)) => !matches!(node.kind, NodeKind::Map(_) | NodeKind::Null),
        None => f.misspells("dims"),
    };
    let frontend = match f.get("frontend") {
        Some(e) => frontend(e, diags),
        None => Some(FrontendAst {
            conv_subsample: None,
            positions: None,
        }),
    };
    let encoder_entry = f.required("encoder", "[ { block: conformer, … } ]", diags);
    let encoder = encoder_entry.and_then(|e| encoder(e, diags));
    let pool = f
        .get("pool")
        .and_then(|e| word(e, "pooling", &[("mean", PoolKind::Mean)], diags));
    let dropout = f.get("dropout").and_then(|e| probability(e, diags));
    let classes_entry = f.required("classes", "[neutral, angry, happy, sad]", diags);
    let classes = classes_entry.and_then(|e| classes(e, diags));
    Some(SpecAst {
        name: name?,
        input: input?,
        dims,
        dims_unreadable,
        frontend: frontend?,
        encoder: encoder?,
        encoder_span: encoder_entry?.0.span.clone(),
        pool,
        dropout,
        classes: classes?,
        classes_span: classes_entry?.0.span.clone(),
    })
}

fn input(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<InputAst> {
    let f = Fields::open(&entry.1, "input", &entry.0.span, INPUT, diags)?;
    let features = f
        .required("features", "64", diags)
        .and_then(|e| dim(e, diags));
    let max_frames = f
        .required("max_frames", "600", diags)
        .and_then(|e| dim(e, diags));
    Some(InputAst {
        features: features?,
        max_frames: max_frames?,
    })
}

fn dims(entry: &(Key, Node), diags: &mut Diagnostics) -> Vec<(Spanned<String>, DimExpr)> {
    let (key, node) = entry;
    let entries = match &node.kind {
        NodeKind::Map(entries) => entries,
        NodeKind::Null => return Vec::new(),
        _ => {
            diags
                .error(
                    &node.span,
                    format!(
                        "`dims` must be a map of name: expression, found {}",
                        describe(node)
                    ),
                )
                .help("write `dims: { d: 64, heads: 4, ffn: 4 * d }`");
            return Vec::new();
        }
    };
    let _ = key;
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let (k, _) = entry;
        if entries[..i].iter().any(|(p, _)| p.name == k.name) {
            diags
                .error(&k.span, format!("dim `{}` is defined twice", k.name))
                .help("keep only one definition");
            continue;
        }
        let valid = k
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            diags
                .error(&k.span, format!("`{}` is not a valid dim name", k.name))
                .help("dim names are letters, digits and `_`, starting with a letter");
            continue;
        }
        if let Some(d) = dim(entry, diags) {
            out.push((
                Spanned {
                    value: k.name.clone(),
                    span: k.span.clone(),
                },
                d,
            ));
        }
    }
    out
}

fn frontend(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<FrontendAst> {
    let f = Fields::open(&entry.1, "frontend", &entry.0.span, FRONTEND, diags)?;
    let conv_subsample = match f.get("conv_subsample") {
        Some(e) => Some(subsample(e, diags)?),
        None => None,
    };
    let positions = f.get("positions").and_then(|e| {
        word(
            e,
            "positional encoding",
            &[
                ("sinusoidal", PositionsKind::Sinusoidal),
                ("none", PositionsKind::None),
            ],
            diags,
        )
    });
    Some(FrontendAst {
        conv_subsample,
        positions,
    })
}

fn subsample(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<ConvSubsampleAst> {
    let f = Fields::open(&entry.1, "conv_subsample", &entry.0.span, SUBSAMPLE, diags)?;
    let layers = f.get("layers").and_then(|e| dim(e, diags));
    let channels = f
        .required("channels", "d", diags)
        .and_then(|e| dim(e, diags));
    let kernel = f.get("kernel").and_then(|e| dim(e, diags));
    let stride = f.get("stride").and_then(|e| dim(e, diags));
    Some(ConvSubsampleAst {
        layers,
        channels: channels?,
        kernel,
        stride,
        span: entry.0.span.clone(),
    })
}

fn encoder(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<Vec<EncoderItemAst>> {
    let (key, node) = entry;
    let items = match &node.kind {
        NodeKind::Seq(items) => items,
        _ => {
            let at = if matches!(node.kind, NodeKind::Null) {
                &key.span
            } else {
                &node.span
            };
            diags
                .error(
                    at,
                    format!(
                        "`encoder` must be a list of block groups, found {}",
                        describe(node)
                    ),
                )
                .help("write `encoder: [ { block: conformer, … }, … ]`, one map per block group");
            return None;
        }
    };
    if items.is_empty() {
        diags
            .error(&node.span, "`encoder` has no blocks")
            .help("add a block group, e.g. `{ block: conformer, attention: { heads: 4 }, ffn: { hidden: 256 } }`");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        // `merg:` is a misspelt merge item, not a block group missing `block`, `ffn`, ….
        let is_merge = matches!(&item.kind, NodeKind::Map(e) if e.iter().any(|(k, _)| {
            k.name == "merge"
                || (!GROUP.contains(&k.name.as_str()) && closest(&k.name, &["merge"]).is_some())
        }));
        let converted = if is_merge {
            merge(item, diags).map(|m| EncoderItemAst::Merge(Box::new(m)))
        } else {
            group(item, diags).map(|g| EncoderItemAst::Blocks(Box::new(g)))
        };
        match converted {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn item_span(item: &Node) -> Span {
    match &item.kind {
        NodeKind::Map(entries) => entries
            .first()
            .map_or(item.span.clone(), |(k, _)| k.span.clone()),
        _ => item.span.clone(),
    }
}

fn merge(item: &Node, diags: &mut Diagnostics) -> Option<MergeAst> {
    let outer = Fields::open(item, "encoder item", &item_span(item), &["merge"], diags)?;
    let entry = outer.get("merge")?;
    let f = Fields::open(&entry.1, "merge", &entry.0.span, MERGE, diags)?;
    let factor = f.required("factor", "2", diags).and_then(|e| dim(e, diags));
    let width = f.get("width").and_then(|e| dim(e, diags));
    Some(MergeAst {
        factor: factor?,
        width,
        span: entry.0.span.clone(),
    })
}

fn group(item: &Node, diags: &mut Diagnostics) -> Option<BlockGroupAst> {
    let span = item_span(item);
    if !matches!(item.kind, NodeKind::Map(_)) {
        let is_kind =
            matches!(&item.kind, NodeKind::Scalar(s) if BLOCKS.iter().any(|(b, _)| *b == s.text));
        let kind = match &item.kind {
            NodeKind::Scalar(s) if is_kind => s.text.as_str(),
            _ => "conformer",
        };
        diags
            .error(
                &item.span,
                format!(
                    "an encoder item must be a map of fields, found {}",
                    describe(item)
                ),
            )
            .help(format!(
                "write `{{ block: {kind}, attention: {{ heads: 4 }}, ffn: {{ hidden: 256 }} }}`"
            ));
        return None;
    }
    let f = Fields::open(item, "encoder item", &span, GROUP, diags)?;
    let repeat = f.get("repeat").and_then(|e| dim(e, diags));
    let block = f
        .required("block", "conformer", diags)
        .and_then(|e| word(e, "block kind", BLOCKS, diags));
    let ffn = f
        .required("ffn", "{ hidden: ffn }", diags)
        .and_then(|e| ffn(e, diags));
    let attention = f
        .required("attention", "{ heads: heads }", diags)
        .and_then(|e| attention(e, diags));
    let conv = match f.get("conv") {
        Some(e) => Some(conv(e, diags)?),
        None => None,
    };
    Some(BlockGroupAst {
        repeat,
        block: block?,
        ffn: ffn?,
        attention: attention?,
        conv,
        span,
    })
}

fn ffn(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<FfnAst> {
    let f = Fields::open(&entry.1, "ffn", &entry.0.span, FFN, diags)?;
    let hidden = f
        .required("hidden", "4 * d", diags)
        .and_then(|e| dim(e, diags));
    let act = f
        .get("act")
        .and_then(|e| word(e, "activation", ACTIVATIONS, diags));
    // `hrf: true` asks for the defaults; `hrf: false` for none.
    let hrf = match f.get("hrf") {
        Some((
            key,
            Node {
                kind: NodeKind::Scalar(s),
                ..
            },
        )) if !s.quoted && s.text == "true" => Some(HrfAst {
            expand: None,
            depth: None,
            bias: None,
            init: None,
            decay: None,
            lr_scale: None,
            span: key.span.clone(),
        }),
        Some((
            _,
            Node {
                kind: NodeKind::Scalar(s),
                ..
            },
        )) if !s.quoted && s.text == "false" => None,
        Some(e) => Some(hrf(e, diags)?),
        None => None,
    };
    Some(FfnAst {
        hidden: hidden?,
        act,
        hrf,
    })
}

fn hrf(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<HrfAst> {
    let f = Fields::open(&entry.1, "hrf", &entry.0.span, HRF, diags)?;
    let expand = f.get("expand").and_then(|e| dim(e, diags));
    let depth = f.get("depth").and_then(|e| dim(e, diags));
    let bias = f.get("bias").and_then(|e| boolean(e, diags));
    let init = f
        .get("init")
        .and_then(|e| word(e, "hrf init", HRF_INITS, diags));
    let decay = f
        .get("decay")
        .and_then(|e| word(e, "hrf decay", HRF_DECAYS, diags));
    let lr_scale = f.get("lr_scale").and_then(|e| lr_scale(e, diags));
    Some(HrfAst {
        expand,
        depth,
        bias,
        init,
        decay,
        lr_scale,
        span: entry.0.span.clone(),
    })
}

fn attention(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<AttentionAst> {
    let f = Fields::open(&entry.1, "attention", &entry.0.span, ATTENTION, diags)?;
    let heads = f.required("heads", "4", diags).and_then(|e| dim(e, diags));
    let window = f.get("window").and_then(|e| dim(e, diags));
    Some(AttentionAst {
        heads: heads?,
        window,
    })
}

fn conv(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<ConvAst> {
    let f = Fields::open(&entry.1, "conv", &entry.0.span, CONV, diags)?;
    let kernel = f.get("kernel").and_then(|e| dim(e, diags));
    Some(ConvAst {
        kernel,
        span: entry.0.span.clone(),
    })
}

fn classes(entry: &(Key, Node), diags: &mut Diagnostics) -> Option<Vec<Spanned<String>>> {
    let (key, node) = entry;
    let NodeKind::Seq(items) = &node.kind else {
        let at = if matches!(node.kind, NodeKind::Null) {
            &key.span
        } else {
            &node.span
        };
        diags
            .error(
                at,
                format!(
                    "`classes` must be a list of class names, found {}",
                    describe(node)
                ),
            )
            .help("write `classes: [neutral, angry, happy, sad]`");
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        match &item.kind {
            NodeKind::Scalar(s) => out.push(Spanned {
                value: s.text.clone(),
                span: item.span.clone(),
            }),
            _ => {
                diags.error(
                    &item.span,
                    format!("a class name must be a word, found {}", describe(item)),
                );
            }
        }
    }
    Some(out)
}

/// Conversion visits fields in a fixed order; report them in source order instead. Token spans
/// carry no comparable position, so `model!` diagnostics keep the visiting order.
pub(crate) fn sort_by_position(diags: &mut Diagnostics) {
    let all_text = diags
        .items
        .iter()
        .all(|d| matches!(d.span, Span::Text { .. }));
    if all_text {
        diags.items.sort_by_key(|d| match d.span {
            Span::Text { offset, .. } => offset,
            _ => 0,
        });
    }
}
