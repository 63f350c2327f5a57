//! A misspelling of every spec field, and the names other toolkits use for ours: each is one
//! error at the key with a "did you mean" (and no "missing field" for the one it stands for).

use hrf_compiler::compile_yaml;

mod yaml_errors_common;
use yaml_errors_common::{BASE, SPEECHFORMER, edit, rendered};

/// (base spec, text, misspelt text, the full rendered diagnostics).
const TYPOS: &[(&str, &str, &str, &str)] = &[
    (
        BASE,
        "name:",
        "nmae:",
        r#"
error: unknown field `nmae` in `spec`
--> specs/bad.yaml:1:1
  |
1 | nmae: Tiny
  | ^^^^ unknown field `nmae` in `spec`
  = help: did you mean `name`?
"#,
    ),
    (
        BASE,
        "input:",
        "inptu:",
        r#"
error: unknown field `inptu` in `spec`
--> specs/bad.yaml:2:1
  |
2 | inptu: { features: 64, max_frames: 600 }
  | ^^^^^ unknown field `inptu` in `spec`
  = help: did you mean `input`?
"#,
    ),
    (
        BASE,
        "features:",
        "featrues:",
        r#"
error: unknown field `featrues` in `input`
--> specs/bad.yaml:2:10
  |
2 | input: { featrues: 64, max_frames: 600 }
  |          ^^^^^^^^ unknown field `featrues` in `input`
  = help: did you mean `features`?
"#,
    ),
    (
        BASE,
        "max_frames:",
        "max_frame:",
        r#"
error: unknown field `max_frame` in `input`
--> specs/bad.yaml:2:24
  |
2 | input: { features: 64, max_frame: 600 }
  |                        ^^^^^^^^^ unknown field `max_frame` in `input`
  = help: did you mean `max_frames`?
"#,
    ),
    (
        BASE,
        "frontend:",
        "fronted:",
        r#"
error: unknown field `fronted` in `spec`
--> specs/bad.yaml:4:1
  |
4 | fronted:
  | ^^^^^^^ unknown field `fronted` in `spec`
  = help: did you mean `frontend`?
"#,
    ),
    (
        BASE,
        "conv_subsample:",
        "conv_subsampel:",
        r#"
error: unknown field `conv_subsampel` in `frontend`
--> specs/bad.yaml:5:3
  |
5 |   conv_subsampel: { layers: 2, channels: d, kernel: 3, stride: 2 }
  |   ^^^^^^^^^^^^^^ unknown field `conv_subsampel` in `frontend`
  = help: did you mean `conv_subsample`?
"#,
    ),
    (
        BASE,
        "layers:",
        "layres:",
        r#"
error: unknown field `layres` in `conv_subsample`
--> specs/bad.yaml:5:21
  |
5 |   conv_subsample: { layres: 2, channels: d, kernel: 3, stride: 2 }
  |                     ^^^^^^ unknown field `layres` in `conv_subsample`
  = help: did you mean `layers`?
"#,
    ),
    (
        BASE,
        "channels:",
        "chanels:",
        r#"
error: unknown field `chanels` in `conv_subsample`
--> specs/bad.yaml:5:32
  |
5 |   conv_subsample: { layers: 2, chanels: d, kernel: 3, stride: 2 }
  |                                ^^^^^^^ unknown field `chanels` in `conv_subsample`
  = help: did you mean `channels`?
"#,
    ),
    (
        BASE,
        "kernel: 3",
        "kernal: 3",
        r#"
error: unknown field `kernal` in `conv_subsample`
--> specs/bad.yaml:5:45
  |
5 |   conv_subsample: { layers: 2, channels: d, kernal: 3, stride: 2 }
  |                                             ^^^^^^ unknown field `kernal` in `conv_subsample`
  = help: did you mean `kernel`?
"#,
    ),
    (
        BASE,
        "stride:",
        "strid:",
        r#"
error: unknown field `strid` in `conv_subsample`
--> specs/bad.yaml:5:56
  |
5 |   conv_subsample: { layers: 2, channels: d, kernel: 3, strid: 2 }
  |                                                        ^^^^^ unknown field `strid` in `conv_subsample`
  = help: did you mean `stride`?
"#,
    ),
    (
        BASE,
        "encoder:",
        "encodr:",
        r#"
error: unknown field `encodr` in `spec`
--> specs/bad.yaml:6:1
  |
6 | encodr:
  | ^^^^^^ unknown field `encodr` in `spec`
  = help: did you mean `encoder`?
"#,
    ),
    (
        BASE,
        "repeat:",
        "repat:",
        r#"
error: unknown field `repat` in `encoder item`
--> specs/bad.yaml:7:5
  |
7 |   - repat: 2
  |     ^^^^^ unknown field `repat` in `encoder item`
  = help: did you mean `repeat`?
"#,
    ),
    (
        BASE,
        "block:",
        "blok:",
        r#"
error: unknown field `blok` in `encoder item`
--> specs/bad.yaml:8:5
  |
8 |     blok: conformer
  |     ^^^^ unknown field `blok` in `encoder item`
  = help: did you mean `block`?
"#,
    ),
    (
        BASE,
        "ffn: {",
        "fnn: {",
        r#"
error: unknown field `fnn` in `encoder item`
--> specs/bad.yaml:10:5
   |
10 |     fnn: { hidden: ffn, act: swish }
   |     ^^^ unknown field `fnn` in `encoder item`
   = help: did you mean `ffn`?
"#,
    ),
    (
        BASE,
        "hidden:",
        "hiden:",
        r#"
error: unknown field `hiden` in `ffn`
--> specs/bad.yaml:10:12
   |
10 |     ffn: { hiden: ffn, act: swish }
   |            ^^^^^ unknown field `hiden` in `ffn`
   = help: did you mean `hidden`?
"#,
    ),
    (
        BASE,
        "act:",
        "activation:",
        r#"
error: unknown field `activation` in `ffn`
--> specs/bad.yaml:10:25
   |
10 |     ffn: { hidden: ffn, activation: swish }
   |                         ^^^^^^^^^^ unknown field `activation` in `ffn`
   = help: did you mean `act`?
"#,
    ),
    (
        BASE,
        "attention:",
        "atention:",
        r#"
error: unknown field `atention` in `encoder item`
--> specs/bad.yaml:9:5
  |
9 |     atention: { heads: heads }
  |     ^^^^^^^^ unknown field `atention` in `encoder item`
  = help: did you mean `attention`?
"#,
    ),
    (
        BASE,
        "heads: heads",
        "head: heads",
        r#"
error: unknown field `head` in `attention`
--> specs/bad.yaml:9:18
  |
9 |     attention: { head: heads }
  |                  ^^^^ unknown field `head` in `attention`
  = help: did you mean `heads`?
"#,
    ),
    (
        BASE,
        "conv: {",
        "cnov: {",
        r#"
error: unknown field `cnov` in `encoder item`
--> specs/bad.yaml:11:5
   |
11 |     cnov: { kernel: 15 }
   |     ^^^^ unknown field `cnov` in `encoder item`
   = help: did you mean `conv`?
"#,
    ),
    (
        BASE,
        "classes:",
        "clases:",
        r#"
error: unknown field `clases` in `spec`
--> specs/bad.yaml:12:1
   |
12 | clases: [neutral, angry, happy, sad]
   | ^^^^^^ unknown field `clases` in `spec`
   = help: did you mean `classes`?
"#,
    ),
    (
        BASE,
        "act: swish",
        "act: swish, hrf: { expnad: 4 }",
        r#"
error: unknown field `expnad` in `hrf`
--> specs/bad.yaml:10:44
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { expnad: 4 } }
   |                                            ^^^^^^ unknown field `expnad` in `hrf`
   = help: did you mean `expand`?
"#,
    ),
    (
        BASE,
        "act: swish",
        "act: swish, hrf: { dpeth: 2 }",
        r#"
error: unknown field `dpeth` in `hrf`
--> specs/bad.yaml:10:44
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { dpeth: 2 } }
   |                                            ^^^^^ unknown field `dpeth` in `hrf`
   = help: did you mean `depth`?
