//! What a run writes on the target is listed in the report and deleted again: the real binary
//! against the sandbox, with and without `--keep-written`.

mod common;

use common::{Sandbox, run};
use serde_json::Value;

fn written(report: &Value) -> &Vec<Value> {
    report["written"]["resources"]
        .as_array()
        .expect("report.json lists what was written")
}

/// The exchange ids requirements were judged on.
fn judged_ids(report: &Value) -> Vec<String> {
    report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn what_a_run_creates_is_listed_and_deleted_and_the_deletes_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &["--allow-writes"], None);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let report = run.report();
    let resources = written(report);
    assert!(
        resources.len() >= 5,
        "the write scenarios create several Observations: {resources:?}"
    );
    let deletes: Vec<&Value> = report["written"]["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request"]["method"] == "DELETE")
        .collect();
    let judged = judged_ids(report);
    for resource in resources {
        let reference = resource["reference"].as_str().unwrap();
        assert!(reference.starts_with("Observation/"), "{resource}");
        assert!(!reference.contains("_history"), "{resource}");
        assert_eq!(resource["action"], "created", "{resource}");
        assert_eq!(resource["outcome"], "deleted", "{resource}");
        assert!(
            resource["scenario"]
                .as_str()
                .is_some_and(|s| s.starts_with("features/")),
            "{resource}"
        );
        assert!(!resource["requirements"].as_array().unwrap().is_empty());
        assert!(
            judged.iter().any(|id| resource["exchange"] == id.as_str()),
            "the creating exchange is in exchanges[]: {resource}"
        );
        let cleanup = resource["cleanup_exchange"].as_str().unwrap();
        let delete = deletes
            .iter()
            .find(|e| e["id"] == cleanup)
            .unwrap_or_else(|| panic!("{cleanup} is in written.exchanges"));
        assert!(
            delete["request"]["url"]
                .as_str()
                .unwrap()
                .ends_with(reference)
        );
        let status = delete["response"]["status"].as_u64().unwrap();
        assert!((200..300).contains(&status), "{delete}");
        assert!(
            delete["request"]["headers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h[0].as_str().unwrap().eq_ignore_ascii_case("x-request-id")),
            "the DELETE carries the usual headers"
        );
        // The cleanup's exchanges are not what any requirement was judged on.
        assert!(!judged.iter().any(|id| id == cleanup), "{cleanup}");
    }
    assert_eq!(deletes.len(), resources.len());
    for requirement in report["requirements"].as_array().unwrap() {
        for id in requirement["exchanges"].as_array().unwrap() {
            assert!(
                !id.as_str().unwrap().starts_with("cleanup#"),
                "{requirement}"
            );
        }
    }
    let line = format!(
        "wrote {} resources on the target: {} deleted",
        resources.len(),
        resources.len()
    );
    assert!(run.stdout().contains(&line), "{}", run.stdout());
    let html = std::fs::read_to_string(run.out.join("report.html")).unwrap();
    assert!(html.contains("What mts wrote on the target"));
    assert!(html.contains(resources[0]["reference"].as_str().unwrap()));
}

#[test]
fn keep_written_lists_everything_as_kept_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &["--allow-writes", "--keep-written"], None);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let report = run.report();
    let resources = written(report);
    assert!(!resources.is_empty());
    assert!(
        resources
            .iter()
            .all(|r| r["outcome"] == "kept" && r.get("cleanup_exchange").is_none()),
        "{resources:?}"
    );
    assert!(
        report["written"]["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["request"]["method"] != "DELETE")
    );
    assert!(
        run.stdout().contains("kept (--keep-written)"),
        "{}",
        run.stdout()
    );
}

#[test]
fn without_writes_nothing_is_written_and_the_section_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &["--requirements", "API-HDR"], None);
    assert!(run.report().get("written").is_none());
    assert!(
        !run.stdout().lines().any(|l| l.starts_with("wrote ")),
        "{}",
        run.stdout()
    );
}

/// The sandbox honours the DELETE: what the run created reads 404 afterwards, and kept
/// resources still read.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_resource_is_gone_from_the_sandbox_and_a_kept_one_is_not() {
    let sandbox = Sandbox::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = sandbox.target_args();
    args.extend([
        "--allow-writes".into(),
        "--requirements".into(),
        "API-HDR".into(),
    ]);
    let client = reqwest::Client::new();
    for (extra, status) in [(None, 404), (Some("--keep-written"), 200)] {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(extra);
        let run = run(dir.path(), &args, Some(&sandbox.token));
        let resources = written(run.report());
        assert!(!resources.is_empty(), "{}", run.stdout());
        for resource in resources {
            let url = format!(
                "{}/{}",
                sandbox.url,
                resource["reference"].as_str().unwrap()
            );
            let answer = client
                .get(&url)
                .bearer_auth(&sandbox.token)
                .header("X-Request-ID", "60e3a5d4-5b0c-4d6e-9a55-3c1f7a4c2b10")
                .header("Accept", "application/fhir+json")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), status, "{url}");
        }
    }
}
