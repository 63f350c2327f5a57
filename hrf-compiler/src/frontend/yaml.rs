//! Stage 1 (YAML front-end): spec text → `Node` tree with byte/line/column spans, via the event
//! parser (`granit-parser`) that serde-saphyr is built on; syntax errors become diagnostics.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{
    Event, Marker, Parser, ScalarStyle, ScanError, Span as YamlSpan,
};

use crate::diagnostics::Diagnostics;
use crate::node::{Key, Node, NodeKind, Scalar, Span};

/// Deepest nesting accepted; a spec needs about 5 levels, and the limit keeps hostile input from
/// exhausting the stack of later (recursive) stages.
const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to, counting every alias expansion: stops "billion laughs"
/// documents (aliases of aliases) from exhausting memory. A spec has a few hundred nodes.
const MAX_NODES: usize = 100_000;

/// Parses one YAML document into a `Node`. An empty document is `NodeKind::Null`.
pub fn parse_yaml(text: &str) -> Result<Node, Diagnostics> {
    let mut builder = TreeBuilder {
        text,
        anchors: HashMap::new(),
        stack: Vec::new(),
        root: None,
        nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(pair) => pair,
            Err(e) => return Err(scan_error(text, &e)),
        };
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    let mut diags = Diagnostics::new();
                    diags
                        .error(
                            &builder.span(&span),
                            "a spec file holds exactly one YAML document",
                        )
                        .help(
                            "remove the `---` and everything after it, or move it to its own file",
                        );
                    return Err(diags);
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                builder.count(1, &span)?;
                let node = builder.scalar(&value, style, &span);
                builder.push(node, anchor, &span)?;
            }
            Event::Alias(id) => {
                let size = builder.anchors.get(&id).map_or(1, node_count);
                builder.count(size, &span)?;
                let node = match builder.anchors.get(&id) {
                    Some(n) => n.clone(),
                    None => Node {
                        kind: NodeKind::Null,
                        span: builder.span(&span),
                    },
                };
                builder.push(node, 0, &span)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                builder.count(1, &span)?;
                builder.open(Open::Seq(Vec::new()), anchor, &span)?;
            }
            Event::MappingStart(_, anchor, _) => {
                builder.count(1, &span)?;
                builder.open(Open::Map(Vec::new(), None), anchor, &span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(&span)?,
            _ => {}
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Null,
        span: Span::Text {
            offset: 0,
            len: 0,
            line: 1,
            col: 1,
        },
    }))
}

enum Open {
    Seq(Vec<Node>),
    /// Entries so far and a key waiting for its value.
    Map(Vec<(Key, Node)>, Option<Key>),
}

struct Frame {
    open: Open,
    span: Span,
    anchor: usize,
}

struct TreeBuilder<'t> {
    /// Nodes built so far, alias expansions included (bounded by `MAX_NODES`).
    nodes: usize,
    text: &'t str,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    root: Option<Node>,
}

/// Nodes in a tree (maps count their keys' values, not the keys).
fn node_count(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Map(entries) => entries.iter().map(|(_, n)| node_count(n)).sum(),
        NodeKind::Seq(items) => items.iter().map(node_count).sum(),
        NodeKind::Scalar(_) | NodeKind::Null => 0,
    }
}

