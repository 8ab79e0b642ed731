//! `mts rejudge`: a run's evidence judged again offline gives the live verdicts; under a newer
//! catalogue, the new rules apply to the same evidence.

mod common;

use common::{Sandbox, mts, run_with_env};

#[test]
fn rejudging_a_run_offline_gives_its_live_verdicts_and_applies_a_newer_catalogue() {
    let sandbox = Sandbox::start(&[
        "--tls",
        "--fault",
        "no-hsts",
        "--fault",
        "no-request-id-echo",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let args = sandbox.target_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let live = run_with_env(dir.path(), &args, &sandbox.client_env());
    assert_eq!(live.code(), 1, "{}", live.stderr());
    drop(sandbox); // offline: nothing is listening any more

    let again = dir.path().join("again");
    let report = rejudge(&[live.out.as_ref()], &again);
    common::assert_same_parts(
        live.report(),
        &report,
        &[
            "verdict",
            "counts",
            "requirements",
            "checks",
            "scenarios",
            "exchanges",
        ],
        dir.path(),
        "after re-judging",
    );

    // A newer catalogue that makes HSTS a SHOULD: the same evidence, the new rule.
    let catalogue = dir.path().join("standards");
    common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards"),
        &catalogue,
    );
    let security = catalogue.join("requirements/security.toml");
    let text = std::fs::read_to_string(&security).unwrap();
    let at = text.find("id = \"SEC-HDR-001\"").unwrap();
    let level = text[at..].find("level = \"MUST\"").unwrap() + at;
    let newer = format!(
        "{}level = \"SHOULD\"{}",
        &text[..level],
        &text[level + "level = \"MUST\"".len()..]
    );
    std::fs::write(&security, newer).unwrap();
    let newer_out = dir.path().join("newer");
    let report = rejudge(
        &[
            live.out.as_ref(),
            "--catalogue".as_ref(),
            catalogue.as_ref(),
        ],
        &newer_out,
    );
    let hsts = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "SEC-HDR-001")
        .unwrap();
    assert_eq!(hsts["level"], "SHOULD");
    assert_eq!(hsts["verdict"], "fail");
    assert_ne!(
        report["catalogue"]["digest"],
        live.report()["catalogue"]["digest"]
    );

    // Traffic captured by another tool, as HAR 1.2 (here the run's own evidence.har).
    let from_har = dir.path().join("from-har");
    let report = rejudge(
        &[
            "--har".as_ref(),
            live.out.join("evidence.har").as_ref(),
            "--target".as_ref(),
            live.report()["target"].as_str().unwrap().as_ref(),
        ],
        &from_har,
    );
    let requirement = |id: &str| {
        report["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    // The passive checks judge the captured exchanges...
    assert_eq!(requirement("SEC-HDR-001")["verdict"], "fail");
    assert_eq!(requirement("API-HDR-001")["verdict"], "fail");
    assert_eq!(
        requirement("IOP-FHIR-006")["verdict"],
        "pass",
        "every body valid FHIR"
    );
    // ...and what only a live scenario can show is left unjudged, saying why.
    let read = requirement("IOP-FHIR-007");
    assert_eq!(read["verdict"], "skipped");
    assert!(
        read["reason"]
            .as_str()
            .unwrap()
            .contains("need the live server")
    );
}

#[test]
fn secrets_in_another_tools_capture_never_reach_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let har = serde_json::json!({"log": {"version": "1.2", "entries": [{
        "startedDateTime": "2026-11-22T01:00:00.000Z",
        "time": 12,
        "request": {"method": "GET",
            "url": "https://api.example/FHIR/R4/Patient/9000000009?access_token=query-secret-123",
            "headers": [{"name": "Authorization", "value": "Bearer header-secret-456"}]},
        "response": {"status": 200, "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/fhir+json"}],
            "content": {"size": 80, "mimeType": "application/fhir+json",
                "text": "{\"resourceType\":\"Patient\",\"id\":\"9000000009\",\"note\":\"header-secret-456\"}"}}
    }]}});
    let path = dir.path().join("capture.har");
    std::fs::write(&path, har.to_string()).unwrap();
    let out = dir.path().join("judged");
    let output = mts()
        .args(["rejudge", "--har"])
        .arg(&path)
        .args(["--target", "https://api.example/FHIR/R4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        [0, 1].contains(&output.status.code().unwrap_or(-1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut files = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let text =
            String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned();
        files += 1;
        for secret in ["query-secret-123", "header-secret-456"] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
    assert!(files >= 7, "the report folder was written");
}

/// `mts rejudge ARGS --out OUT`, which must find a blocking failure; its report.json.
fn rejudge(args: &[&std::ffi::OsStr], out: &std::path::Path) -> serde_json::Value {
    let output = mts()
        .arg("rejudge")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}
