//! `hrf study` end to end on two tiny specs and a tiny corpus: the grid runs and reports; a
//! study killed mid-cell resumes to the same results; the `--plan` commands, run by hand in
//! reverse order and then `--collect`ed, give the same results too; bad options are refused
//! before anything is written.

mod cli_common;

use cli_common::{CLASSES, OTHER_SPEC, Scratch, TINY_SPEC, hrf};

fn study_args<'a>(data: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "study",
        "--specs",
        "other.yaml,tiny.yaml",
        "--baseline",
        "other.yaml",
        "--data",
        data,
        "--folds",
        "0,2",
        "--seeds",
        "0,1",
        "--out",
        out,
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--lr",
        "3e-3",
        "--checkpoint-steps",
        "3",
        "--bench-runs",
        "2",
        "--cache-dir",
        "cache",
    ]
}

fn results(s: &Scratch, dir: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(s.path(dir).join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report["results"].clone()
}

#[test]
fn a_study_reports_resumes_and_collects_cells_run_in_any_order_to_the_same_results() {
    let s = Scratch::new("study");
    s.write("tiny.yaml", TINY_SPEC);
    s.write("other.yaml", OTHER_SPEC);
    let manifest = cli_common::tiny_corpus(&s.path("corpus"), 3, 2, &CLASSES);
    let data = format!("manifest:{}", manifest.display());

    // Uninterrupted.
    let (code, out, err) = hrf(&s.0, &study_args(&data, "a"));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("8 cells"), "{out}");
    let a = results(&s, "a");
    assert_eq!(a["cells_finished"], 8, "{a}");
    let cmp = &a["comparisons"][0];
    assert_eq!(cmp["spec"], "tiny_hrf");
    assert_eq!(cmp["baseline"], "tiny_other");
    assert_eq!(cmp["paired"]["n"], 4, "{cmp}");
    let md = std::fs::read_to_string(s.path("a/report.md")).unwrap();
    assert!(md.contains("## Against the baseline"), "{md}");
    assert!(md.contains("| tiny_hrf | tiny_other | 4 |"), "{md}");
    for plot in ["ua_bars.svg", "ua_bars.png", "paired_per_fold.svg"] {
        assert!(s.path("a").join(plot).is_file(), "{plot}");
    }
    // Run again: every cell is skipped, the results are the same.
    let (code, out, err) = hrf(&s.0, &study_args(&data, "a"));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        !out.contains("test UA"),
        "finished cells are skipped: {out}"
    );
    assert_eq!(results(&s, "a"), a);

    // Killed in the middle of its first cell (after 4 steps; checkpoint at 3), then resumed.
    let mut crashing = study_args(&data, "b");
    crashing.extend(["--crash-after-steps", "4"]);
    let (code, _, _) = hrf(&s.0, &crashing);
    assert_eq!(code, Some(137));
    assert!(
        s.path("b/cells/tiny_other-f0-s0/state.safetensors")
            .is_file()
    );
    assert!(!s.path("b/cells/tiny_other-f0-s0/cell.json").exists());
    let (code, out, err) = hrf(&s.0, &study_args(&data, "b"));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        results(&s, "b"),
        a,
        "a resumed study reports what an uninterrupted one does"
    );

    // --plan: one JSON line per cell; run in reverse order by hand, then --collect.
    let mut plan = study_args(&data, "c");
    plan.push("--plan");
    let (code, out, err) = hrf(&s.0, &plan);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    assert!(!s.path("c").exists(), "--plan writes nothing");
    for line in lines.iter().rev() {
        let command = line["command"].as_str().unwrap();
        assert!(command.ends_with(&format!("--cell {}", line["id"].as_str().unwrap())));
        assert!(!command.contains('\''), "{command}");
        let words: Vec<&str> = command.split(' ').collect();
        assert_eq!(&words[..2], ["hrf", "study"]);
        let (code, out, err) = hrf(&s.0, &words[1..]);
        assert_eq!(code, Some(0), "{command}\n{out}\n{err}");
    }
    let mut collect = study_args(&data, "c");
    collect.push("--collect");
    let (code, out, err) = hrf(&s.0, &collect);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("8 of 8 cells"), "{out}");
    assert_eq!(results(&s, "c"), a, "cells run by hand in another order");

    // Collecting a partial study reports what is there and names what is missing.
    std::fs::remove_file(s.path("c/cells/tiny_hrf-f2-s1/cell.json")).unwrap();
    let (code, out, err) = hrf(&s.0, &collect);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let partial = results(&s, "c");
    assert_eq!(partial["cells_finished"], 7);
    assert_eq!(partial["missing"][0], "tiny_hrf-f2-s1");
    assert_eq!(partial["comparisons"][0]["paired"]["n"], 3);

    // The same --out with other settings is refused, and nothing is overwritten.
    let mut other = study_args(&data, "a");
    let epochs = other.iter().position(|a| *a == "--epochs").unwrap();
    other[epochs + 1] = "3";
    let (code, _, err) = hrf(&s.0, &other);
    assert_eq!(code, Some(1));
    assert!(err.contains("records another study"), "{err}");
    assert_eq!(results(&s, "a"), a);
}

