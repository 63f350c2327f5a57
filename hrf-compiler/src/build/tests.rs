//! Tests of the build.rs API on temporary directories: outputs and headers, write-only-when-
//! changed, rendered spec errors, and every weights-validation message in full.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;

use super::*;

const TINY: &str = "name: TinyNet
input: { features: 8, max_frames: 32 }
dims: { d: 8, heads: 2, ffn: 2 * d }
frontend:
  conv_subsample: { layers: 1, channels: d, kernel: 3, stride: 2 }
encoder:
  - repeat: 1
    block: conv_transformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: relu, hrf: { expand: 2 } }
pool: mean
classes: [calm, upset]
";

/// A fresh directory under the system temp dir, unique per test.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrf-build-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs")).expect("temp dir");
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write test file");
}

fn tiny_model() -> CheckedModel {
    crate::compile_yaml("tiny.yaml", TINY).expect("tiny spec compiles")
}

/// A folded-weights file for `model` as the runtime writes it: value `k` of the arena is
/// `k as f32 / 1000`, so the embedded bytes can be checked exactly.
fn weights_file(model: &CheckedModel, path: &Path, edit: impl FnOnce(&mut Meta)) {
    let mut meta = Meta {
        metadata: HashMap::from([
            ("format".to_string(), FOLDED_FORMAT.to_string()),
            ("spec_name".to_string(), model.ir.name.clone()),
            ("spec_hash".to_string(), model.spec_hash()),
            (
                "dims".to_string(),
                serde_json::to_string(
                    &model
                        .ir
                        .dims
                        .iter()
                        .cloned()
                        .collect::<BTreeMap<String, i64>>(),
                )
                .expect("json"),
            ),
            (
                "classes".to_string(),
                serde_json::to_string(&model.ir.classes).expect("json"),
            ),
        ]),
        tensors: Vec::new(),
    };
    let mut k = 0;
    for slot in model.folded.params().chain(model.folded.buffers()) {
        let values: Vec<u8> = (0..slot.len())
            .flat_map(|i| ((k + i) as f32 / 1000.0).to_le_bytes())
            .collect();
        k += slot.len();
        meta.tensors
            .push((slot.name.clone(), slot.shape.clone(), values));
    }
    edit(&mut meta);
    let views: Vec<(String, TensorView<'_>)> = meta
        .tensors
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .expect("consistent test tensor");
            (name.clone(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, Some(meta.metadata)).expect("serialize");
    std::fs::write(path, bytes).expect("write weights");
}

use std::collections::BTreeMap;

struct Meta {
    metadata: HashMap<String, String>,
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
}

fn builder(dir: &Path) -> Builder {
    Builder::new()
        .spec_dir(dir.join("specs"))
        .out_dir(dir.join("out"))
        .cargo_directives(false)
}

#[test]
fn compiles_a_spec_dir_into_one_file_per_spec_and_an_index() {
    let dir = scratch_dir("outputs");
    write(&dir.join("specs/tiny.yaml"), TINY);
    write(
        &dir.join("specs/other.yaml"),
        &TINY.replace("TinyNet", "OtherNet"),
    );
    write(&dir.join("specs/notes.txt"), "not a spec");
    let output = builder(&dir).compile().expect("builds");
    let modules: Vec<&str> = output.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(modules, ["other_net", "tiny_net"], "file-name order");
    let tiny = std::fs::read_to_string(dir.join("out/tiny_net.rs")).expect("written");
    let spec_path = dir.join("specs/tiny.yaml").display().to_string();
    assert!(
        tiny.starts_with(&format!("// @generated from {spec_path} — do not edit\n")),
        "{tiny}"
    );
    assert!(tiny.contains("pub struct TinyNetFolded {"), "{tiny}");
    let index = std::fs::read_to_string(&output.index).expect("index");
    assert_eq!(
        index.lines().filter(|l| l.starts_with("include!(")).count(),
        2,
        "{index}"
    );
    assert!(index.contains("tiny_net.rs\");"), "{index}");

    // A second identical build leaves the files alone (same modification time).
    let before = std::fs::metadata(dir.join("out/tiny_net.rs"))
        .and_then(|m| m.modified())
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    builder(&dir).compile().expect("builds again");
    let after = std::fs::metadata(dir.join("out/tiny_net.rs"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spec_errors_are_rendered_for_every_failing_spec() {
    let dir = scratch_dir("errors");
    write(
        &dir.join("specs/a.yaml"),
        &TINY.replace("heads: 2", "heads: 3"),
    );
    write(
        &dir.join("specs/b.yaml"),
        &TINY
            .replace("TinyNet", "B")
            .replace("kernel: 3", "kernel: 4"),
    );
    let err = builder(&dir).compile().unwrap_err();
    let BuildError::Specs { count, rendered } = &err else {
        panic!("expected spec errors, got {err}");
    };
    assert_eq!(*count, 2);
    assert!(rendered.contains("a.yaml:9:"), "{rendered}");
    assert!(rendered.contains("b.yaml:"), "{rendered}");
    assert!(
        err.to_string()
            .starts_with("2 spec(s) failed to compile:\n")
    );
    assert!(!dir.join("out").exists(), "nothing written on error");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn embedded_weights_become_the_arena_bytes_and_a_static() {
    let dir = scratch_dir("embed");
    write(&dir.join("specs/tiny.yaml"), TINY);
    let model = tiny_model();
    weights_file(&model, &dir.join("w.safetensors"), |_| {});
    let output = builder(&dir)
        .embed_weights("TinyNet", dir.join("w.safetensors"))
        .compile()
        .expect("builds");
    let bin = output.modules[0].weights_file.clone().expect("bin written");
    let bytes = std::fs::read(bin).expect("bin");
    let arena = model.folded.param_count();
    assert_eq!(bytes.len(), 4 * arena);
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert!(
        values
            .iter()
            .enumerate()
            .all(|(k, v)| *v == k as f32 / 1000.0)
    );
    let text = std::fs::read_to_string(dir.join("out/tiny_net.rs")).expect("rs");
    assert!(
        text.contains("pub static TINY_NET: TinyNetFolded"),
        "{text}"
    );
    assert!(text.contains(&format!("[u8; {}]", 4 * arena)), "{text}");
    // The module name works as the embed target too.
    builder(&dir)
        .embed_weights("tiny_net", dir.join("w.safetensors"))
        .compile()
        .expect("module name accepted");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The error for embedding `edit`ed weights into the tiny spec, as text.
fn embed_error(test: &str, edit: impl FnOnce(&mut Meta)) -> (String, PathBuf) {
    let dir = scratch_dir(test);
    write(&dir.join("specs/tiny.yaml"), TINY);
    let weights = dir.join("w.safetensors");
    weights_file(&tiny_model(), &weights, edit);
    let err = builder(&dir)
        .embed_weights("TinyNet", &weights)
        .compile()
        .unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    (err.to_string(), dir)
}

#[test]
fn a_changed_spec_hash_says_how_to_fix_it() {
    let (message, dir) = embed_error("hash", |m| {
        m.metadata.insert(
            "spec_hash".into(),
            "0123456789abcdef0123456789abcdef".into(),
        );
    });
    let expected = format!(
        "weights were exported for spec TinyNet (hash 0123456789abcdef0123456789abcdef) but {} \
         now hashes to {}: re-run `hrf export --model <run> --out {}` or restore the spec",
        dir.join("specs/tiny.yaml").display(),
        tiny_model().spec_hash(),
        dir.join("w.safetensors").display()
    );
    assert_eq!(message, expected);
}

#[test]
fn changed_dims_are_named_before_the_hash() {
    let (message, dir) = embed_error("dims", |m| {
        m.metadata
            .insert("dims".into(), r#"{"d":16,"ffn":32,"heads":2}"#.into());
    });
    assert_eq!(
        message,
        format!(
            "weights in {} were exported with dims {{\"d\":16,\"ffn\":32,\"heads\":2}} but {} now \
             declares {{\"d\":8,\"ffn\":16,\"heads\":2}}: re-run `hrf export --model <run> --out {}` \
             with a model trained on the current spec, or restore the spec",
            dir.join("w.safetensors").display(),
            dir.join("specs/tiny.yaml").display(),
            dir.join("w.safetensors").display()
        )
    );
}

#[test]
fn another_models_weights_are_refused_by_name() {
    let (message, _) = embed_error("other", |m| {
        m.metadata
            .insert("spec_name".into(), "ConformerLight".into());
    });
    assert!(
        message.contains("holds weights of model `ConformerLight`, but")
            && message.contains("declares `TinyNet`"),
        "{message}"
    );
}

#[test]
fn a_training_checkpoint_is_not_folded_weights() {
    let (message, _) = embed_error("format", |m| {
        m.metadata
            .insert("format".into(), "hrf-checkpoint-v1".into());
    });
    assert!(
        message.contains("is not an hrf folded-weights file (metadata `format` is `hrf-checkpoint-v1`, expected `hrf-folded-v1`)"),
        "{message}"
    );
}

#[test]
fn tensor_shape_and_presence_are_checked() {
    let (message, _) = embed_error("shape", |m| {
        let (_, shape, _) = &mut m.tensors[0];
        shape.swap(0, 2);
    });
    assert!(
        message.contains("tensor `frontend.conv.0.weight` in")
            && message.contains("has shape [3, 8, 8] but")
            && message.contains("expects [8, 8, 3]"),
        "{message}"
    );
    let (message, _) = embed_error("missing", |m| {
        m.tensors.pop();
    });
    assert!(
        message.contains("has no tensor `classifier.bias` [2]"),
        "{message}"
    );
    let (message, _) = embed_error("extra", |m| {
        m.tensors.push(("stray.weight".into(), vec![1], vec![0; 4]));
    });
    assert!(
        message.contains("has tensor `stray.weight`, which the folded layout"),
        "{message}"
    );
    let (message, _) = embed_error("nan", |m| {
        let (_, _, data) = &mut m.tensors[1];
        data[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    assert!(
        message.contains("tensor `frontend.conv.0.bias` in")
            && message.contains("non-finite value at index 1"),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_safetensors_is_named() {
    let dir = scratch_dir("garbage");
    write(&dir.join("specs/tiny.yaml"), TINY);
    write(&dir.join("w.safetensors"), "hello");
    let err = builder(&dir)
        .embed_weights("TinyNet", dir.join("w.safetensors"))
        .compile()
        .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{} is not a safetensors file (",
            dir.join("w.safetensors").display()
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn embedding_into_an_unknown_model_lists_the_models() {
    let dir = scratch_dir("unknown");
    write(&dir.join("specs/tiny.yaml"), TINY);
    let err = builder(&dir)
        .embed_weights("Tiny", "w.safetensors")
        .compile()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "embed_weights(\"Tiny\", …): no spec declares a model called `Tiny` (models: TinyNet)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_specs_and_missing_out_dir_are_reported() {
    let dir = scratch_dir("empty");
    let err = builder(&dir).compile().unwrap_err();
    assert!(matches!(err, BuildError::NoSpecs), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
