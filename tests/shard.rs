//! `--shard K/N` and `mts merge`: two shards merged give the report of one unsharded run.

mod common;

use common::{Run, Sandbox, mts, run_with_env};
use serde_json::Value;

fn run_shard(dir: &std::path::Path, sandbox: &Sandbox, shard: Option<&str>) -> Run {
    let mut args = sandbox.target_args();
    if let Some(shard) = shard {
        args.extend(["--shard".to_owned(), shard.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_with_env(dir, &args, &sandbox.client_env())
}

#[test]
fn two_shards_merged_equal_one_unsharded_run() {
    let sandbox = Sandbox::start(&[
        "--tls",
        "--fault",
        "no-hsts",
        "--fault",
        "no-request-id-echo",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let whole = run_shard(dir.path(), &sandbox, None);
    let first = run_shard(dir.path(), &sandbox, Some("1/2"));
    let second = run_shard(dir.path(), &sandbox, Some("2/2"));
    assert_eq!(whole.code(), 1, "{}", whole.stderr());
    let ran = |run: &Run| run.report()["scenarios"].as_array().unwrap().len();
    assert!(
        ran(&first) > 10 && ran(&second) > 10,
        "both shards do real work"
    );
    assert_eq!(
        ran(&first) + ran(&second),
        ran(&whole),
        "each scenario in exactly one shard"
    );
    assert_eq!(first.report()["settings"]["shard"], "1/2");

    let merged_dir = dir.path().join("merged");
    let merged = mts()
        .arg("merge")
        .arg(&second.out)
        .arg(&first.out)
        .arg("--out")
        .arg(&merged_dir)
        .output()
        .unwrap();
    assert_eq!(
        merged.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(merged_dir.join("report.json")).unwrap()).unwrap();
    common::assert_same_parts(
        whole.report(),
        &report,
        &[
            "verdict",
            "counts",
            "requirements",
            "checks",
            "scenarios",
            "exchanges",
            "harness_errors",
        ],
        dir.path(),
        "between the whole run and the merged one",
    );
    // The merged folder is a complete, verifiable run folder.
    let verified = mts().arg("verify").arg(&merged_dir).output().unwrap();
    assert_eq!(verified.status.code(), Some(0));
}

#[test]
fn merge_refuses_incomplete_or_mismatched_shards() {
    let sandbox = Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let first = run_shard(dir.path(), &sandbox, Some("1/2"));
    let merged = mts()
        .arg("merge")
        .arg(&first.out)
        .arg("--out")
        .arg(dir.path().join("merged"))
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&merged.stderr).contains("shards 1/2 to 2/2"));
    let bad = mts().args(["run", "--shard", "3/2"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
