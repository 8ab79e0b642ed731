//! The gating policy: which levels block (`--strict`), and waivers with an expiry.

mod common;

use common::run;

fn config(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("mts.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn waiver(expires: &str) -> String {
    format!(
        "[[waiver]]\nrequirement = \"SEC-HDR-001\"\njustification = \"HSTS is set at the CDN; decision record 17\"\nexpires = \"{expires}\"\n"
    )
}

const SELECTED: &[&str] = &["--requirements", "SEC-HDR", "--fault", "no-hsts"];

#[test]
fn a_waiver_in_force_accepts_a_failure_and_an_expired_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let in_force = config(dir.path(), &waiver("2999-12-31"));
    let mut args = SELECTED.to_vec();
    args.extend(["--config", &in_force]);
    let waived = run(dir.path(), &args, None);
    assert_eq!(waived.code(), 0, "{}", waived.stderr());
    let requirement = waived.requirement("SEC-HDR-001");
    assert_eq!(requirement["verdict"], "waived");
    let reason = requirement["reason"].as_str().unwrap();
    assert!(
        reason.contains("waived until 2999-12-31") && reason.contains("decision record 17"),
        "{reason}"
    );
    assert!(
        waived.report()["verdict_reason"]
            .as_str()
            .unwrap()
            .contains("1 failure(s) waived")
    );
    assert_eq!(
        waived.report()["settings"]["waivers"][0]["requirement"],
        "SEC-HDR-001"
    );
    let junit = std::fs::read_to_string(waived.out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<skipped message=\"waived: waived until 2999-12-31"),
        "{junit}"
    );
    let summary = std::fs::read_to_string(waived.out.join("summary.md")).unwrap();
    assert!(summary.contains("| waived |"), "{summary}");

    let expired = config(dir.path(), &waiver("2000-01-01"));
    let mut args = SELECTED.to_vec();
    args.extend(["--config", &expired]);
    let counted = run(dir.path(), &args, None);
    assert_eq!(counted.code(), 1, "{}", counted.stderr());
    let requirement = counted.requirement("SEC-HDR-001");
    assert_eq!(requirement["verdict"], "fail");
    assert!(
        requirement["reason"]
            .as_str()
            .unwrap()
            .starts_with("the waiver expired on 2000-01-01")
    );
}

#[test]
fn a_waiver_for_an_unknown_requirement_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let text = waiver("2999-12-31").replace("SEC-HDR-001", "SEC-HDR-01");
    let path = config(dir.path(), &text);
    let bad = run(dir.path(), &["--config", &path], None);
    assert_eq!(bad.code(), 3, "{}", bad.stderr());
    assert!(bad.stderr().contains("did you mean"), "{}", bad.stderr());
}

#[test]
fn strict_makes_should_failures_block() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--requirements", "SEC-HDR", "--fault", "no-nosniff"];
    let lenient = run(dir.path(), &args, None);
    assert_eq!(lenient.code(), 0, "a SHOULD failure is a warning");
    assert_eq!(lenient.requirement("SEC-HDR-003")["verdict"], "fail");

    let mut strict_args = args.to_vec();
    strict_args.push("--strict");
    let strict = run(dir.path(), &strict_args, None);
    assert_eq!(strict.code(), 1, "{}", strict.stdout());
    assert!(
        strict.report()["verdict_reason"]
            .as_str()
            .unwrap()
            .contains("MUST/SHOULD")
    );

    let path = config(dir.path(), "[gate]\nstrict = true\n");
    let mut file_args = args.to_vec();
    file_args.extend(["--config", &path]);
    assert_eq!(
        run(dir.path(), &file_args, None).code(),
        1,
        "[gate] strict = true"
    );
}
