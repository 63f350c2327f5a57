//! End-to-end tests of the synthetic corpus with the built-in engine (no system dependency):
//! the default corpus is byte-identical across thread counts and matches the committed
//! checksums; a small corpus loads with speaker-disjoint sessions and is reused or repaired;
//! emotion rules move measured prosody in the documented directions; espeak-ng errors (with a
//! stand-in program) say what to do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hrf_audio::datasets::load_manifest;
use hrf_audio::synth::{self, Emotion, PitchConfig, PitchTracker, SynthConfig, SynthError};
use hrf_audio::wav::read_wav;

fn tiny(out_dir: &Path) -> SynthConfig {
    SynthConfig {
        out_dir: out_dir.to_path_buf(),
        sentences_per_session: 1,
        ..SynthConfig::espeak()
    }
}

fn small(out_dir: &Path) -> SynthConfig {
    SynthConfig {
        out_dir: out_dir.to_path_buf(),
        speakers: 10,
        sentences_per_session: 2,
        ..SynthConfig::default()
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn default_corpus_is_identical_on_1_and_2_threads_and_matches_the_committed_checksums() {
    let config = SynthConfig::default();
    let one = synth::builtin_hashes(&config, 1).expect("1 thread");
    let two = synth::builtin_hashes(&config, 2).expect("2 threads");
    assert_eq!(one.len(), 3840);
    assert!(one == two, "1 and 2 threads give different bytes");
    let (manifest, info) = synth::record_texts(&config, synth::formant::ENGINE_VERSION);
    let mut ours: BTreeMap<String, String> = one.into_iter().collect();
    ours.insert(
        synth::MANIFEST_FILE.to_owned(),
        blake3::hash(manifest.as_bytes()).to_hex().to_string(),
    );
    ours.insert(
        synth::INFO_FILE.to_owned(),
        blake3::hash(info.as_bytes()).to_hex().to_string(),
    );
    let committed: BTreeMap<String, String> = synth::DEFAULT_CHECKSUMS
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(hash, file)| (file.to_owned(), hash.to_owned()))
        .collect();
    assert_eq!(committed.len(), 3842);
    let differing: Vec<&String> = committed
        .iter()
        .filter(|(file, hash)| ours.get(*file) != Some(*hash))
        .map(|(file, _)| file)
        .collect();
    assert!(
        differing.is_empty() && ours.len() == committed.len(),
        "{} of {} files differ from hrf-audio/src/synth/default_corpus.b3, first {:?}; if the \
         recipe changed on purpose, bump formant::ENGINE_VERSION and regenerate the file",
        differing.len(),
        committed.len(),
        differing.first()
    );
}

#[test]
fn small_corpus_loads_with_disjoint_sessions_and_is_reused_verified_or_repaired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("c");
    let first = synth::generate(&small(&out)).expect("generate");
    // 10 speakers × 2 sentences × 4 emotions × 2 intensities.
    assert_eq!((first.clips, first.reused), (160, false));
    assert!(
        first.engine.starts_with("builtin formant-"),
        "{}",
        first.engine
    );
    let info = read(out.join(synth::INFO_FILE));
    assert!(info.contains("\"engine\": \"builtin\""), "{info}");
    assert!(info.contains(&format!(
        "\"engine_version\": \"{}\"",
        synth::formant::ENGINE_VERSION
    )));

    let dataset = load_manifest(&out.join(synth::MANIFEST_FILE), None).expect("loads");
    assert!(dataset.skipped.is_empty(), "{:?}", dataset.skipped);
    assert_eq!(dataset.utterances.len(), 160);
    assert_eq!(dataset.classes, ["angry", "happy", "neutral", "sad"]);
    let mut sessions_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in &dataset.utterances {
        let speaker = u.id.split('_').next().unwrap_or_default().to_owned();
        sessions_of
            .entry(speaker)
            .or_default()
            .insert(u.group.clone().unwrap_or_default());
    }
    assert_eq!(sessions_of.len(), 10);
    assert!(
        sessions_of.values().all(|s| s.len() == 1),
        "{sessions_of:?}"
    );
    let sessions: BTreeSet<String> = sessions_of.values().flatten().cloned().collect();
    assert_eq!(sessions.len(), 5);

    // Every clip: 16 kHz mono 16-bit, finite, below full scale, of plausible length.
    for u in &dataset.utterances {
        let spec = hound::WavReader::open(&u.path).expect("opens").spec();
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (16_000, 1, 16)
        );
        let samples = read_wav(&u.path).expect("decodes").samples;
        let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(samples.iter().all(|x| x.is_finite()));
        assert!(
            peak < 1.0 && peak > 0.005,
            "{} peaks at {peak}",
            u.path.display()
        );
        let seconds = samples.len() as f64 / 16_000.0;
        assert!((1.0..8.0).contains(&seconds), "{seconds} s");
    }

    let sums = read(out.join(synth::CHECKSUM_FILE));
    assert_eq!(synth::verify_corpus(&out).expect("verifies"), 162);
    // Unchanged corpus and config: reused. A corrupted clip: regenerated to the same bytes.
    assert!(synth::generate(&small(&out)).expect("reuse").reused);
    let clip = &dataset.utterances[7].path;
    std::fs::write(clip, b"corrupt").expect("corrupt a clip");
    assert!(synth::verify_corpus(&out).is_err());
    let repaired = synth::generate(&small(&out)).expect("regenerate");
    assert!(!repaired.reused);
    assert_eq!(read(out.join(synth::CHECKSUM_FILE)), sums);
    // Not the default corpus: the committed checksums name files it lacks.
    let message = synth::verify_default_corpus(&out).unwrap_err().to_string();
    assert!(
        message.contains("the default corpus lists it")
            || message.contains("differs from the committed"),
        "{message}"
    );
}

