//! A scratch directory for one test, removed when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct FakeTree {
    root: PathBuf,
}

impl FakeTree {
    /// A fresh empty directory under the system temp dir, unique per process and call.
    pub(crate) fn new(name: &str) -> Self {
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!(
            "hrf-datasets-{name}-{}-{unique}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create test dir");
        Self { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Writes `contents` to `relative`, creating parent directories.
    pub(crate) fn file(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Creates each (empty) file: the loaders only check that audio exists.
    pub(crate) fn touch(&self, relatives: &[&str]) {
        for relative in relatives {
            self.file(relative, "");
        }
    }

    pub(crate) fn dir(&self, relative: &str) {
        std::fs::create_dir_all(self.path(relative)).expect("create dir");
    }

    /// A valid 16-bit mono WAV of `frames` silent frames at `rate` Hz.
    pub(crate) fn wav(&self, relative: &str, rate: u32, frames: u32) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).expect("create wav");
        for _ in 0..frames {
            writer.write_sample(0i16).expect("write sample");
        }
        writer.finalize().expect("finalize wav");
        path
    }
}

impl Drop for FakeTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
