//! Determinism: one target gives the same verdicts run after run, and concurrency does not
//! change them. A verdict that flips between runs would make a procurement gate a coin toss.

mod common;

use std::collections::BTreeMap;

use common::{Run, Sandbox, run_with_env};

/// Requirement id → verdict, and the failed check or scenario behind each failure.
fn verdicts(run: &Run) -> BTreeMap<String, String> {
    run.report()["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap_or_default().to_owned();
            let mut verdict = r["verdict"].as_str().unwrap_or_default().to_owned();
            let failed: Vec<&str> = r["scenarios"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(r["checks"].as_array().into_iter().flatten())
                .filter(|s| s["verdict"] != "pass")
                .filter_map(|s| s["location"].as_str().or(s["check"].as_str()))
                .collect();
            if !failed.is_empty() {
                verdict = format!("{verdict} ({})", failed.join(", "));
            }
            (id, verdict)
        })
        .collect()
}

fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.iter()
        .filter(|(id, verdict)| b.get(*id) != Some(verdict))
        .map(|(id, verdict)| format!("{id}: {verdict} then {:?}", b.get(id)))
        .collect()
}

/// A sandbox with two faults, so that failures as well as passes must repeat.
fn faulty_sandbox() -> Sandbox {
    Sandbox::start(&[
        "--tls",
        "--fault",
        "no-request-id-echo",
        "--fault",
        "no-hsts",
    ])
}

fn run_against(dir: &std::path::Path, sandbox: &Sandbox, extra: &[&str]) -> Run {
    let mut args = sandbox.target_args();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_env(dir, &args, &sandbox.client_env());
    assert_eq!(
        run.code(),
        1,
        "two faults make the run non-conformant: {}",
        run.stderr()
    );
    run
}

#[test]
fn twenty_runs_against_one_target_give_the_same_verdicts() {
    let sandbox = faulty_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let first = verdicts(&run_against(dir.path(), &sandbox, &[]));
    assert!(first.values().any(|v| v.starts_with("fail")));
    assert!(first.values().any(|v| v == "pass"));
    for attempt in 2..=20 {
        let again = verdicts(&run_against(dir.path(), &sandbox, &[]));
        let changed = differences(&first, &again);
        assert!(changed.is_empty(), "run {attempt} differs: {changed:#?}");
    }
}

#[test]
fn concurrency_does_not_change_verdicts() {
    let sandbox = faulty_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let one_at_a_time = verdicts(&run_against(dir.path(), &sandbox, &["--concurrency", "1"]));
    let default = verdicts(&run_against(dir.path(), &sandbox, &[]));
    let wide = verdicts(&run_against(dir.path(), &sandbox, &["--concurrency", "32"]));
    assert!(
        differences(&one_at_a_time, &default).is_empty(),
        "{:#?}",
        differences(&one_at_a_time, &default)
    );
    assert!(
        differences(&default, &wide).is_empty(),
        "{:#?}",
        differences(&default, &wide)
    );
}
