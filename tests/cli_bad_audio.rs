//! Corrupt audio in a corpus: each bad file is left out with its reason (naming the file), and
//! the run goes on with the others.

mod cli_common;

use cli_common::{CLASSES, Scratch, TINY_SPEC, hrf, tiny_corpus};

/// A 32-bit float mono WAV at 16 kHz holding `samples`.
fn float_wav(path: &std::path::Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn bad_wavs_in_a_corpus_are_skipped_with_their_reasons_and_training_goes_on() {
    let s = Scratch::new("bad-audio");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 1, &CLASSES);
    let wav = |name: &str| s.path(&format!("corpus/wav/{name}"));

    // NaN at sample 100 of an otherwise quiet float file.
    let mut nan = vec![0.01f32; 5_600];
    nan[100] = f32::NAN;
    float_wav(&wav("nan.wav"), &nan);
    // An 8-bit mono header whose rate (and byte rate) say 4294967291 Hz.
    let spec8 = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 8,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(wav("4ghz.wav"), spec8).unwrap();
    for _ in 0..3_000 {
        w.write_sample(0i8).unwrap();
    }
    w.finalize().unwrap();
    let mut bytes = std::fs::read(wav("4ghz.wav")).unwrap();
    bytes[24..32].copy_from_slice(&[0xFB, 0xFF, 0xFF, 0xFF, 0xFB, 0xFF, 0xFF, 0xFF]);
    std::fs::write(wav("4ghz.wav"), bytes).unwrap();
    // A short text file named .wav.
    std::fs::write(wav("notes.wav"), "todo\n").unwrap();

    let mut rows = std::fs::read_to_string(&manifest).unwrap();
    for name in ["nan", "4ghz", "notes"] {
        rows.push_str(&format!("wav/{name}.wav,angry,s1f,ses1\n"));
    }
    std::fs::write(&manifest, rows).unwrap();

    let data = format!("manifest:{}", manifest.display());
    let (code, out, err) = hrf(
        &s.0,
        &[
            "train",
            "--spec",
            spec.to_str().unwrap(),
            "--data",
            &data,
            "--out",
            "run",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--cache-dir",
            "cache",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        err.contains("warning: 3 utterance(s) left out because their audio could not be used"),
        "{err}"
    );
    let nan = wav("nan.wav");
    let huge = wav("4ghz.wav");
    let notes = wav("notes.wav");
    for needle in [
        format!(
            "{} holds a non-finite sample (NaN) at sample index 100",
            nan.display()
        ),
        format!(
            "{} declares a sample rate of 4294967291 Hz, outside the supported 1000–384000 Hz",
            huge.display()
        ),
        format!(
            "{} is not a WAV file (no RIFF header; it starts with 74 6f 64 6f 0a",
            notes.display()
        ),
    ] {
        assert!(err.contains(&needle), "missing `{needle}` in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    // The 24 good clips were used: 3 sessions × 2 speakers × 4 classes.
    assert!(
        out.contains("train /") && s.path("run/best.safetensors").is_file(),
        "{out}"
    );
}

#[test]
fn manifest_rows_of_the_wrong_width_are_reported_by_train() {
    let s = Scratch::new("bad-rows");
    let spec = s.write("tiny.yaml", TINY_SPEC);
    let manifest = tiny_corpus(&s.path("corpus"), 3, 1, &CLASSES);
    // Two 3-column rows in a 4-column manifest (lines 26 and 27).
    let mut rows = std::fs::read_to_string(&manifest).unwrap();
    rows.push_str("wav/s1f_neutral_0.wav,neutral,s1f\nwav/s1m_sad_0.wav,sad,s1m\n");
    std::fs::write(&manifest, rows).unwrap();
    let data = format!("manifest:{}", manifest.display());
    let (code, out, err) = hrf(
        &s.0,
        &[
            "train",
            "--spec",
            spec.to_str().unwrap(),
            "--data",
            &data,
            "--out",
            "run",
            "--epochs",
            "1",
            "--cache-dir",
            "cache",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        err.contains(&format!("warning: 2 entries of {data} skipped:")),
        "{err}"
    );
    assert!(
        err.contains("3 fields, expected 4 as set by line 1"),
        "{err}"
    );
}
