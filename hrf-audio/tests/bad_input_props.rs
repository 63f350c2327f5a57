//! Property tests: whatever bytes a WAV file or a manifest holds, the readers return `Ok` or a
//! typed error, never panic, and never decode more samples than the input can hold.
//!
//! Fixed seeds keep CI reproducible; open-ended exploration is `fuzz/` (cargo-fuzz).

use std::path::Path;

use hrf_audio::datasets::load_manifest;
use hrf_audio::wav::{SAMPLE_RATES, decode_wav};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config(seed: u64) -> Config {
    Config {
        cases: 10_000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    }
}

/// A small valid WAV in memory: `(format, bits)` one of the decoded ones.
fn valid_wav(kind: u8, channels: u16, rate: u32, frames: u16) -> Vec<u8> {
    let (sample_format, bits) = match kind % 5 {
        0 => (hound::SampleFormat::Int, 8),
        1 => (hound::SampleFormat::Int, 16),
        2 => (hound::SampleFormat::Int, 24),
        3 => (hound::SampleFormat::Int, 32),
        _ => (hound::SampleFormat::Float, 32),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut bytes, spec).expect("writer");
    for i in 0..u32::from(frames) * u32::from(channels) {
        match (sample_format, bits) {
            (hound::SampleFormat::Float, _) => w.write_sample((i as f32 * 0.01).sin()),
            (_, 8) => w.write_sample((i % 200) as i8),
            (_, 16) => w.write_sample((i * 37) as i16),
            _ => w.write_sample((i * 7919) as i32 >> (32 - bits)),
        }
        .expect("sample");
    }
    w.finalize().expect("finalize");
    bytes.into_inner()
}

/// One damage to a valid file.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    /// Overwrite a little-endian u16 at one of the header field offsets.
    Field16(usize, u16),
    Field32(usize, u32),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // RIFF size, fmt size, format tag, channels, rate, byte rate, block align, bits, data size.
    let field16 = prop::sample::select(vec![20usize, 22, 32, 34, 36, 38]);
    let field32 = prop::sample::select(vec![4usize, 16, 24, 28, 36, 40]);
    let edge16 = prop_oneof![
        Just(0u16),
        Just(1),
        Just(3),
        Just(0xFFFE),
        Just(u16::MAX),
        any::<u16>()
    ];
    let edge32 = prop_oneof![
        Just(0u32),
        Just(1),
        Just(999),
        Just(384_001),
        Just(u32::MAX),
        Just(u32::MAX - 8),
        any::<u32>()
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1u8..).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (field16, edge16).prop_map(|(i, v)| Mutation::Field16(i, v)),
        (field32, edge32).prop_map(|(i, v)| Mutation::Field32(i, v)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match m {
        Mutation::Truncate(i) => bytes.truncate(i % (n + 1)),
        Mutation::Flip(i, x) if n > 0 => bytes[i % n] ^= x,
        Mutation::Field16(i, v) if i + 2 <= n => bytes[*i..i + 2].copy_from_slice(&v.to_le_bytes()),
        Mutation::Field32(i, v) if i + 4 <= n => bytes[*i..i + 4].copy_from_slice(&v.to_le_bytes()),
        Mutation::Insert(i, b) => {
            let at = i % (n + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        _ => {}
    }
}

/// The invariants of any decode: `Ok` audio is bounded by the input and plausible.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = Path::new("prop.wav");
    match decode_wav(bytes, path) {
        Ok(audio) => {
            prop_assert!(!audio.samples.is_empty());
            // Each decoded mono sample needs at least one input byte.
            prop_assert!(audio.samples.len() <= bytes.len());
            prop_assert!(SAMPLE_RATES.contains(&audio.sample_rate));
            // Finite, but not bounded by 1: 32-bit float WAVs are not clipped (a float file
            // may legitimately go over full scale).
            prop_assert!(audio.samples.iter().all(|x| x.is_finite()));
        }
        Err(e) => prop_assert!(e.to_string().contains("prop.wav"), "{e}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(0x5eed_0001))]
    #[test]
    fn mutated_wavs_decode_or_fail_cleanly(
        kind in any::<u8>(),
        channels in 1u16..4,
        rate in prop_oneof![Just(16_000u32), Just(8_000), Just(44_100), 1_000u32..=48_000],
        frames in 0u16..64,
        mutations in prop::collection::vec(mutation(), 0..4),
    ) {
        let mut bytes = valid_wav(kind, channels, rate, frames);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check_decode(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(0x5eed_0002))]
    #[test]
    fn random_bytes_decode_or_fail_cleanly(
        riff in any::<bool>(),
        body in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut bytes = if riff { b"RIFF\0\0\0\0WAVEfmt ".to_vec() } else { Vec::new() };
        bytes.extend(body);
        check_decode(&bytes)?;
    }
}

/// CSV-ish text: fields of quotes, commas, CR, BOMs, unicode and plain words.
fn manifest_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_owned()),
        Just(",".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("path,label,speaker,session\n".to_owned()),
        Just("a.wav".to_owned()),
        Just("dir.wav".to_owned()),
        Just(" ".to_owned()),
        Just("\"\"".to_owned()),
        prop::sample::select(vec!["sad", "angry", "s1", "sess", "b/c.wav", "..", "/"])
            .prop_map(str::to_owned),
        // Unicode scalars of any plane, including controls and NUL.
        prop::collection::vec(any::<char>(), 1..4).prop_map(String::from_iter),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config(0x5eed_0003))]
    #[test]
    fn manifests_load_or_fail_cleanly(text in manifest_text()) {
        // One directory for all cases (the manifest is rewritten each time).
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let dir = DIR.get_or_init(|| {
            // RAM-backed where there is one: 10,000 rewrites of a file on an overlay disk are slow.
            let shm = Path::new("/dev/shm");
            let dir = if shm.is_dir() {
                tempfile::tempdir_in(shm)
            } else {
                tempfile::tempdir()
            }
            .expect("tempdir");
            std::fs::write(dir.path().join("a.wav"), b"").expect("wav");
            std::fs::create_dir(dir.path().join("dir.wav")).expect("dir");
            dir
        });
        let manifest = dir.path().join("m.csv");
        std::fs::write(&manifest, &text).expect("manifest");
        match load_manifest(&manifest, None) {
            Ok(data) => {
                let lines = text.lines().count();
                prop_assert!(data.utterances.len() + data.skipped.len() <= lines);
                for u in &data.utterances {
                    prop_assert!(u.path.is_file());
                    prop_assert!(u.label < data.classes.len());
                }
                for s in &data.skipped {
                    prop_assert!(s.location.starts_with(&manifest.display().to_string()));
                    prop_assert!(!s.reason.is_empty());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("m.csv"), "{e}"),
        }
    }
}
