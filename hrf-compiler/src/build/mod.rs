//! The build.rs entry point: YAML specs → formatted Rust in `OUT_DIR` (one file per spec plus an
//! `hrf_models.rs` that includes them all), optionally with folded weights embedded.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), hrf_compiler::build::BuildError> {
//!     hrf_compiler::build::Builder::new()
//!         .spec_dir("specs")
//!         .embed_weights("ConformerLight", "weights/conformer_light.safetensors")
//!         .compile()?;
//!     Ok(())
//! }
//! // src/lib.rs: include!(concat!(env!("OUT_DIR"), "/hrf_models.rs"));
//! ```
//!
//! Each output starts with `// @generated from specs/x.yaml — do not edit`, is formatted with
//! prettyplease and is rewritten only when its bytes change (so a no-op build does not
//! recompile the crate). Every spec and weights file gets a `cargo:rerun-if-changed`. Spec errors
//! are printed rustc-style as `cargo:warning` lines and fail the build.

mod weights;

#[cfg(test)]
mod tests;

pub use weights::{FOLDED_FORMAT, WeightsError, folded_arena_bytes};

use std::path::{Path, PathBuf};

use crate::CheckedModel;
use crate::codegen::{self, CodegenOptions, EmbeddedWeights};

/// Name of the file that includes every generated module.
pub const INDEX_FILE: &str = "hrf_models.rs";

/// Why a build failed. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "OUT_DIR is not set: run hrf_compiler::build from a build script, or choose a directory with `.out_dir(…)`"
    )]
    NoOutDir,
    #[error("cannot list spec directory {path}: {source}")]
    ListDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no spec to compile: add `.spec(\"specs/x.yaml\")` or a `.spec_dir(…)` holding *.yaml files"
    )]
    NoSpecs,
    #[error("cannot read spec {path}: {source}")]
    ReadSpec {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every failing spec's diagnostics, rendered as rustc renders errors.
    #[error("{count} spec(s) failed to compile:\n{rendered}")]
    Specs { count: usize, rendered: String },
    #[error(
        "specs {first} and {second} both generate module `{module}`: give one of them another `name:`"
    )]
    DuplicateModule {
        module: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "embed_weights(\"{model}\", …): no spec declares a model called `{model}` (models: {known})"
    )]
    UnknownEmbedTarget { model: String, known: String },
    /// Boxed: the weights errors carry several paths and hashes.
    #[error(transparent)]
    Weights(Box<WeightsError>),
    #[error("hrf codegen produced invalid Rust for {spec}: {message} (please report this)")]
    Codegen { spec: PathBuf, message: String },
}

impl From<WeightsError> for BuildError {
    fn from(err: WeightsError) -> Self {
        BuildError::Weights(Box::new(err))
    }
}

/// Configures and runs one build (see the module docs).
#[derive(Clone, Debug)]
pub struct Builder {
    specs: Vec<PathBuf>,
    spec_dirs: Vec<PathBuf>,
    embeds: Vec<(String, PathBuf)>,
    out_dir: Option<PathBuf>,
    cargo_directives: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// What one build produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub modules: Vec<GeneratedModule>,
    /// `OUT_DIR/hrf_models.rs`.
    pub index: PathBuf,
}

/// One compiled spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedModule {
    /// CamelCase model name.
    pub name: String,
    /// snake_case module name, also the file stem.
    pub module: String,
    pub spec: PathBuf,
    /// `OUT_DIR/<module>.rs`.
    pub rust_file: PathBuf,
    /// `OUT_DIR/<module>.weights.bin` when weights are embedded.
    pub weights_file: Option<PathBuf>,
}

impl Builder {
    /// Compiles nothing yet; output goes to `$OUT_DIR` and cargo directives are printed.
    pub fn new() -> Self {
        Builder {
            specs: Vec::new(),
            spec_dirs: Vec::new(),
            embeds: Vec::new(),
            out_dir: None,
            cargo_directives: true,
        }
    }

    /// Adds one YAML spec (relative paths are relative to the package root, as in build.rs).
    pub fn spec(mut self, path: impl Into<PathBuf>) -> Self {
        self.specs.push(path.into());
        self
    }

