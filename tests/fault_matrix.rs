//! The fault matrix: the clean sandbox passes every automated requirement under every profile,
//! and each fault makes exactly the requirements it declares fail — so no check can silently
//! stop being able to fail, and no check fails where it should not.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Sandbox, run, run_with_env};
use mts::catalogue::{self, Profile, Status, Strength};
use mts::sandbox::Fault;

fn automated_for(profile: Profile) -> BTreeSet<String> {
    let catalogue = catalogue::load_embedded().expect("catalogue");
    catalogue
        .requirements
        .iter()
        .filter(|r| r.status == Status::Automated && r.applies_to(profile))
        .map(|r| r.id.to_string())
        .collect()
}

#[test]
fn the_clean_sandbox_passes_every_automated_requirement_under_every_profile() {
    let dir = tempfile::tempdir().unwrap();
    for profile in Profile::ALL {
        let run = run(
            dir.path(),
            &[
                "--allow-writes",
                "--allow-load",
                "--profile",
                profile.as_str(),
            ],
            None,
        );
        assert_eq!(
            run.code(),
            0,
            "{profile}: stdout: {}\nstderr: {}",
            run.stdout(),
            run.stderr()
        );
        assert_eq!(run.report()["verdict"], "conformant", "{profile}");
        let judged: BTreeSet<String> = run.report()["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "automated" && r["verdict"] != "not-applicable")
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        let passed: BTreeSet<String> = run.with_verdict("pass").into_iter().collect();
        assert_eq!(
            passed, judged,
            "{profile}: every automated requirement that applies passes"
        );
        assert_eq!(
            judged,
            automated_for(profile),
            "{profile}: nothing automated is left unjudged"
        );
    }
}

/// Every requirement's verdict in a run.
fn verdicts(run: &common::Run) -> BTreeMap<String, String> {
    run.report()["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Verdicts a fault may change besides failing what it breaks, and why: a fault that takes a
/// declaration away makes what depended on it not applicable, as it would on a real server.
const ALSO_CHANGES: &[(&str, &[(&str, &str)])] = &[
    // No CapabilityStatement: nothing to judge it by, and no conditional create can be declared
    // (an OpenAPI document cannot say it; its `_include` parameter declares includes, and its
    // POST to the base leaves transactions and batches open, so those are still judged).
    // Medicines still reach the run through the searches by patient of the types the OpenAPI
    // document declares (IOP-SRCH-011), so IOP-TERM-002 is still judged.
    (
        "no-metadata",
        &[
            ("IOP-FHIR-002", "not-applicable"),
            ("IOP-FHIR-003", "not-applicable"),
            ("IOP-FHIR-009", "not-applicable"),
        ],
    ),
    // Nothing declared at all: mts cannot know DELETE is not offered, so it does not risk the
    // probe, and SEC-HTTP-001 is skipped (not judged), never passed without it. Conditional
    // create is sent anyway, and the sandbox honours it. Every clinical type is searched by
    // patient; those the sandbox does not serve (404) are not applicable.
    (
        "undocumented",
        &[
            ("SEC-HTTP-001", "skipped"),
            ("API-DOC-002", "not-applicable"),
            ("IOP-FHIR-002", "not-applicable"),
            ("IOP-FHIR-003", "not-applicable"),
        ],
    ),
    // Errors that are not OperationOutcomes (API-ERR-001 fails) leave no issue or Spine code to
    // judge.
    (
        "text-errors",
        &[
            ("API-ERR-002", "not-applicable"),
            ("API-ERR-003", "not-applicable"),
            ("API-ERR-004", "not-applicable"),
        ],
    ),
    // No Spine code (API-ERR-003 fails): nothing to hold the status to.
    ("no-spine-code", &[("API-ERR-004", "not-applicable")]),
    // No 401 at all (SEC-AUTH-001 fails): no challenge to inspect.
    ("auth-bypass", &[("SEC-AUTH-003", "not-applicable")]),
    // The test patient's allergies refer to a patient that does not exist, so it has none for
    // a _revinclude to bring (test data owed).
    ("dangling-reference", &[("IOP-SRCH-015", "skipped")]),
    // No 429 at all (SEC-RATE-001 fails): no Retry-After to inspect.
    ("no-rate-limit", &[("SEC-RATE-002", "not-applicable")]),
];

/// Runs the sandbox with `faults` as the fault matrix does (TLS; mutual TLS under gpc; the
/// OAuth2 client it prints; its own OpenAPI document) under the fault's profile.
fn run_sandbox(dir: &std::path::Path, profile: Profile, faults: &[&str]) -> common::Run {
    // As the embedded run does: GP Connect providers sit behind mutual TLS, and their
    // consumers send a provenance JWT rather than an OAuth2 token.
    let gpc = profile == Profile::Gpc;
    let mut sandbox_args = vec!["--tls"];
    if gpc {
        sandbox_args.push("--mtls");
    }
    for fault in faults {
        sandbox_args.extend(["--fault", fault]);
    }
    let sandbox = Sandbox::start(&sandbox_args);
    let oauth_client = [
        "MTS_TOKEN_URL",
        "MTS_CLIENT_ID",
        "MTS_KID",
        "MTS_CLIENT_KEY",
    ];
    let env: Vec<(String, String)> = sandbox
        .client_env()
        .into_iter()
        .filter(|(k, _)| !(gpc && oauth_client.contains(&k.as_str())))
        .collect();
    // As the embedded run does, hold the sandbox to its own OpenAPI document.
    let openapi = format!("{}/openapi.json", sandbox.url);
    let mut args = sandbox.target_args();
    args.extend(
        [
            "--allow-writes",
            "--allow-load",
            "--profile",
            profile.as_str(),
            "--openapi",
            &openapi,
        ]
        .map(str::to_owned),
    );
    if faults.iter().any(|f| {
        *f == Fault::ExpiredCertificate.name() || *f == Fault::WrongHostnameCertificate.name()
    }) {
        // Keep testing the rest; the certificate itself is SEC-TLS-005's business.
        args.push("--insecure".to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_with_env(dir, &args, &env)
}

#[test]
fn every_fault_fails_exactly_the_requirements_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = catalogue::load_embedded().unwrap();
    let mut problems = Vec::new();
    let clean: BTreeMap<Profile, BTreeMap<String, String>> = Profile::ALL
        .iter()
        .map(|profile| (*profile, verdicts(&run_sandbox(dir.path(), *profile, &[]))))
        .collect();
    for fault in Fault::ALL {
        let profile = fault.profile();
        let run = run_sandbox(dir.path(), profile, &[fault.name()]);
        let failed: BTreeSet<String> = run.with_verdict("fail").into_iter().collect();
        let expected: BTreeSet<String> = fault.breaks().iter().map(|s| (*s).to_owned()).collect();
        if failed != expected {
            let surprises: Vec<String> = run.report()["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    r["verdict"] != "pass"
                        && r["verdict"] != "not-applicable"
                        && !expected.contains(r["id"].as_str().unwrap_or(""))
                })
                .filter(|r| r["status"] == "automated")
                .map(|r| format!("{} {}: {}", r["id"], r["verdict"], r["reason"]))
                .collect();
            problems.push(format!("{} ({profile}): failed {failed:?}, expected {expected:?}; unexpected: {surprises:?}", fault.name()));
        }
        // Nothing else moves: a fault that turned a pass into skipped or not applicable (an
        // evidence-owed rule gone soft) is caught here, not only new failures.
        let allowed: &[(&str, &str)] = ALSO_CHANGES
            .iter()
            .find(|(name, _)| *name == fault.name())
            .map_or(&[], |(_, changes)| changes);
        for (id, verdict) in verdicts(&run) {
            let before = clean[&profile].get(&id).cloned().unwrap_or_default();
            let expected_now = if expected.contains(&id) {
                "fail".to_owned()
            } else if let Some((_, to)) = allowed.iter().find(|(r, _)| *r == id) {
                (*to).to_owned()
            } else {
                before.clone()
            };
            if verdict != expected_now && !expected.contains(&id) {
                problems.push(format!(
                    "{} ({profile}): {id} went from {before} to {verdict}: {}",
                    fault.name(),
                    run.requirement(&id)["reason"]
                ));
            }
        }
        let errors: Vec<String> = run
            .with_verdict("error")
            .iter()
            .map(|id| format!("{id}: {}", run.requirement(id)["reason"]))
            .collect();
        if !errors.is_empty() {
            problems.push(format!("{}: errors {errors:?}", fault.name()));
        }
        let must_broken = expected.iter().any(|id| {
            catalogue
                .get(id)
                .is_some_and(|r| r.level_for(profile).strength() == Strength::Must)
        });
        let expected_code = if must_broken { 1 } else { 0 };
        if run.code() != expected_code {
            problems.push(format!(
                "{}: exit {} (expected {expected_code})\n{}",
                fault.name(),
                run.code(),
                run.stderr()
            ));
        }
        // Every failure names the exchange that shows it (API-VER-001 judges the URL itself).
        for requirement in run.report()["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["verdict"] == "fail")
        {
            for failure in requirement["failures"].as_array().unwrap() {
                let counted = failure["message"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("…and");
                let id = requirement["id"].as_str().unwrap_or("");
                // The URL itself, or a TLS handshake (recorded in report.tls), is the evidence.
                let about_the_url = id == "API-VER-001" || id.starts_with("SEC-TLS-");
                if failure.get("exchange").is_none() && !counted && !about_the_url {
                    problems.push(format!(
                        "{}: {} failure without an exchange: {failure}",
                        fault.name(),
                        requirement["id"]
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_automated_requirement_is_broken_by_some_fault() {
    let broken: BTreeSet<&str> = Fault::ALL
        .iter()
        .flat_map(|f| f.breaks().iter().copied())
        .collect();
    let catalogue = catalogue::load_embedded().unwrap();
    for profile in Profile::ALL {
        for id in automated_for(profile) {
            assert!(
                broken.contains(id.as_str()),
                "{id} has no sandbox fault proving it can fail"
            );
        }
    }
    for fault in Fault::ALL {
        for id in fault.breaks() {
            let requirement = catalogue
                .get(id)
                .unwrap_or_else(|| panic!("{} names unknown requirement {id}", fault.name()));
            assert_eq!(
                requirement.status,
                Status::Automated,
                "{id} is broken by a fault but not automated"
            );
            assert!(
                requirement.applies_to(fault.profile()),
                "{id} does not apply under {}, the profile {} runs with",
                fault.profile(),
                fault.name()
            );
        }
    }
}
