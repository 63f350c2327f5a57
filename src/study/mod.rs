//! Studies: a grid of specs × protocol folds × seeds, each cell an ordinary run directory
//! (`<out>/cells/<spec>-f<fold>-s<seed>/`) trained, folded (verified) and evaluated on the fold's
//! test set and on extra corpora; then one report with paired statistics against a baseline.
//!
//! A cell is finished when its `cell.json` exists (written last, atomically); a study run again
//! skips finished cells and resumes an interrupted one from its checkpoint, so an interrupted
//! study ends with the same report as an uninterrupted one. Cells are independent: `--plan`
//! prints one command per cell for a job array, and `--collect` reports whatever cells exist.

pub mod cell;
pub mod report;
pub mod stats;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use cell::{CellJob, CellRecord, run_cell};

/// The study's record (`<out>/study.json`): what the grid is.
pub const STUDY_FILE: &str = "study.json";

/// What defines a study: every cell of it is trained with these settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudySettings {
    /// Spec arguments as given (preset names or paths), in report order.
    pub specs: Vec<String>,
    pub data: String,
    /// Protocol fold indices.
    pub folds: Vec<usize>,
    pub seeds: Vec<u64>,
    /// Extra corpora every cell is also scored on.
    pub also: Vec<String>,
    /// The spec every other is compared with (`None`: each family's `_light` spec).
    pub baseline: Option<String>,
    /// Training settings common to every cell (the learning rate per spec is in `lr`).
    pub recipe: serde_json::Value,
    /// Peak learning rate per spec module.
    pub lr: Vec<(String, f64)>,
    /// `(student module, teacher module)`: each student cell distills from the teacher's cell
    /// of the same fold and seed (so the teacher never saw the student's test speakers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teachers: Vec<(String, String)>,
    /// `(α, T)` of every distilled cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kd: Option<(f32, f32)>,
}

impl StudySettings {
    /// Writes `<out>/study.json`, or checks that the one there describes the same study.
    pub fn save_or_check(&self, out: &Path) -> Result<(), String> {
        let path = out.join(STUDY_FILE);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let previous: StudySettings = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{} is not a study record ({e}); pass another --out or delete it",
                    path.display()
                )
            })?;
            if previous != *self {
                return Err(format!(
                    "{} records another study (specs, data, folds, seeds, corpora or training settings differ); \
                     pass another --out to keep it, or rerun with the same options",
                    path.display()
                ));
            }
            return Ok(());
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::run::write_text_atomic(&path, &text).map_err(|e| e.to_string())
    }
}

/// One cell's coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellKey {
    /// Index into the study's specs.
    pub spec: usize,
    pub module: String,
    pub fold: usize,
    pub seed: u64,
}

impl CellKey {
    /// `conformer_light-f0-s1`.
    pub fn id(&self) -> String {
        format!("{}-f{}-s{}", self.module, self.fold, self.seed)
    }

    pub fn dir(&self, out: &Path) -> PathBuf {
        out.join("cells").join(self.id())
    }
}

/// Every cell, spec-major, then fold, then seed (the order the grid runs and reports in).
pub fn cells(modules: &[&str], folds: &[usize], seeds: &[u64]) -> Vec<CellKey> {
    let mut out = Vec::with_capacity(modules.len() * folds.len() * seeds.len());
    for (spec, module) in modules.iter().enumerate() {
        for &fold in folds {
            for &seed in seeds {
                out.push(CellKey {
                    spec,
                    module: (*module).to_owned(),
                    fold,
                    seed,
                });
            }
        }
    }
    out
}

/// `0,1,2` or `0-4` (inclusive ranges), deduplicated, in the given order.
pub fn parse_list(text: &str, what: &str) -> Result<Vec<u64>, String> {
    let mut out: Vec<u64> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || {
            format!(
                "--{what} `{text}`: `{part}` is not a number or a range like 0-4; write e.g. `0,1,2` or `0-4`"
            )
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<u64>().map_err(|_| bad())?,
                b.trim().parse::<u64>().map_err(|_| bad())?,
            ),
            None => {
                let v = part.parse::<u64>().map_err(|_| bad())?;
                (v, v)
            }
        };
        if b < a || b - a >= 10_000 {
            return Err(format!(
                "--{what} `{text}`: the range `{part}` must go upwards and hold at most 10,000 values"
            ));
        }
        for v in a..=b {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        if out.len() > 10_000 {
            return Err(format!("--{what} `{text}`: more than 10,000 values"));
        }
    }
    if out.is_empty() {
        return Err(format!("--{what} is empty; give at least one value"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_list("0,1,2", "seeds").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_list("3-5,1,4", "seeds").unwrap(), vec![3, 4, 5, 1]);
        assert!(parse_list("", "seeds").unwrap_err().contains("empty"));
        assert!(parse_list("1,x", "seeds").unwrap_err().contains("`x`"));
        assert!(parse_list("5-1", "folds").unwrap_err().contains("upwards"));
        assert!(
            parse_list("0-18446744073709551615", "seeds")
                .unwrap_err()
                .contains("10,000")
        );
    }

    #[test]
    fn cell_ids_and_order() {
        let c = cells(&["a_light", "a_light_hrf"], &[0, 2], &[0, 1]);
        let ids: Vec<String> = c.iter().map(CellKey::id).collect();
        assert_eq!(
            ids,
            [
                "a_light-f0-s0",
                "a_light-f0-s1",
                "a_light-f2-s0",
                "a_light-f2-s1",
                "a_light_hrf-f0-s0",
                "a_light_hrf-f0-s1",
                "a_light_hrf-f2-s0",
                "a_light_hrf-f2-s1"
            ]
        );
        assert_eq!(
            c[5].dir(Path::new("st")),
            Path::new("st/cells/a_light_hrf-f0-s1")
        );
    }
}
