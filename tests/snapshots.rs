//! Snapshots of what a run prints and records against the clean sandbox, with times, ports and
//! generated ids normalised in the model. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test`.

mod common;

use std::path::Path;

fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(5)
            .map(|(i, (e, a))| format!("line {}:\n  - {e}\n  + {a}", i + 1))
            .collect();
        panic!(
            "snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept):\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn the_clean_sandbox_run_matches_its_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run(dir.path(), &["--concurrency", "1"], None);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let stdout = run
        .stdout()
        .replace(run.out.to_str().unwrap(), "<run folder>");
    check_snapshot(
        "sandbox-run.table.txt",
        &mts::report::normalize_text(&stdout),
    );
    let mut report = run.report().clone();
    for key in ["started", "duration_ms"] {
        report[key] = serde_json::Value::String(format!("<{key}>"));
    }
    let requirements = serde_json::to_string_pretty(&report["requirements"]).unwrap();
    check_snapshot(
        "sandbox-run.requirements.json",
        &format!("{}\n", mts::report::normalize_text(&requirements)),
    );
    let durations = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    let junit = std::fs::read_to_string(run.out.join("junit.xml")).unwrap();
    check_snapshot(
        "sandbox-run.junit.xml",
        &durations.replace_all(&mts::report::normalize_text(&junit), "time=\"<seconds>\""),
    );
    let summary = std::fs::read_to_string(run.out.join("summary.md")).unwrap();
    check_snapshot(
        "sandbox-run.summary.md",
        &mts::report::normalize_text(&summary),
    );
}
