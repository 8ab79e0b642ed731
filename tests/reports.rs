//! Every report format from a real run: each parsed by a real parser or validated against its
//! standard's schema, the manifest verified and tampering detected, hostile text escaped, and the
//! HTML checked in headless Chromium.

mod common;

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, mts, run};
use serde_json::Value;

const FILES: [&str; 7] = [
    "report.json",
    "junit.xml",
    "report.html",
    "summary.md",
    "testreport.json",
    "evidence.har",
    "manifest.json",
];

/// A run against the embedded sandbox with auth-bypass (some failures) and no-hsts.
fn failing_run(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--fault", "auth-bypass", "--fault", "no-hsts"];
    args.extend_from_slice(extra);
    let run = run(dir, &args, None);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    run
}

fn read(run: &Run, name: &str) -> String {
    std::fs::read_to_string(run.out.join(name))
        .unwrap_or_else(|e| panic!("{name} was not written: {e}"))
}

fn json(run: &Run, name: &str) -> Value {
    serde_json::from_str(&read(run, name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

#[test]
fn every_format_is_written_and_each_parses_as_its_standard_says() {
    let dir = tempfile::tempdir().unwrap();
    let run = failing_run(dir.path(), &[]);
    let written: BTreeSet<String> = std::fs::read_dir(&run.out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, FILES.iter().map(|f| (*f).to_owned()).collect());
    let report = run.report();
    let requirements = report["requirements"].as_array().unwrap();

    // JUnit: a real XML parser; one testsuite per area, one testcase per requirement.
    let junit = read(&run, "junit.xml");
    let document = roxmltree::Document::parse(&junit).expect("junit.xml is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<roxmltree::Node> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), requirements.len());
    let areas: BTreeSet<&str> = requirements
        .iter()
        .map(|r| r["area"].as_str().unwrap())
        .collect();
    assert_eq!(
        root.children()
            .filter(|n| n.has_tag_name("testsuite"))
            .count(),
        areas.len()
    );
    let mut named_exchanges = 0;
    for requirement in requirements {
        let id = requirement["id"].as_str().unwrap();
        let case = cases
            .iter()
            .find(|c| c.attribute("name").unwrap().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no testcase for {id}"));
        let child = |tag: &str| case.children().find(|n| n.has_tag_name(tag));
        match requirement["verdict"].as_str().unwrap() {
            "fail" if requirement["blocking"] == false => {
                let warning =
                    child("system-err").expect("a warning for a failure that does not block");
                assert!(
                    child("failure").is_none(),
                    "{id}: only blocking failures fail JUnit"
                );
                assert!(warning.text().unwrap_or("").contains("does not block"));
            }
            "fail" => {
                let failure = child("failure").expect("a failure element");
                let text = failure.text().unwrap_or("");
                assert!(
                    text.contains("expected:") && text.contains("actual:"),
                    "{text}"
                );
                // The message a CI page shows names the exchange to open in evidence.har.
                let exchange = requirement["failures"][0]["exchange"].as_str();
                if let Some(exchange) = exchange {
                    named_exchanges += 1;
                    let message = failure.attribute("message").unwrap_or("");
                    assert!(
                        message.contains("evidence.har: ") && message.contains(exchange),
                        "{id}: {message}"
                    );
                }
            }
            "error" => assert!(child("error").is_some()),
            "pass" => assert!(child("failure").is_none() && child("skipped").is_none()),
            _ => assert!(child("skipped").is_some(), "{id}"),
        }
        let level = case
            .descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("level"))
            .and_then(|n| n.attribute("value"));
        assert_eq!(level, requirement["level"].as_str());
    }
    assert!(
        named_exchanges > 0,
        "no blocking failure named its exchange: the check above judged nothing"
    );
    let failures = root
        .attribute("failures")
        .unwrap()
        .parse::<usize>()
        .unwrap();
    // JUnit fails exactly the failures that fail the run (the `blocking` flag).
    let blocking_failures = run.report()["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail" && r["blocking"] == true)
        .count();
    assert_eq!(failures, blocking_failures);

    // FHIR TestReport: valid against the FHIR R4 JSON schema.
    let test_report = json(&run, "testreport.json");
    let schema = mts::fhir::schema::FhirSchema::embedded().unwrap();
    let issues = schema.validate(&test_report);
    assert!(
        issues.is_empty(),
        "testreport.json breaks FHIR R4: {issues:?}"
    );
    assert_eq!(test_report["result"], "fail");
    assert_eq!(
        test_report["test"].as_array().unwrap().len(),
        requirements.len()
    );

    // HAR 1.2: every exchange an entry with the fields HAR requires, and every requirement's
    // evidence ids name entries.
    let har = json(&run, "evidence.har");
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), report["exchanges"].as_array().unwrap().len());
    for entry in entries {
        for field in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(entry.get(field).is_some(), "HAR entry without {field}");
        }
        for field in [
            "method",
            "url",
            "httpVersion",
            "headers",
            "queryString",
            "headersSize",
            "bodySize",
        ] {
            assert!(
                entry["request"].get(field).is_some(),
                "HAR request without {field}"
            );
        }
        for field in ["status", "content", "headers", "redirectURL"] {
            assert!(
                entry["response"].get(field).is_some(),
                "HAR response without {field}"
            );
        }
    }
    let ids: BTreeSet<&str> = entries.iter().map(|e| e["_id"].as_str().unwrap()).collect();
    for requirement in requirements {
        for exchange in requirement["exchanges"].as_array().unwrap() {
            assert!(
                ids.contains(exchange.as_str().unwrap()),
                "{exchange} has no HAR entry"
            );
        }
    }
    let failed = requirements
        .iter()
        .find(|r| r["id"] == "SEC-AUTH-001")
        .unwrap();
    assert!(!failed["exchanges"].as_array().unwrap().is_empty());

    // report.json: valid against the committed schema.
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(mts::report::schema::COMMITTED_PATH),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&committed).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report.json breaks its schema: {errors:?}"
    );

    // summary.md: the verdict and each failed requirement.
    let summary = read(&run, "summary.md");
    assert!(summary.starts_with("## mts: NON-CONFORMANT"), "{summary}");
    let mut summary_exchanges = 0;
    for id in run.with_verdict("fail") {
        assert!(summary.contains(&id), "{id} missing from summary.md");
        let exchange = run.requirement(&id)["failures"][0]["exchange"]
            .as_str()
            .map(str::to_owned);
        if let Some(exchange) = exchange {
            summary_exchanges += 1;
            let row = summary
                .lines()
                .find(|l| l.starts_with(&format!("| {id} ")))
                .unwrap_or_default();
            assert!(
                row.contains(&format!("evidence.har `{exchange}`")),
                "{id}: the job summary names no exchange: {row}"
            );
        }
    }
    assert!(
        summary_exchanges > 0,
        "no failure in this run named an exchange, so summary.md was not checked for one"
    );
}

