//! Secrets never reach anything a run writes: a canary token, the signing key, every client
//! assertion and every issued token are planted, the suite runs (including a server that echoes
//! the Authorization header back), and every file of the run and its console output is searched.

mod common;

use std::path::Path;

use common::{Sandbox, run_with_env};

fn all_output(out: &Path, run: &common::Run) -> String {
    let mut text = format!("{}\n{}", run.stdout(), run.stderr());
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    text
}

fn assert_clean(text: &str, secret: &str, what: &str) {
    assert!(!secret.is_empty());
    assert!(
        !text.contains(secret),
        "{what} leaked into the run's output"
    );
}

#[test]
fn a_canary_bearer_token_never_leaks_even_when_the_server_echoes_it() {
    let canary = "mts-canary-token-7f3a9c2e5b1d";
    // trace-enabled echoes the request, Authorization header included, in the response body.
    let sandbox = Sandbox::start_with_env(
        &["--tls", "--fault", "trace-enabled"],
        &[("MTS_SANDBOX_TOKEN", canary)],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--allow-writes".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_env(
        dir.path(),
        &args,
        &[("MTS_TOKEN".to_owned(), canary.to_owned())],
    );
    assert!(run.report.is_some(), "{}", run.stderr());
    let written = all_output(&run.out, &run);
    assert_clean(&written, canary, "the canary token");
    assert!(
        written.contains("Bearer [REDACTED]"),
        "the Authorization header is recorded, redacted"
    );
    // The cleanup's DELETEs carry the token too, and were searched with the rest.
    assert!(
        written.contains("\"cleanup#1\""),
        "the run cleaned up what it wrote"
    );
}

#[test]
fn client_credentials_secrets_never_leak() {
    let sandbox = Sandbox::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--allow-writes".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_env(dir.path(), &args, &sandbox.client_env());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let written = all_output(&run.out, &run);
    let key = std::fs::read_to_string(sandbox.value("MTS_CLIENT_KEY").unwrap()).unwrap();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert_clean(&written, line, "the private key");
    }
    assert_clean(
        &written,
        sandbox.value("MTS_LOW_PRIVILEGE_TOKEN").unwrap(),
        "the low-privilege token",
    );
    // Client assertions are JWTs (eyJ…) and issued tokens start mts-issued-: neither may appear.
    assert!(!written.contains("eyJhbGci"), "a client assertion leaked");
    assert!(
        !written.contains("mts-issued-"),
        "an issued access token leaked"
    );
    assert!(written.contains("client_assertion=[REDACTED]"));
    // Inside report.json the token response is a JSON string, so its quotes are escaped.
    assert!(
        written.contains(r#"access_token\":\"[REDACTED]"#),
        "the token response is recorded, redacted"
    );
}