#[test]
fn bad_study_options_are_refused_before_anything_is_written() {
    let s = Scratch::new("study-bad");
    s.write("tiny.yaml", TINY_SPEC);
    s.write("other.yaml", OTHER_SPEC);
    let manifest = cli_common::tiny_corpus(&s.path("corpus"), 3, 1, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let cases: [(&[&str], &str); 7] = [
        (&["--seeds", "3-1"], "upwards"),
        (&["--seeds", "x"], "not a number"),
        (&["--folds", "7"], "indices go from 0 to 2"),
        (&["--baseline", "conformer_light"], "is not one of --specs"),
        (&["--lr", "tiny_other=nan"], "not a learning rate"),
        (&["--lr", "nobody=1e-3"], "is not one of --specs"),
        (&["--cell", "tiny_hrf-f9-s0"], "is not a cell of this study"),
    ];
    for (extra, expected) in cases {
        let mut args = vec![
            "study",
            "--specs",
            "other.yaml,tiny.yaml",
            "--data",
            &data,
            "--out",
            "out",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = hrf(&s.0, &args);
        assert_eq!(code, Some(1), "{extra:?}: {out}\n{err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(
            !s.path("out").exists(),
            "{extra:?} wrote the study directory"
        );
    }
    let (code, _, err) = hrf(
        &s.0,
        &["study", "--specs", "tiny.yaml,tiny.yaml", "--data", &data],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn a_distilled_spec_learns_from_the_teacher_cell_of_its_own_fold_and_seed() {
    let s = Scratch::new("study-kd");
    s.write("tiny.yaml", TINY_SPEC);
    s.write("other.yaml", OTHER_SPEC);
    let manifest = cli_common::tiny_corpus(&s.path("corpus"), 3, 1, &CLASSES);
    let data = format!("manifest:{}", manifest.display());
    let mut args = study_args(&data, "kd");
    // The student is listed first: its teacher's cells still run before it.
    args[2] = "tiny.yaml,other.yaml";
    args[4] = "other.yaml";
    let folds = args.iter().position(|a| *a == "--folds").unwrap();
    args[folds + 1] = "1";
    args.extend(["--teacher", "tiny.yaml=other.yaml", "--kd-weight", "0.6"]);

    // --plan marks what a distilled cell waits for; run out of order, it says so.
    let mut plan = args.clone();
    plan.push("--plan");
    let (code, out, err) = hrf(&s.0, &plan);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let student = lines.iter().find(|l| l["id"] == "tiny_hrf-f1-s0").unwrap();
    assert_eq!(student["after"], "tiny_other-f1-s0");
    assert!(
        student["command"]
            .as_str()
            .unwrap()
            .contains("--teacher tiny.yaml=other.yaml")
    );
    let mut early = args.clone();
    early.extend(["--cell", "tiny_hrf-f1-s0"]);
    let (code, _, err) = hrf(&s.0, &early);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("distills from cell tiny_other-f1-s0, which has not finished; run it first"),
        "{err}"
    );

    let (code, out, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("kd/cells/tiny_hrf-f1-s0/run.json")).unwrap(),
    )
    .unwrap();
    let teacher = &run["hyper"]["teacher"];
    assert_eq!(teacher["run"], "cells/tiny_other-f1-s0", "{run}");
    assert_eq!(teacher["spec_name"], "TinyOther");
    let teacher_run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("kd/cells/tiny_other-f1-s0/run.json")).unwrap(),
    )
    .unwrap();
    assert!(teacher_run["hyper"].get("teacher").is_none());
    // Run again: all finished, nothing retrained.
    let (code, out, err) = hrf(&s.0, &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(!out.contains("test UA"), "{out}");
    let results = results(&s, "kd");
    assert_eq!(results["settings"]["teachers"][0][0], "tiny_hrf");

    // A teacher that is itself distilled, or outside --specs, is refused.
    let mut chain = args.clone();
    chain.extend(["--teacher", "other.yaml=tiny.yaml"]);
    let (code, _, err) = hrf(&s.0, &chain);
    assert_eq!(code, Some(1));
    assert!(err.contains("--teacher other.yaml=tiny.yaml"), "{err}");
    let mut outside = args.clone();
    outside.extend(["--teacher", "tiny.yaml=conformer_large"]);
    let (code, _, err) = hrf(&s.0, &outside);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not one of --specs"), "{err}");
}