"#,
    ),
    (
        BASE,
        "act: swish",
        "act: swish, hrf: { bais: false }",
        r#"
error: unknown field `bais` in `hrf`
--> specs/bad.yaml:10:44
   |
10 |     ffn: { hidden: ffn, act: swish, hrf: { bais: false } }
   |                                            ^^^^ unknown field `bais` in `hrf`
   = help: did you mean `bias`?
"#,
    ),
    (
        BASE,
        "classes:",
        "dropuot: 0.1\nclasses:",
        r#"
error: unknown field `dropuot` in `spec`
--> specs/bad.yaml:12:1
   |
12 | dropuot: 0.1
   | ^^^^^^^ unknown field `dropuot` in `spec`
   = help: did you mean `dropout`?
"#,
    ),
    (
        BASE,
        "classes:",
        "pol: mean\nclasses:",
        r#"
error: unknown field `pol` in `spec`
--> specs/bad.yaml:12:1
   |
12 | pol: mean
   | ^^^ unknown field `pol` in `spec`
   = help: did you mean `pool`?
"#,
    ),
    (
        BASE,
        "channels: d,",
        "channels: d, positions: none,",
        r#"
error: `positions` belongs in `frontend:`, beside `conv_subsample:`, not inside it
--> specs/bad.yaml:5:45
  |
5 |   conv_subsample: { layers: 2, channels: d, positions: none, kernel: 3, stride: 2 }
  |                                             ^^^^^^^^^ `positions` belongs in `frontend:`, beside `conv_subsample:`, not inside it
  = help: write `frontend: { conv_subsample: { … }, positions: none }`
"#,
    ),
    (
        BASE,
        "attention: { heads: heads }",
        "attention: { num_heads: heads }",
        r#"
error: unknown field `num_heads` in `attention`
--> specs/bad.yaml:9:18
  |
9 |     attention: { num_heads: heads }
  |                  ^^^^^^^^^ unknown field `num_heads` in `attention`
  = help: did you mean `heads`?
"#,
    ),
    (
        BASE,
        "kernel: 15",
        "kernel_size: 15",
        r#"
error: unknown field `kernel_size` in `conv`
--> specs/bad.yaml:11:13
   |
11 |     conv: { kernel_size: 15 }
   |             ^^^^^^^^^^^ unknown field `kernel_size` in `conv`
   = help: did you mean `kernel`?
"#,
    ),
    (
        SPEECHFORMER,
        "window:",
        "windw:",
        r#"
error: unknown field `windw` in `attention`
--> specs/bad.yaml:8:32
  |
8 |     attention: { heads: heads, windw: 5 }
  |                                ^^^^^ unknown field `windw` in `attention`
  = help: did you mean `window`?
"#,
    ),
    (
        SPEECHFORMER,
        "factor:",
        "facter:",
        r#"
error: unknown field `facter` in `merge`
--> specs/bad.yaml:10:14
   |
10 |   - merge: { facter: 2 }
   |              ^^^^^^ unknown field `facter` in `merge`
   = help: did you mean `factor`?
"#,
    ),
];

#[test]
fn every_field_misspelt_gives_one_error_with_a_suggestion() {
    let mut wrong = Vec::new();
    for &(base, from, to, expected) in TYPOS {
        let text = edit(base, from, to);
        let errors = compile_yaml("specs/bad.yaml", &text).map_or_else(|d| d.len(), |_| 0);
        let got = rendered(&text);
        let expected = expected.strip_prefix('\n').unwrap_or(expected);
        if errors != 1 || got != expected {
            wrong.push(format!("`{to}` ({errors} errors):\n{got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
