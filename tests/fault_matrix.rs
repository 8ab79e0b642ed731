//! The fault matrix: the clean sandbox passes every automated requirement under every profile,
//! and each fault makes exactly the requirements it declares fail — so no check can silently
//! stop being able to fail, and no check fails where it should not.

mod common;

use std::collections::BTreeSet;

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

#[test]
fn every_fault_fails_exactly_the_requirements_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = catalogue::load_embedded().unwrap();
    let mut problems = Vec::new();
    for fault in Fault::ALL {
        let profile = fault.profile();
        // As the embedded run does: GP Connect providers sit behind mutual TLS, and their
        // consumers send a provenance JWT rather than an OAuth2 token.
        let gpc = profile == Profile::Gpc;
        let sandbox = if gpc {
            Sandbox::start(&["--tls", "--mtls", "--fault", fault.name()])
        } else {
            Sandbox::start(&["--tls", "--fault", fault.name()])
        };
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
        if matches!(
            fault,
            Fault::ExpiredCertificate | Fault::WrongHostnameCertificate
        ) {
            // Keep testing the rest; the certificate itself is SEC-TLS-005's business.
            args.push("--insecure".to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_with_env(dir.path(), &args, &env);
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
