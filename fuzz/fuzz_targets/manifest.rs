//! Any bytes as a manifest file → `load_manifest` loads (every utterance an existing file,
//! every skipped row located in the manifest) or fails naming the manifest.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use hrf_audio::datasets::load_manifest;
use libfuzzer_sys::fuzz_target;

/// A scratch directory (RAM-backed where possible) with `a.wav` (a file) and `dir.wav` (a
/// directory) for rows to point at.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("hrf-fuzz-manifest-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("dir.wav")).expect("scratch dir");
        std::fs::write(dir.join("a.wav"), b"").expect("a.wav");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let manifest = scratch().join("m.csv");
    std::fs::write(&manifest, data).expect("write manifest");
    match load_manifest(&manifest, None) {
        Ok(dataset) => {
            for u in &dataset.utterances {
                assert!(u.path.is_file());
                assert!(u.label < dataset.classes.len());
            }
            let at = manifest.display().to_string();
            for s in &dataset.skipped {
                assert!(s.location.starts_with(&at), "{s:?}");
            }
        }
        Err(e) => assert!(e.to_string().contains("m.csv"), "{e}"),
    }
});
