//! The command-line contract: commands, exit codes, and failure modes of real targets.

mod common;

use std::io::Read as _;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Sandbox, mts, run};

#[test]
fn help_and_version_exit_zero_and_bad_usage_exits_two() {
    let help = mts().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("run"));
    let version = mts().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("mts "));
    assert_eq!(
        mts().arg("frobnicate").output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        mts()
            .args(["run", "--profile", "nhs"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        mts()
            .args(["run", "--timeout", "0"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn list_and_explain_describe_the_catalogue() {
    let list = mts().args(["list", "--format", "json"]).output().unwrap();
    assert_eq!(list.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(value["requirements"].as_array().unwrap().len() >= 79);
    assert!(
        value["catalogue"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let table = mts().args(["list", "--profile", "gpc"]).output().unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("GPC-SSP-001") && !text.contains("API-HDR-001"),
        "{text}"
    );

    let explain = mts().args(["explain", "IOP-FHIR-006"]).output().unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert_eq!(explain.status.code(), Some(0));
    for expected in [
        "IOP-FHIR-006",
        "fhir.schema",
        "features/fhir/read.feature",
        "invalid-patient",
        "https://",
    ] {
        assert!(text.contains(expected), "explain lacks {expected}:\n{text}");
    }
    let unknown = mts().args(["explain", "IOP-FHIR-0066"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean"));
}

#[test]
fn a_run_against_the_embedded_sandbox_is_conformant_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &[], None);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    for key in [
        "verdict",
        "target",
        "profile",
        "harness",
        "catalogue",
        "started",
        "duration_ms",
        "requirements",
    ] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
    }
    assert_eq!(report["profile"], "apim");
    assert!(run.stdout().contains("CONFORMANT"));
    assert!(
        !run.stdout().contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
}

#[test]
fn an_unreachable_target_is_incomplete_not_a_crash() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &["--target", &format!("http://127.0.0.1:{port}/FHIR/R4")],
        None,
    );
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert_eq!(run.report()["verdict"], "incomplete");
    let errors = run.with_verdict("error");
    assert!(errors.contains(&"IOP-FHIR-007".to_owned()), "{errors:?}");
    let reason = run.requirement("IOP-FHIR-007")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("could not connect"), "{reason}");
}

#[test]
fn a_target_that_never_answers_times_out_within_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept connections and hold them open without a byte in reply.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let run = run(
        dir.path(),
        &[
            "--target",
            &format!("http://127.0.0.1:{port}/FHIR/R4"),
            "--timeout",
            "1",
            // Every request waits out its second: the FHIR and search areas (some forty
            // scenarios) show it, without the whole suite's minute of timeouts.
            "--requirements",
            "IOP-FHIR,IOP-SRCH",
        ],
        None,
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), 4, "{}", run.stderr());
    let reason = run.requirement("IOP-FHIR-007")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("no complete response") && reason.contains("waiting for the response head"),
        "{reason}"
    );
}

#[test]
fn a_body_that_trickles_forever_is_cut_by_the_overall_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::Write as _;
                let mut stream = stream;
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/fhir+json\r\ntransfer-encoding: chunked\r\n\r\n");
                for _ in 0..200 {
                    if stream.write_all(b"1\r\n \r\n").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let run = run(
        dir.path(),
        &[
            "--target",
            &format!("http://127.0.0.1:{port}/FHIR/R4"),
            "--timeout",
            "1",
            "--requirements",
            "IOP-FHIR-007",
        ],
        None,
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "an idle timeout alone would never end this: {:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), 4, "{}", run.stderr());
    let reason = run.requirement("IOP-FHIR-007")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("the body was still incomplete after"),
        "the timeout names its cause: {reason}"
    );
}

#[test]
fn a_run_never_overwrites_an_older_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), "{}").unwrap();
    let output = mts()
        .args(["run", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("never overwrites"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("report.json")).unwrap(),
        "{}"
    );
}

#[test]
fn invalid_inputs_exit_three_with_the_place_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mts.toml");
    std::fs::write(&config, "[run]\nprofile = \"apim\"\nconcurency = 2\n").unwrap();
    let output = mts()
        .args(["run", "--out"])
        .arg(dir.path().join("a"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mts.toml:3:") && stderr.contains("concurency"),
        "{stderr}"
    );

    let features = dir.path().join("features");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("bad.feature"),
        "Feature: bad\n  @REQ-IOP-FHIR-999 @smoke\n  Scenario: typo\n    Given a GET request to \"metadata\"\n    When the request is snet\n",
    )
    .unwrap();
    let output = mts()
        .args(["run", "--out"])
        .arg(dir.path().join("b"))
        .arg("--features-dir")
        .arg(&features)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "@REQ-IOP-FHIR-999 names no requirement",
        "unknown tag @smoke",
        "bad.feature:5: no step definition matches When \"the request is snet\"",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }

    let output = mts()
        .args(["run", "--requirements", "IOP-FHIR-0077", "--out"])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_token_never_reaches_the_report() {
    let sandbox = Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let args = sandbox.target_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(dir.path(), &args, Some(&sandbox.token));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let written = std::fs::read_to_string(run.out.join("report.json")).unwrap();
    assert!(
        !written.contains(&sandbox.token),
        "the token leaked into report.json"
    );
    assert!(
        written.contains("Bearer [REDACTED]"),
        "the Authorization header is recorded, redacted"
    );
    assert!(!run.stdout().contains(&sandbox.token) && !run.stderr().contains(&sandbox.token));
}

