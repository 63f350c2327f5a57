//! End-to-end tests of the optional espeak-ng engine on a tiny configuration (1 sentence per
//! session, 80 clips): determinism, manifest format and loading, reuse/regeneration, errors.
//!
//! They need the espeak-ng program, so they are compiled only with the `espeak-tests` feature:
//! `.ci/run` installs espeak-ng and runs `cargo test -p hrf-audio --features espeak-tests --test
//! espeak`, where a missing espeak-ng fails them. The README's `cargo test --workspace` needs
//! nothing but Rust.
#![cfg(feature = "espeak-tests")]

use std::path::{Path, PathBuf};

use hrf_audio::datasets::load_manifest;
use hrf_audio::synth::{self, SynthConfig};
use hrf_audio::wav::read_wav;

fn require_espeak() {
    if let Err(e) = synth::locate_espeak(Path::new("espeak-ng")) {
        panic!("these tests need espeak-ng on PATH ({e})");
    }
}

fn tiny(out_dir: &Path) -> SynthConfig {
    SynthConfig {
        out_dir: out_dir.to_path_buf(),
        sentences_per_session: 1,
        ..SynthConfig::espeak()
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn tiny_corpus_is_deterministic_loads_as_a_manifest_and_is_reused_or_repaired() {
    require_espeak();
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));

    let first = synth::generate(&tiny(&a)).expect("generate a");
    assert_eq!((first.clips, first.reused), (80, false));
    // One worker instead of two: scheduling must not change a single byte.
    let second = synth::generate(&SynthConfig {
        workers: 1,
        ..tiny(&b)
    })
    .expect("generate b");
    assert_eq!(second.clips, 80);
    let sums = read(a.join(synth::CHECKSUM_FILE));
    assert_eq!(
        sums,
        read(b.join(synth::CHECKSUM_FILE)),
        "two generations differ"
    );
    // 80 WAVs + manifest + corpus.json.
    assert_eq!(sums.lines().count(), 82);
    assert_eq!(synth::verify_corpus(&a).expect("verifies"), 82);

    // The manifest: header, then path,label,speaker,session rows with relative paths.
    let manifest = read(a.join(synth::MANIFEST_FILE));
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), 81);
    assert_eq!(lines[0], "path,label,speaker,session");
    assert_eq!(lines[1], "wav/S1F/S1F_t001_neu_normal.wav,neutral,S1F,1");
    assert_eq!(lines[80], "wav/S5M/S5M_t005_sad_strong.wav,sad,S5M,5");

    // It loads through the generic loader with nothing skipped: 4 classes × 20, 5 sessions.
    let dataset = load_manifest(&a.join(synth::MANIFEST_FILE), None).expect("loads");
    assert!(dataset.skipped.is_empty(), "{:?}", dataset.skipped);
    assert_eq!(dataset.utterances.len(), 80);
    assert_eq!(dataset.classes, ["angry", "happy", "neutral", "sad"]);
    for class in 0..4 {
        assert_eq!(
            dataset
                .utterances
                .iter()
                .filter(|u| u.label == class)
                .count(),
            20
        );
    }
    let mut sessions: Vec<_> = dataset
        .utterances
        .iter()
        .filter_map(|u| u.group.clone())
        .collect();
    sessions.dedup();
    assert_eq!(sessions, ["1", "2", "3", "4", "5"]);

    // Every clip is 16 kHz mono 16-bit and holds speech (not silence) of plausible length.
    let clip = a.join("wav/S3M/S3M_t003_hap_strong.wav");
    let spec = hound::WavReader::open(&clip).expect("opens").spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    let audio = read_wav(&clip).expect("decodes");
    let seconds = audio.samples.len() as f64 / 16_000.0;
    assert!((1.0..6.0).contains(&seconds), "{seconds} s");
    assert!(audio.samples.iter().any(|x| x.abs() > 0.05));

    // No clip reaches full scale: espeak-ng's amplitude is lowered for loud takes. The strong
    // angry take of S4F (the highest voice) clipped at the fixed amplitude 30 used before.
    for line in lines.iter().skip(1) {
        let rel = line.split(',').next().expect("path column");
        let samples = read_wav(a.join(rel)).expect("decodes").samples;
        let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak < 32_767.0 / 32_768.0, "{rel} peaks at {peak}");
    }
    let loud = read_wav(a.join("wav/S4F/S4F_t004_ang_strong.wav")).expect("decodes");
    let loud_peak = loud.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!((0.5..0.95).contains(&loud_peak), "{loud_peak}");

    // Unchanged corpus and config: reused. A corrupted clip: regenerated to the same bytes.
    assert!(synth::generate(&tiny(&a)).expect("reuse").reused);
    std::fs::write(&clip, b"corrupt").expect("corrupt a clip");
    let repaired = synth::generate(&tiny(&a)).expect("regenerate");
    assert!(!repaired.reused);
    assert_eq!(read(a.join(synth::CHECKSUM_FILE)), sums);
    // A different seed is a different corpus: not reused, different audio.
    let reseeded = synth::generate(&SynthConfig {
        seed: 6,
        ..tiny(&a)
    })
    .expect("reseed");
    assert!(!reseeded.reused);
    assert_ne!(read(a.join(synth::CHECKSUM_FILE)), sums);
    // The private espeak-ng data is cleaned up.
    assert!(!a.join(".espeak-ng-work").exists());
}
