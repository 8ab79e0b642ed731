//! `mts doctor`: says what stops a run, and what to do about it.

mod common;

use common::{Sandbox, mts};

fn doctor(args: &[String], env: &[(&str, &str)]) -> (i32, String) {
    let mut command = mts();
    command.arg("doctor").args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_ready_target_passes_and_each_problem_is_named_with_its_fix() {
    let sandbox = Sandbox::start(&["--tls"]);
    let token = sandbox.token.clone();

    let (code, out) = doctor(&sandbox.target_args(), &[("MTS_TOKEN", &token)]);
    assert_eq!(code, 0, "{out}");
    for line in [
        "ok   connect",
        "ok   tls",
        "ok   metadata",
        "ok   credentials",
        "ok   test patient",
        "ok   absent patient",
        "ready",
    ] {
        assert!(out.contains(line), "missing {line}:\n{out}");
    }

    // No CA: stops at TLS, with the flag to use.
    let (code, out) = doctor(
        &["--target".to_owned(), sandbox.url.clone()],
        &[("MTS_TOKEN", &token)],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL tls") && out.contains("--ca-cert"),
        "{out}"
    );
    assert!(
        !out.contains("metadata"),
        "nothing after a TLS failure:\n{out}"
    );

    // A refused token.
    let (code, out) = doctor(&sandbox.target_args(), &[("MTS_TOKEN", "not-a-token")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL credentials     the target refused the credentials (401)"),
        "{out}"
    );
    assert!(!out.contains("not-a-token"), "the token is never printed");

    // A test patient that is not there.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mts.toml");
    std::fs::write(
        &config,
        "[data.patient.existing]\nnhs_number = \"9449306680\"\n",
    )
    .unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--config".to_owned(), config.display().to_string()]);
    let (code, out) = doctor(&args, &[("MTS_TOKEN", &token)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL test patient    Patient/9449306680 is not on the target"),
        "{out}"
    );
}

#[test]
fn an_unreachable_target_is_a_connect_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (code, out) = doctor(
        &[
            "--target".to_owned(),
            format!("http://127.0.0.1:{port}/FHIR/R4"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL connect") && out.contains("fix:"),
        "{out}"
    );
}