impl TreeBuilder<'_> {
    fn count(&mut self, nodes: usize, span: &YamlSpan) -> Result<(), Diagnostics> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes <= MAX_NODES {
            return Ok(());
        }
        let mut diags = Diagnostics::new();
        diags
            .error(
                &self.span(span),
                format!("the spec expands to more than {MAX_NODES} YAML nodes"),
            )
            .help("a model spec is a few hundred nodes: check the anchors (`&`) and aliases (`*`)");
        Err(diags)
    }

    fn span(&self, span: &YamlSpan) -> Span {
        let start = byte_offset(self.text, &span.start);
        let end = byte_offset(self.text, &span.end).max(start);
        Span::Text {
            offset: start,
            len: end - start,
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }

    fn scalar(&self, value: &str, style: ScalarStyle, span: &YamlSpan) -> Node {
        let mut s = self.span(span);
        let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
        // Point at the content, not the quotes, so offsets inside the value line up.
        if quoted
            && let Span::Text {
                offset, len, col, ..
            } = &mut s
        {
            let first = self.text.get(*offset..).and_then(|r| r.chars().next());
            if matches!(first, Some('"' | '\'')) && *len >= 2 {
                *offset += 1;
                *len -= 2;
                *col += 1;
            }
        }
        let is_null =
            style == ScalarStyle::Plain && matches!(value, "" | "~" | "null" | "Null" | "NULL");
        let kind = if is_null {
            NodeKind::Null
        } else {
            NodeKind::Scalar(Scalar {
                text: value.to_string(),
                quoted,
                pieces: Vec::new(),
            })
        };
        Node { kind, span: s }
    }

    fn open(&mut self, open: Open, anchor: usize, span: &YamlSpan) -> Result<(), Diagnostics> {
        let span = self.span(span);
        if self.stack.len() >= MAX_DEPTH {
            let mut diags = Diagnostics::new();
            diags.error(
                &span,
                format!("the spec nests deeper than {MAX_DEPTH} levels"),
            );
            return Err(diags);
        }
        self.stack.push(Frame { open, span, anchor });
        Ok(())
    }

    fn close(&mut self, end: &YamlSpan) -> Result<(), Diagnostics> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let end_offset = byte_offset(self.text, &end.end);
        let span = match frame.span {
            Span::Text {
                offset,
                line,
                col,
                len,
            } => Span::Text {
                offset,
                len: end_offset.saturating_sub(offset).max(len),
                line,
                col,
            },
            other => other,
        };
        let kind = match frame.open {
            Open::Seq(items) => NodeKind::Seq(items),
            Open::Map(entries, _) => NodeKind::Map(entries),
        };
        let node = Node { kind, span };
        if frame.anchor != 0 {
            self.anchors.insert(frame.anchor, node.clone());
        }
        self.attach(node)
    }

    fn push(&mut self, node: Node, anchor: usize, _span: &YamlSpan) -> Result<(), Diagnostics> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node)
    }

    fn attach(&mut self, node: Node) -> Result<(), Diagnostics> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut frame.open {
            Open::Seq(items) => items.push(node),
            Open::Map(entries, pending) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => match node.kind {
                    NodeKind::Scalar(s) => {
                        *pending = Some(Key {
                            name: s.text,
                            span: node.span,
                        })
                    }
                    NodeKind::Null => {
                        *pending = Some(Key {
                            name: String::new(),
                            span: node.span,
                        })
                    }
                    _ => {
                        let mut diags = Diagnostics::new();
                        diags
                            .error(&node.span, "a map key must be a plain name")
                            .help("write keys as `name: value`");
                        return Err(diags);
                    }
                },
            },
        }
        Ok(())
    }
}

fn byte_offset(text: &str, marker: &Marker) -> usize {
    match marker.byte_offset() {
        Some(b) => b.min(text.len()),
        None => text
            .char_indices()
            .nth(marker.index())
            .map_or(text.len(), |(b, _)| b),
    }
}

fn scan_error(text: &str, e: &ScanError) -> Diagnostics {
    let m = e.marker();
    let offset = byte_offset(text, m);
    let line = m.line().max(1);
    let span = Span::Text {
        offset,
        len: 1,
        line,
        col: m.col() + 1,
    };
    let mut diags = Diagnostics::new();
    let info = e.info();
    diags
        .error(&span, format!("YAML syntax error: {info}"))
        .label(info)
        .help("check the indentation and that every `{`, `[` and quote is closed");
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_span(node: &Node) -> (usize, usize, usize, usize) {
        match node.span {
            Span::Text {
                offset,
                len,
                line,
                col,
            } => (offset, len, line, col),
            _ => panic!("YAML nodes carry text spans"),
        }
    }

    fn entries(node: &Node) -> &[(Key, Node)] {
        match &node.kind {
            NodeKind::Map(e) => e,
            other => panic!("expected a map, got {other:?}"),
        }
    }

    #[test]
    fn scalars_and_keys_carry_byte_line_and_column() {
        let text = "a: 1\nb:\n  c: \"4 * d\"\n  é: x\n";
        let root = parse_yaml(text).expect("valid YAML");
        let b = &entries(&root)[1].1;
        let (c_key, c) = &entries(b)[0];
        assert_eq!(
            text_span(&Node {
                kind: NodeKind::Null,
                span: c_key.span.clone()
            }),
            (10, 1, 3, 3)
        );
        // Quoted: the span covers the content, not the quotes.
        assert_eq!(text_span(c), (14, 5, 3, 7));
        assert!(matches!(&c.kind, NodeKind::Scalar(s) if s.quoted && s.text == "4 * d"));
        // Columns count characters, offsets count bytes (`é` is 2 bytes).
        let x = &entries(b)[1].1;
        assert_eq!(text_span(x), (27, 1, 4, 6));
    }

    #[test]
    fn aliases_expand_to_the_anchored_node() {
        let root = parse_yaml("a: &w { k: 1 }\nb: *w\n").expect("valid YAML");
        let b = &entries(&root)[1].1;
        assert_eq!(entries(b)[0].0.name, "k");
    }

    #[test]
    fn alias_bombs_are_refused_with_a_located_error() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let diags = parse_yaml(&text).expect_err("too many nodes");
        assert_eq!(diags.items.len(), 1);
        assert_eq!(
            diags.items[0].message,
            "the spec expands to more than 100000 YAML nodes"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let diags = parse_yaml(&text).expect_err("too deep");
        assert!(
            diags.items[0].message.contains("nests deeper than 64"),
            "{:?}",
            diags.items[0]
        );
    }

    #[test]
    fn empty_documents_are_null() {
        assert!(matches!(parse_yaml("").map(|n| n.kind), Ok(NodeKind::Null)));
        assert!(matches!(
            parse_yaml("# only a comment\n").map(|n| n.kind),
            Ok(NodeKind::Null)
        ));
    }
}
