//! Selection: by level, by area, and `--rerun-failed` from an earlier run folder.

mod common;

use common::run;

fn judged(run: &common::Run) -> Vec<String> {
    let mut ids: Vec<String> = ["pass", "fail", "error"]
        .iter()
        .flat_map(|verdict| run.with_verdict(verdict))
        .collect();
    ids.sort();
    ids
}

#[test]
fn level_and_area_filters_keep_only_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let should = run(
        dir.path(),
        &["--level", "should", "--area", "SEC-HDR"],
        None,
    );
    assert_eq!(should.code(), 0, "{}", should.stderr());
    let ids = judged(&should);
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(id.starts_with("SEC-HDR-"), "{id} is outside the area");
        assert_eq!(should.requirement(id)["level"], "SHOULD", "{id}");
    }
    assert_eq!(should.report()["settings"]["levels"][0], "should");

    // An area by the words of its title.
    let transport = run(
        dir.path(),
        &["--area", "transport", "--level", "MUST"],
        None,
    );
    assert!(
        judged(&transport)
            .iter()
            .all(|id| id.starts_with("SEC-TLS-")),
        "{:?}",
        judged(&transport)
    );

    let wrong = run(dir.path(), &["--level", "often"], None);
    assert_eq!(wrong.code(), 2, "{}", wrong.stderr());
    let wrong = run(dir.path(), &["--area", "nonsense"], None);
    assert_eq!(wrong.code(), 2);
    assert!(wrong.stderr().contains("SEC-TLS"), "{}", wrong.stderr());
}

#[test]
fn rerun_failed_runs_only_what_failed_or_errored() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(
        dir.path(),
        &["--fault", "no-hsts", "--fault", "no-nosniff"],
        None,
    );
    assert_eq!(first.code(), 1, "{}", first.stderr());
    let mut failed = first.with_verdict("fail");
    failed.sort();
    assert!(failed.len() >= 2, "{failed:?}");

    let folder = first.out.display().to_string();
    let again = run(
        dir.path(),
        &["--rerun-failed", &folder, "--fault", "no-hsts"],
        None,
    );
    assert_eq!(
        judged(&again),
        failed,
        "only the earlier failures are judged"
    );
    assert_eq!(again.with_verdict("fail"), vec!["SEC-HDR-001".to_owned()]);

    let clean = run(dir.path(), &[], None);
    let nothing = run(
        dir.path(),
        &["--rerun-failed", &clean.out.display().to_string()],
        None,
    );
    assert_eq!(nothing.code(), 0);
    assert!(
        nothing.stdout().contains("nothing to rerun"),
        "{}",
        nothing.stdout()
    );
}