    /// Adds every `*.yaml` / `*.yml` file directly in `dir`, in file-name order.
    pub fn spec_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spec_dirs.push(dir.into());
        self
    }

    /// Embeds the folded weights at `path` into model `model` (its `name:` such as
    /// `ConformerLight`, or its module name `conformer_light`) as
    /// `pub static CONFORMER_LIGHT: ConformerLightFolded`.
    pub fn embed_weights(mut self, model: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.embeds.push((model.into(), path.into()));
        self
    }

    /// Writes into `dir` instead of `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` / `cargo:warning` lines (default: yes).
    pub fn cargo_directives(mut self, print: bool) -> Self {
        self.cargo_directives = print;
        self
    }

    /// Compiles every spec, validates and writes embedded weights, and writes the Rust files.
    ///
    /// # Errors
    ///
    /// See [`BuildError`]: every spec is compiled before failing, so all spec errors are
    /// reported at once.
    pub fn compile(self) -> Result<Output, BuildError> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoOutDir)?,
        };
        let specs = self.spec_paths()?;
        for dir in &self.spec_dirs {
            self.rerun_if_changed(dir);
        }

        let mut compiled: Vec<(PathBuf, CheckedModel)> = Vec::new();
        let mut rendered = String::new();
        let mut failed = 0;
        for path in specs {
            self.rerun_if_changed(&path);
            let text = std::fs::read_to_string(&path).map_err(|source| BuildError::ReadSpec {
                path: path.clone(),
                source,
            })?;
            let shown = display_path(&path);
            match crate::compile_yaml(&shown, &text) {
                Ok(model) => compiled.push((path, model)),
                Err(diagnostics) => {
                    failed += 1;
                    let text = diagnostics.render(&shown, &text);
                    if self.cargo_directives {
                        for line in text.lines() {
                            println!("cargo:warning={line}");
                        }
                    }
                    rendered.push_str(&text);
                }
            }
        }
        if failed > 0 {
            return Err(BuildError::Specs {
                count: failed,
                rendered,
            });
        }
        check_unique_modules(&compiled)?;
        for (model, _) in &self.embeds {
            if !compiled
                .iter()
                .any(|(_, m)| m.ir.name == *model || m.ir.module == *model)
            {
                let known: Vec<&str> = compiled.iter().map(|(_, m)| m.ir.name.as_str()).collect();
                return Err(BuildError::UnknownEmbedTarget {
                    model: model.clone(),
                    known: known.join(", "),
                });
            }
        }

        std::fs::create_dir_all(&out_dir).map_err(|source| BuildError::Write {
            path: out_dir.clone(),
            source,
        })?;
        let mut modules = Vec::new();
        for (spec, model) in &compiled {
            modules.push(self.write_module(&out_dir, spec, model)?);
        }
        let index = out_dir.join(INDEX_FILE);
        let mut text = String::from(
            "// @generated by hrf_compiler::build — do not edit\n// One `include!` per compiled spec.\n",
        );
        for module in &modules {
            text.push_str(&format!(
                "include!({:?});\n",
                module.rust_file.display().to_string()
            ));
        }
        write_if_changed(&index, text.as_bytes())?;
        Ok(Output { modules, index })
    }

    /// Explicit specs first, then each directory's YAML files in name order.
    fn spec_paths(&self) -> Result<Vec<PathBuf>, BuildError> {
        let mut paths = self.specs.clone();
        for dir in &self.spec_dirs {
            let entries = std::fs::read_dir(dir).map_err(|source| BuildError::ListDir {
                path: dir.clone(),
                source,
            })?;
            let mut found = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| BuildError::ListDir {
                    path: dir.clone(),
                    source,
                })?;
                let path = entry.path();
                let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
                if is_yaml && path.is_file() {
                    found.push(path);
                }
            }
            found.sort();
            paths.extend(found);
        }
        if paths.is_empty() {
            return Err(BuildError::NoSpecs);
        }
        Ok(paths)
    }

    fn write_module(
        &self,
        out_dir: &Path,
        spec: &Path,
        model: &CheckedModel,
    ) -> Result<GeneratedModule, BuildError> {
        let module = &model.ir.module;
        let embed = self
            .embeds
            .iter()
            .find(|(name, _)| model.ir.name == *name || model.ir.module == *name);
        let mut opts = CodegenOptions::default();
        let mut weights_file = None;
        if let Some((_, weights)) = embed {
            self.rerun_if_changed(weights);
            let bytes = folded_arena_bytes(model, &display_path(spec), weights)?;
            let bin = out_dir.join(format!("{module}.weights.bin"));
            write_if_changed(&bin, &bytes)?;
            opts.embedded_weights = Some(EmbeddedWeights {
                bin_path: absolute(&bin).display().to_string(),
                source: display_path(weights),
            });
            weights_file = Some(bin);
        }
        let header = format!("// @generated from {} — do not edit", display_path(spec));
        let text =
            codegen::generate_file(model, &opts, &header).map_err(|e| BuildError::Codegen {
                spec: spec.to_path_buf(),
                message: e.to_string(),
            })?;
        let rust_file = absolute(&out_dir.join(format!("{module}.rs")));
        write_if_changed(&rust_file, text.as_bytes())?;
        Ok(GeneratedModule {
            name: model.ir.name.clone(),
            module: module.clone(),
            spec: spec.to_path_buf(),
            rust_file,
            weights_file,
        })
    }

    fn rerun_if_changed(&self, path: &Path) {
        if self.cargo_directives {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn check_unique_modules(compiled: &[(PathBuf, CheckedModel)]) -> Result<(), BuildError> {
    for (i, (path, model)) in compiled.iter().enumerate() {
        if let Some((first, _)) = compiled[..i]
            .iter()
            .find(|(_, m)| m.ir.module == model.ir.module)
        {
            return Err(BuildError::DuplicateModule {
                module: model.ir.module.clone(),
                first: first.clone(),
                second: path.clone(),
            });
        }
    }
    Ok(())
}

/// Writes `bytes` unless the file already holds exactly them (its mtime then stays, and cargo
/// does not rebuild what includes it).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|source| BuildError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// `/`-separated for messages and headers, the same on every host.
fn display_path(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}

/// `include!`/`include_bytes!` resolve relative paths against the including file: use absolute
/// ones.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
