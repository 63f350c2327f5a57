//! Shared fixtures of the CLI tests: scratch directories, a tiny spec and a tiny synthetic
//! manifest corpus written with hound, and a runner for the built `hrf` binary.

#![allow(dead_code)] // each test file uses a subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// The classes of every fixture corpus (the synthetic corpus's four).
pub const CLASSES: [&str; 4] = ["neutral", "angry", "happy", "sad"];

/// A shrunk Conformer with HRF: 16 log-Mel bins, ≤ 48 frames, d 8, one block. Trains in a
/// fraction of a second per epoch on the fixture corpus.
pub const TINY_SPEC: &str = "\
name: TinyHrf
input: { features: 16, max_frames: 48 }
dims: { d: 8, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 1
    block: conformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: swish, hrf: { expand: 2 } }
    conv: { kernel: 3 }
pool: mean
dropout: 0.1
classes: [neutral, angry, happy, sad]
";

/// Another model (wider, no HRF): a different spec for the wrong-spec checks.
pub const OTHER_SPEC: &str = "\
name: TinyOther
input: { features: 16, max_frames: 48 }
dims: { d: 12, heads: 2, ffn: 16 }
frontend:
  conv_subsample: { layers: 2, channels: d, kernel: 3, stride: 2 }
  positions: sinusoidal
encoder:
  - repeat: 1
    block: conformer
    attention: { heads: heads }
    ffn: { hidden: ffn, act: swish }
    conv: { kernel: 3 }
pool: mean
dropout: 0.1
classes: [neutral, angry, happy, sad]
";

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hrf-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exit code, stdout and stderr of `hrf <args>` (run in `cwd`).
pub fn hrf(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hrf"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

/// Writes a tiny 4-class corpus under `dir` and returns its manifest: `sessions` sessions of 2
/// speakers, `per_class` clips per speaker and class, 0.35 s each at 16 kHz. A class is a
/// pitch and a loudness (with per-speaker and per-clip shifts), so it is learnable. `labels`
/// names the classes (to inject unknown labels).
pub fn tiny_corpus(dir: &Path, sessions: usize, per_class: usize, labels: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir.join("wav")).unwrap();
    let mut manifest = String::from("path,label,speaker,session\n");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    for session in 1..=sessions {
        for spk in 0..2 {
            let speaker = format!("s{session}{}", ["f", "m"][spk]);
            for (c, label) in labels.iter().enumerate() {
                for k in 0..per_class {
                    let name = format!("wav/{speaker}_{label}_{k}.wav");
                    let f0 = 140.0
                        * (1.0 + 0.45 * c as f64)
                        * (1.0 + 0.06 * spk as f64 + 0.02 * k as f64);
                    let amp = 0.15 + 0.12 * (c % 2) as f64;
                    let mut w = hound::WavWriter::create(dir.join(&name), spec).unwrap();
                    for n in 0..5600 {
                        let t = n as f64 / 16_000.0;
                        let x = amp
                            * ((2.0 * std::f64::consts::PI * f0 * t).sin()
                                + 0.5 * (4.0 * std::f64::consts::PI * f0 * t).sin());
                        w.write_sample((x * 20_000.0) as i16).unwrap();
                    }
                    w.finalize().unwrap();
                    manifest.push_str(&format!("{name},{label},{speaker},ses{session}\n"));
                }
            }
        }
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, manifest).unwrap();
    path
}
