//! `hrf inspect <spec.yaml|preset>`: compiles a spec and prints its layout tables, parameter
//! counts (train vs folded), memory estimates against the budget and FLOPs per second of audio;
//! rendered diagnostics on a bad spec.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use hrf_compiler::layout::{FRAMES_PER_SECOND, Layout, SlotKind};
use hrf_compiler::presets::{PRESETS, preset};

use super::CliError;
use crate::report::thousands;

/// Utterance length the headline FLOP figure is quoted at (3 s, as in the benchmarks).
const REFERENCE_FRAMES: usize = 300;

#[derive(clap::Args)]
pub struct Args {
    /// A preset name (`conformer_light_hrf`) or a path to a YAML spec.
    pub spec: PathBuf,
    /// Also list every activation buffer (per utterance at max_frames).
    #[arg(long)]
    pub activations: bool,
    #[command(flatten)]
    pub budget: super::budget::MemoryBudgetArg,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    args.budget.apply()?;
    let (path, text) = load(&args.spec)?;
    match hrf_compiler::compile_yaml(&path, &text) {
        Ok(model) => {
            print!("{}", report(&path, &model, args.activations));
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => {
            eprint!("{}", diags.render(&path, &text));
            let n = diags.len();
            eprintln!(
                "\nerror: could not compile {path}: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A file path wins over a preset of the same name; presets are embedded in the binary.
fn load(spec: &std::path::Path) -> Result<(String, String), CliError> {
    if spec.is_file() {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| CliError(format!("cannot read spec {}: {e}", spec.display())))?;
        return Ok((spec.display().to_string(), text));
    }
    let name = spec.to_string_lossy();
    match preset(&name) {
        Some(text) => Ok((format!("specs/{name}.yaml"), text.to_string())),
        None => {
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
            Err(CliError(format!(
                "no spec file `{name}` and no preset of that name\n  = help: give a path to a YAML spec, or one of: {}",
                names.join(", ")
            )))
        }
    }
}

/// The whole printed report (also used by tests).
pub fn report(path: &str, model: &hrf_compiler::CheckedModel, activations: bool) -> String {
    let ir = &model.ir;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({path})", ir.name);
    let _ = writeln!(
        out,
        "input: {} log-Mel features, up to {} frames ({:.1} s); classes: {}",
        ir.features,
        ir.max_frames,
        ir.max_frames as f64 / FRAMES_PER_SECOND as f64,
        ir.classes.join(", ")
    );
    hrf_lines(&mut out, ir);
    for (title, layout) in [
        ("training model", &model.train),
        ("folded model", &model.folded),
    ] {
        let _ = writeln!(out, "\n{title}: parameters and buffers");
        table(&mut out, layout, |k| k != SlotKind::Activation);
        if activations {
            let _ = writeln!(out, "\n{title}: activations per utterance at max_frames");
            table(&mut out, layout, |k| k == SlotKind::Activation);
        }
        let acts = layout.arena_len(SlotKind::Activation);
        let _ = writeln!(
            out,
            "activations: {acts} floats ({:.2} MiB) per utterance at max_frames",
            acts as f64 * 4.0 / (1024.0 * 1024.0)
        );
    }
    let counts = model.param_counts();
    let _ = writeln!(out, "\nparameters");
    let _ = writeln!(
        out,
        "  train-time  {:>12}  trainable weights, HRF layers included",
        thousands(counts.train)
    );
    let _ = writeln!(
        out,
        "  folded      {:>12}  trainable weights after deHRF (HRF merged into W1)",
        thousands(counts.folded)
    );
    let _ = writeln!(
        out,
        "  deployed    {:>12}  stored weights after also folding LayerNorm, BatchNorm, CMVN and Q/K/V",
        thousands(counts.deployed)
    );
    memory_lines(&mut out, model);
    let n = REFERENCE_FRAMES.min(ir.max_frames.max(1));
    let _ = writeln!(
        out,
        "\nforward FLOPs (2 per multiply-add; linear, conv and attention products)"
    );
    for (title, layout) in [("folded", &model.folded), ("train-time", &model.train)] {
        let _ = writeln!(
            out,
            "  {title:<10}  {:>8.1} MFLOP per {:.1} s utterance = {:.1} MFLOP per second of audio",
            layout.forward_flops(n) as f64 / 1e6,
            n as f64 / FRAMES_PER_SECOND as f64,
            layout.flops_per_second(n) / 1e6
        );
    }
    out
}

/// The three parts of the memory budget (`hrf_compiler::budget`) and the budget in force.
fn memory_lines(out: &mut String, model: &hrf_compiler::CheckedModel) {
    use hrf_compiler::budget::{self, DEFAULT_BATCH, MemoryEstimate, describe_bytes};
    let est = MemoryEstimate::of(model, DEFAULT_BATCH);
    let limit = budget::configured_budget().unwrap_or(budget::DEFAULT_BUDGET);
    let _ = writeln!(
        out,
        "\nmemory (budget {}; HRF_MEMORY_BUDGET or --memory-budget to change it)",
        describe_bytes(limit as u128)
    );
    for (title, bytes, what) in [
        (
            "parameters",
            est.params,
            "training form with gradients and AdamW moments, plus the folded form",
        ),
        (
            "activations",
            est.activations,
            &format!("training, a batch of {DEFAULT_BATCH} at max_frames, values and gradients"),
        ),
        ("scratch", est.scratch, "folded inference at max_frames"),
        ("total", est.total(), ""),
    ] {
        let line = format!("  {title:<11} {:>32}  {what}", describe_bytes(bytes));
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// One line per distinct HRF configuration: its keys (variants included) and the FFNs it is on.
fn hrf_lines(out: &mut String, ir: &hrf_compiler::ModelIr) {
    use hrf_compiler::ir::{HrfDecay, HrfInit, Op, SublayerKind};
    let mut configs: Vec<(String, Vec<&str>)> = Vec::new();
    for op in &ir.ops {
        let Op::Block(b) = op else { continue };
        for s in &b.sublayers {
            let SublayerKind::Ffn(f) = &s.kind else {
                continue;
            };
            let Some(h) = &f.hrf else { continue };
            let init = match h.init {
                HrfInit::Default => "default",
                HrfInit::Identity => "identity",
                HrfInit::Balanced => "balanced",
            };
            let decay = match h.decay {
                HrfDecay::Factors => "factors",
                HrfDecay::Merged => "merged",
            };
            let text = format!(
                "expand {}, depth {}, bias {}, init {init}, decay {decay}, lr_scale {}",
                h.expand, h.depth, h.bias, h.lr_scale
            );
            match configs.iter_mut().find(|(t, _)| *t == text) {
                Some((_, names)) => names.push(&s.name),
                None => configs.push((text, vec![&s.name])),
            }
        }
    }
    for (text, names) in configs {
        let _ = writeln!(
            out,
            "hrf: {text} (on {} FFN{}: {})",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        );
    }
}

fn table(out: &mut String, layout: &Layout, keep: impl Fn(SlotKind) -> bool) {
    let rows: Vec<_> = layout.slots.iter().filter(|s| keep(s.kind)).collect();
    let width = rows.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "  {:<width$}  {:<14}  {:<8}  {:>10}  {:>10}",
        "name", "shape", "kind", "offset", "count"
    );
    for s in rows {
        let shape: Vec<String> = s.shape.iter().map(usize::to_string).collect();
        let kind = match s.kind {
            SlotKind::Param => "param",
            SlotKind::Buffer => "buffer",
            SlotKind::Activation => "act",
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {:<14}  {:<8}  {:>10}  {:>10}",
            s.name,
            shape.join("×"),
            kind,
            s.offset,
            s.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_reports_counts_and_flops() {
        for (name, text) in PRESETS {
            let model = hrf_compiler::compile_yaml(name, text).expect("preset compiles");
            let r = report(name, &model, true);
            assert!(r.contains("train-time"), "{r}");
            assert!(r.contains("MFLOP per second of audio"), "{r}");
            assert!(r.contains("classifier.weight"), "{r}");
            assert_eq!(
                r.contains("hrf: expand 4, depth 1, bias true, init default, decay factors, lr_scale 1 (on "),
                name.ends_with("_hrf"),
                "{name}: {r}"
            );
        }
    }

    #[test]
    fn a_bad_spec_fails_and_an_unknown_name_is_explained() {
        let path =
            std::env::temp_dir().join(format!("hrf-inspect-bad-{}.yaml", std::process::id()));
        std::fs::write(&path, "name: Bad\n").expect("write temp spec");
        let code = run(Args {
            spec: path.clone(),
            activations: false,
            budget: Default::default(),
        });
        let _ = std::fs::remove_file(&path);
        assert_eq!(code.ok(), Some(ExitCode::FAILURE));
        let err = load(std::path::Path::new("conformer_lite"))
            .err()
            .map(|e| e.0);
        assert!(
            err.is_some_and(
                |e| e.contains("no preset of that name") && e.contains("conformer_light")
            )
        );
        assert!(load(std::path::Path::new("conformer_light")).is_ok());
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(488196), "488,196");
        assert_eq!(thousands(12), "12");
        assert_eq!(thousands(1000), "1,000");
    }
}
