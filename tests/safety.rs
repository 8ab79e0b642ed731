//! Safety of the target: without `--allow-writes` nothing that could change data is sent,
//! without `--allow-load` no burst is sent, and no request ever leaves the target (same host
//! and port; only the plain-HTTP probe changes the scheme).

mod common;

use common::{Sandbox, run_with_env};

/// Methods that cannot change data.
const SAFE: &[&str] = &["GET", "HEAD", "OPTIONS", "TRACE"];

#[test]
fn a_default_run_sends_no_writes_no_load_and_stays_on_the_target_origin() {
    let sandbox = Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let run = run_with_env(
        dir.path(),
        &sandbox
            .target_args()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &sandbox.client_env(),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    // The same host and port; the plain-HTTP probe (SEC-TLS-001) changes only the scheme.
    let authority = |url: &url::Url| (url.host_str().map(str::to_owned), url.port());
    let target = url::Url::parse(&sandbox.url).unwrap();
    let token_url = sandbox.value("MTS_TOKEN_URL").unwrap().to_owned();
    let exchanges = run.report()["exchanges"].as_array().unwrap();
    assert!(
        exchanges.len() > 50,
        "a real run: {} exchanges",
        exchanges.len()
    );
    for exchange in exchanges {
        let method = exchange["request"]["method"].as_str().unwrap();
        let url = exchange["request"]["url"].as_str().unwrap();
        let parsed = url::Url::parse(url).unwrap();
        assert_eq!(
            authority(&parsed),
            authority(&target),
            "{method} {url} left the target"
        );
        assert!(
            parsed.scheme() == target.scheme() || parsed.scheme() == "http",
            "{method} {url}: unexpected scheme"
        );
        let path = parsed.path();
        let harmless = SAFE.contains(&method)
            // Fetching a token is not a write to patient data.
            || (method == "POST" && url == token_url)
            // Verbs against the CapabilityStatement, which no server lets a client change.
            || path.ends_with("/metadata");
        assert!(harmless, "{method} {url} was sent without --allow-writes");
    }
    for (tag, flag) in [("@writes", "--allow-writes"), ("@load", "--allow-load")] {
        let skipped: Vec<&serde_json::Value> = run.report()["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["scenarios"].as_array().into_iter().flatten())
            .filter(|s| s["reason"].as_str().is_some_and(|r| r.contains(flag)))
            .collect();
        assert!(
            !skipped.is_empty(),
            "{tag} scenarios are reported as skipped, naming {flag}"
        );
    }
}
