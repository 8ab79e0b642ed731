//! Tokens are refreshed when they near expiry mid-run, through the whole OAuth2 flow.

mod common;

use common::{Sandbox, run_with_env};

#[test]
fn short_lived_tokens_are_refreshed_during_a_run() {
    // 30 s tokens are due for refresh as soon as they are issued (mts refreshes 30 s early), so
    // every later request needs a fresh one. Only the run's own fetches are named auth#n; the
    // token endpoint probes carry their scenario's ids.
    let sandbox = Sandbox::start(&["--tls", "--token-lifetime", "30"]);
    let dir = tempfile::tempdir().unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--concurrency", "1"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_env(dir.path(), &args, &sandbox.client_env());
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let exchanges = run.report()["exchanges"].as_array().unwrap();
    let issued = exchanges
        .iter()
        .filter(|e| {
            e["id"].as_str().unwrap_or("").starts_with("auth#") && e["response"]["status"] == 200
        })
        .count();
    assert!(
        issued >= 2,
        "only {issued} token(s) were fetched for a run longer than a token's useful life"
    );
}
