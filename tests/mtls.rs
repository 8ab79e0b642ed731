//! Mutual TLS against `mts sandbox --tls --mtls` as an external target: the client certificate
//! comes from flags or MTS_TLS_* variables, and what the run lacks is said, not guessed.

mod common;

use common::{Sandbox, run_with_env};

fn run_against(sandbox: &Sandbox, env: &[(String, String)], requirements: &str) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    let mut args = sandbox.target_args();
    args.extend(["--profile", "gpc", "--requirements", requirements].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The report is parsed before the folder goes.
    run_with_env(dir.path(), &args, env)
}

/// The sandbox's client environment without `dropped` variables.
fn env_without(sandbox: &Sandbox, dropped: &[&str]) -> Vec<(String, String)> {
    sandbox
        .client_env()
        .into_iter()
        .filter(|(k, _)| !dropped.contains(&k.as_str()))
        .collect()
}

#[test]
fn the_whole_client_certificate_matrix_runs_against_an_external_target() {
    let sandbox = Sandbox::start(&["--tls", "--mtls"]);
    let run = run_against(
        &sandbox,
        &sandbox.client_env(),
        "SEC-TLS-006,IOP-FHIR-001,SEC-TLS-002",
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let requirement = run.requirement("SEC-TLS-006");
    let scenarios = requirement["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 6);
    assert!(
        scenarios.iter().all(|s| s["verdict"] == "pass"),
        "{scenarios:?}"
    );
}

#[test]
fn without_the_ca_or_revoked_certificate_those_probes_are_skipped_with_the_reason() {
    let sandbox = Sandbox::start(&["--tls", "--mtls"]);
    let env = env_without(
        &sandbox,
        &[
            "MTS_TLS_CLIENT_CA_CERT",
            "MTS_TLS_CLIENT_CA_KEY",
            "MTS_TLS_REVOKED_CERT",
            "MTS_TLS_REVOKED_KEY",
        ],
    );
    let run = run_against(&sandbox, &env, "SEC-TLS-006");
    let requirement = run.requirement("SEC-TLS-006");
    let text = requirement.to_string();
    assert!(text.contains("--client-ca-cert"), "{text}");
    assert!(text.contains("--revoked-client-cert"), "{text}");
}

#[test]
fn a_target_that_demands_a_client_certificate_gets_a_clear_error_without_one() {
    let sandbox = Sandbox::start(&["--tls", "--mtls"]);
    let env = env_without(&sandbox, &["MTS_TLS_CLIENT_CERT", "MTS_TLS_CLIENT_KEY"]);
    let run = run_against(&sandbox, &env, "SEC-TLS-006,IOP-FHIR-001");
    assert_eq!(run.code(), 4, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(run.requirement("SEC-TLS-006")["verdict"], "skipped");
    let reason = run.requirement("IOP-FHIR-001").to_string();
    assert!(reason.contains("CertificateRequired"), "{reason}");
}
