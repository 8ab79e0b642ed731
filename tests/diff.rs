//! `mts diff`: regressions exit 1 (for CI), fixes and unchanged failures exit 0.

mod common;

use common::{mts, run};

fn diff(before: &std::path::Path, after: &std::path::Path, json: bool) -> (i32, String) {
    let mut command = mts();
    command.arg("diff").arg(before).arg(after);
    if json {
        command.args(["--format", "json"]);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_regression_exits_1_and_a_fix_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let clean = run(dir.path(), &["--requirements", "SEC-HDR,API-HDR-001"], None);
    let faulty = run(
        dir.path(),
        &[
            "--requirements",
            "SEC-HDR,API-HDR-001",
            "--fault",
            "no-hsts",
        ],
        None,
    );
    let faulty_again = run(
        dir.path(),
        &[
            "--requirements",
            "SEC-HDR,API-HDR-001",
            "--fault",
            "no-hsts",
        ],
        None,
    );
    assert_eq!(clean.code(), 0, "{}", clean.stderr());
    assert_eq!(faulty.code(), 1, "{}", faulty.stderr());

    let (code, text) = diff(&clean.out, &faulty.out, false);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("new failure (1):"), "{text}");
    assert!(text.contains("SEC-HDR-001"), "{text}");

    let (code, text) = diff(&faulty.out, &clean.out, false);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("fixed (1):"), "{text}");

    let (code, json) = diff(&faulty.out, &faulty_again.out, true);
    assert_eq!(code, 0, "{json}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["changes"][0]["id"], "SEC-HDR-001");
    assert_eq!(json["changes"][0]["change"], "still-failing");
}

#[test]
fn a_folder_without_a_report_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _) = diff(dir.path(), dir.path(), false);
    assert_eq!(code, 3);
}