#[test]
fn the_committed_report_schema_matches_the_report_types() {
    let generated = mts::report::schema::report_schema_text();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(mts::report::schema::COMMITTED_PATH);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the report types: regenerate with UPDATE_SNAPSHOTS=1 cargo test --test reports, and bump REPORT_SCHEMA_VERSION if a field changed meaning",
        path.display()
    );
}

fn verify(folder: &Path, public_key: Option<&Path>) -> (i32, String) {
    let mut command = mts();
    command.arg("verify").arg(folder);
    if let Some(key) = public_key {
        command.arg("--public-key").arg(key);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn the_manifest_verifies_and_any_change_to_any_file_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.pem");
    let keygen = mts().arg("keygen").arg("--out").arg(&key).output().unwrap();
    assert!(keygen.status.success());
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let key_arg = key.display().to_string();
    let run = failing_run(dir.path(), &["--sign-key", &key_arg]);
    assert!(run.out.join("manifest.sig").exists());
    let (code, text) = verify(&run.out, Some(&public));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("signature valid for the given public key"),
        "{text}"
    );

    // Every file of the folder, one byte changed at a time, is caught and named.
    for name in FILES {
        let copy = dir.path().join(format!("tampered-{name}"));
        common::copy_tree(&run.out, &copy);
        let mut bytes = std::fs::read(copy.join(name)).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(copy.join(name), bytes).unwrap();
        let (code, text) = verify(&copy, Some(&public));
        assert_eq!(code, 1, "a change to {name} went unnoticed: {text}");
        assert!(text.contains(name) || text.contains("signature"), "{text}");
    }
    // A file added afterwards, a file removed, another signer.
    let copy = dir.path().join("added");
    common::copy_tree(&run.out, &copy);
    std::fs::write(copy.join("extra.txt"), "x").unwrap();
    let (code, text) = verify(&copy, Some(&public));
    assert_eq!(code, 1);
    assert!(text.contains("extra.txt"), "{text}");
    let copy = dir.path().join("removed");
    common::copy_tree(&run.out, &copy);
    std::fs::remove_file(copy.join("junit.xml")).unwrap();
    assert_eq!(verify(&copy, Some(&public)).0, 1);
    let other = dir.path().join("other.pem");
    assert!(
        mts()
            .arg("keygen")
            .arg("--out")
            .arg(&other)
            .status()
            .unwrap()
            .success()
    );
    let (code, text) = verify(
        &run.out,
        Some(Path::new(&format!("{}.pub", other.display()))),
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("different key"), "{text}");
    // Unsigned folders verify their hashes, and say they are unsigned.
    let unsigned = failing_run(dir.path(), &[]);
    let (code, text) = verify(&unsigned.out, None);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("not signed"), "{text}");
    assert_eq!(verify(&unsigned.out, Some(&public)).0, 1);
}