#[test]
fn without_a_token_the_sandbox_data_endpoints_refuse_and_the_run_says_so() {
    let sandbox = Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let args = sandbox.target_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(dir.path(), &args, None);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let failure = &run.requirement("IOP-FHIR-007")["failures"][0];
    assert_eq!(failure["actual"], "HTTP 401");
}

#[test]
fn an_interrupted_run_still_writes_a_verifiable_incomplete_report() {
    // A target that accepts connections and never answers: the run would wait a minute.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted");
    let mut child = mts()
        .args(["run", "--timeout", "60", "--target"])
        .arg(format!("http://127.0.0.1:{port}/FHIR/R4"))
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run did not stop promptly: {:?}",
        started.elapsed()
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(4), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], "incomplete");
    let errors = report["harness_errors"].to_string();
    assert!(errors.contains("interrupted (SIGINT)"), "{errors}");
    for name in [
        "junit.xml",
        "report.html",
        "summary.md",
        "testreport.json",
        "evidence.har",
    ] {
        assert!(out.join(name).exists(), "{name} missing after an interrupt");
    }
    let verify = mts().arg("verify").arg(&out).output().unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn sandbox_keeps_its_keys_in_a_private_folder_and_removes_it_when_stopped() {
    let sandbox = Sandbox::start(&["--tls", "--mtls"]);
    let ca = std::path::PathBuf::from(
        sandbox
            .ca_cert
            .clone()
            .expect("a --tls sandbox prints its CA"),
    );
    let folder = ca.parent().expect("the CA lives in a folder").to_owned();
    for key in [
        "MTS_CLIENT_KEY",
        "MTS_TLS_CLIENT_KEY",
        "MTS_TLS_CLIENT_CA_KEY",
    ] {
        let path = std::path::PathBuf::from(sandbox.value(key).expect("printed"));
        assert_eq!(path.parent(), Some(folder.as_path()), "{key}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the key folder is private");
    }
    drop(sandbox);
    assert!(!folder.exists(), "{} left behind", folder.display());
}

#[test]
fn lint_passes_the_built_in_suite_and_names_each_problem_in_a_broken_one() {
    let clean = mts().arg("lint").output().unwrap();
    assert_eq!(clean.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("no problems"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.feature"),
        "Feature: broken\n  @REQ-IOP-FHIR-9999 @nightly\n  Scenario: x\n    Given a GET request to \"metadata\"\n    When the moon is full\n",
    )
    .unwrap();
    let broken = mts()
        .args(["lint", "--features-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    for expected in [
        "@REQ-IOP-FHIR-9999 names no requirement",
        "unknown tag @nightly",
        "no step definition matches When \"the moon is full\"",
        // With only this feature, the built-in requirements lose their scenarios.
        "IOP-FHIR-001: automated, but no scenario or passive check verifies it",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
}

#[test]
fn quiet_prints_the_verdict_alone_verbose_each_scenario_and_ci_gets_no_control_codes() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = run(dir.path(), &["--quiet", "--requirements", "API-HDR"], None);
    assert_eq!(quiet.code(), 0, "{}", quiet.stderr());
    let stdout = quiet.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("CONFORMANT: "), "{lines:?}");
    assert!(quiet.stderr().trim().is_empty(), "{}", quiet.stderr());

    let verbose = run(
        dir.path(),
        &["--verbose", "--requirements", "API-HDR-001"],
        None,
    );
    let stderr = verbose.stderr();
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("pass  features/api-platform/request-id.feature:")),
        "{stderr}"
    );

    let plain = run(dir.path(), &["--requirements", "API-HDR"], None);
    for output in [plain.stderr(), plain.stdout()] {
        assert!(
            !output.contains('\u{1b}') && !output.contains('\r'),
            "{output:?}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    use std::io::Read as _;
    use std::process::Stdio;
    // `mts list --format json | head -c 10`: the pipe closes after the first bytes, while
    // mts still has more than a pipe's buffer (64 KiB) to write.
    let mut child = mts()
        .args(["list", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