#[test]
fn options_out_of_range_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("never");
    for (config, field) in [
        (
            SynthConfig {
                speakers: 9,
                ..small(&out)
            },
            "speakers",
        ),
        (
            SynthConfig {
                sentences_per_session: 0,
                ..small(&out)
            },
            "sentences",
        ),
        (
            SynthConfig {
                degradation: synth::Degradation {
                    noise_snr_db: Some(f64::NAN),
                    channel: false,
                },
                ..small(&out)
            },
            "noise",
        ),
        (
            SynthConfig {
                speakers: 12,
                ..tiny(&out)
            },
            "speakers",
        ),
    ] {
        let error = synth::generate(&config).expect_err("invalid");
        assert!(
            matches!(&error, SynthError::InvalidConfig { field: f, .. } if *f == field),
            "{error}"
        );
    }
    assert!(!out.exists());
}

/// Mean F0 (semitones re 100 Hz), mean frame level (dB) and duration (s) of one clip.
fn prosody(tracker: &PitchTracker, samples: &[f32]) -> [f64; 3] {
    let f = synth::prosodic_features(tracker, samples, 16_000).values;
    [f[0], f[2], f[4]]
}

#[test]
fn emotion_rules_move_measured_prosody_for_every_speaker() {
    let tracker = PitchTracker::new(PitchConfig::speech(16_000));
    let config = SynthConfig {
        speakers: 10,
        ..SynthConfig::default()
    };
    let clips = synth::plan(&config);
    for speaker in 0..10 {
        // Mean over the speaker's first 4 sentences × both intensities of each emotion.
        let mean = |emotion: Emotion| {
            let mine: Vec<&synth::ClipPlan> = clips
                .iter()
                .filter(|c| c.speaker_index == speaker && c.emotion == emotion)
                .take(8)
                .collect();
            assert_eq!(mine.len(), 8);
            let mut acc = [0.0; 3];
            for clip in mine {
                let samples = synth::builtin_clip(&config, clip);
                for (a, v) in acc.iter_mut().zip(prosody(&tracker, &samples)) {
                    *a += v / 8.0;
                }
            }
            acc
        };
        let (neutral, angry, sad, happy) = (
            mean(Emotion::Neutral),
            mean(Emotion::Angry),
            mean(Emotion::Sad),
            mean(Emotion::Happy),
        );
        assert!(
            angry[0] > neutral[0] + 1.0,
            "speaker {speaker}: angry F0 {angry:?} vs neutral {neutral:?}"
        );
        assert!(
            angry[1] > neutral[1] + 3.0,
            "speaker {speaker}: angry level {angry:?} vs neutral {neutral:?}"
        );
        assert!(
            happy[0] > neutral[0] + 1.0,
            "speaker {speaker}: happy F0 {happy:?} vs neutral {neutral:?}"
        );
        assert!(
            sad[0] < neutral[0],
            "speaker {speaker}: sad F0 {sad:?} vs neutral {neutral:?}"
        );
        assert!(
            sad[1] < neutral[1] - 3.0,
            "speaker {speaker}: sad level {sad:?} vs neutral {neutral:?}"
        );
        // Slower: the same sentences take longer.
        assert!(
            sad[2] > 1.1 * neutral[2],
            "speaker {speaker}: sad duration {sad:?} vs neutral {neutral:?}"
        );
    }
}

#[test]
fn missing_espeak_says_how_to_install_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SynthConfig {
        espeak_program: PathBuf::from("/nonexistent/espeak-ng"),
        ..tiny(dir.path())
    };
    let error = synth::generate(&config).expect_err("no espeak-ng");
    assert!(matches!(error, SynthError::EspeakMissing { .. }));
    assert_eq!(
        error.to_string(),
        "espeak-ng is not available (could not run `/nonexistent/espeak-ng`: No such file or \
         directory (os error 2)); install it with `apt-get install espeak-ng` (Debian/Ubuntu), \
         or set HRF_ESPEAK_NG to the path of the espeak-ng binary"
    );
}

#[cfg(unix)]
#[test]
fn failing_espeak_run_names_the_clip_and_its_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    // A stand-in espeak-ng: answers --version with a data directory, fails every synthesis.
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("lang/gmw")).expect("mkdir");
    for file in [
        "phondata",
        "phonindex",
        "phontab",
        "intonations",
        "en_dict",
        "lang/gmw/en-US",
    ] {
        std::fs::write(data.join(file), b"stub").expect("stub data");
    }
    let program = dir.path().join("fake-espeak-ng");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then\n  echo 'eSpeak NG text-to-speech: 9.99  Data at: {}'\n  exit 0\nfi\necho 'simulated failure: bad voice' >&2\nexit 3\n",
            data.display()
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let config = SynthConfig {
        espeak_program: program,
        ..tiny(&dir.path().join("out"))
    };
    let message = synth::generate(&config)
        .expect_err("espeak fails")
        .to_string();
    // Which clip fails first depends on scheduling; every clip id starts with its speaker.
    assert!(
        message.starts_with("espeak-ng failed on clip S"),
        "{message}"
    );
    assert!(
        message.ends_with(" (exit status: 3); its stderr: simulated failure: bad voice"),
        "{message}"
    );
    // No checksum file is left that could make the failed corpus look complete.
    assert!(!dir.path().join("out").join(synth::CHECKSUM_FILE).exists());
}