#[test]
fn format_chooses_the_files_and_the_manifest_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &["--format", "junit,markdown"], None);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let written: BTreeSet<String> = std::fs::read_dir(&run.out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = ["junit.xml", "summary.md", "manifest.json"]
        .map(str::to_owned)
        .into();
    assert_eq!(written, expected);
    assert!(
        run.stdout().contains("CONFORMANT"),
        "the table still prints"
    );
    let bad = mts().args(["run", "--format", "pdf"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// A FHIR server whose every answer carries markup in a header and in the body.
fn hostile_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buffer = [0u8; 8192];
                let _ = stream.read(&mut buffer);
                let body = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"<script>document.title='pwned-body'</script><img src=x onerror=alert(1)>"}]}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/fhir+json\r\nx-evil: <script>document.title='pwned-header'</script>\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://127.0.0.1:{port}/FHIR/R4")
}

fn headless(browser: &str, args: &[&str], url: &str) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("run headless chromium")
}

#[test]
fn the_html_report_escapes_supplier_text_and_reads_right_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let target = hostile_server();
    let run = run(
        dir.path(),
        &[
            "--target",
            &target,
            "--requirements",
            "IOP-FHIR-001,API-ERR-001,SEC-ERR-001",
            "--timeout",
            "5",
        ],
        None,
    );
    let html = read(&run, "report.html");
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the report's own script"
    );
    assert!(
        !html.contains("<img src=x"),
        "supplier markup reached the page raw"
    );
    assert!(
        html.contains("&lt;script&gt;document.title="),
        "the hostile text is shown, escaped"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"//"),
        "no external resources"
    );

    if std::env::var_os("MTS_SKIP_BROWSER_TESTS").is_some() {
        return;
    }
    let browser = common::chromium().expect(
        "headless Chromium is needed for this test (.ci/run installs Debian's chromium); set MTS_SKIP_BROWSER_TESTS=1 to skip it",
    );
    let url = format!("file://{}", run.out.join("report.html").display());
    let dom = headless(browser, &["--dump-dom", "--virtual-time-budget=2000"], &url);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("NON-CONFORMANT"),
        "the verdict is shown: {}",
        &dom[..dom.len().min(500)]
    );
    assert!(
        dom.contains("id=\"req-API-ERR-001\""),
        "the failure section is in the DOM"
    );
    assert!(!dom.contains("<title>pwned"), "no supplier script ran");
    assert!(!dom.contains("<img"), "no supplier element was created");

    // Filters apply from the URL: only failing rows stay visible.
    let filtered = headless(
        browser,
        &["--dump-dom", "--virtual-time-budget=2000"],
        &format!("{url}#verdict=fail"),
    );
    let filtered = String::from_utf8_lossy(&filtered.stdout);
    let shown = filtered
        .split("id=\"shown\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("");
    assert_eq!(
        shown,
        run.with_verdict("fail").len().to_string(),
        "rows shown under verdict=fail"
    );

    // A screenshot, kept in the run folder.
    let shot = run.out.join("report.png");
    let output = headless(
        browser,
        &[
            "--window-size=1280,1800",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}
