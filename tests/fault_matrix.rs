//! The fault matrix: the clean sandbox passes every automated requirement, and each fault makes
//! exactly the requirements it declares fail — so no check can silently stop being able to fail,
//! and no check fails where it should not.

mod common;

use std::collections::BTreeSet;

use common::{Sandbox, run};
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
fn the_clean_sandbox_passes_every_automated_requirement() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &[], None);
    assert_eq!(
        run.code(),
        0,
        "stdout: {}\nstderr: {}",
        run.stdout(),
        run.stderr()
    );
    assert_eq!(run.report()["verdict"], "conformant");
    let passed: BTreeSet<String> = run.with_verdict("pass").into_iter().collect();
    assert_eq!(
        passed,
        automated_for(Profile::Apim),
        "every automated apim requirement passes"
    );
    assert!(run.with_verdict("fail").is_empty());
    assert!(run.with_verdict("error").is_empty());
}

#[test]
fn every_fault_fails_exactly_the_requirements_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = catalogue::load_embedded().unwrap();
    let mut problems = Vec::new();
    for fault in Fault::ALL {
        let sandbox = Sandbox::start(&["--fault", fault.name()]);
        let run = run(
            dir.path(),
            &["--target", &sandbox.url],
            Some(&sandbox.token),
        );
        let failed: BTreeSet<String> = run.with_verdict("fail").into_iter().collect();
        let expected: BTreeSet<String> = fault.breaks().iter().map(|s| (*s).to_owned()).collect();
        if failed != expected {
            problems.push(format!(
                "{}: failed {failed:?}, expected {expected:?}",
                fault.name()
            ));
        }
        let errors = run.with_verdict("error");
        if !errors.is_empty() {
            problems.push(format!("{}: errors {errors:?}", fault.name()));
        }
        let must_broken = expected.iter().any(|id| {
            catalogue
                .get(id)
                .is_some_and(|r| r.level_for(Profile::Apim).strength() == Strength::Must)
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
        // Every failure names the exchange that shows it.
        for requirement in run.report()["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["verdict"] == "fail")
        {
            for failure in requirement["failures"].as_array().unwrap() {
                if failure.get("exchange").is_none()
                    && !failure["message"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("…and")
                {
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
    for profile in Profile::ALL {
        for id in automated_for(profile) {
            assert!(
                broken.contains(id.as_str()),
                "{id} has no sandbox fault proving it can fail"
            );
        }
    }
    for id in &broken {
        let catalogue = catalogue::load_embedded().unwrap();
        let requirement = catalogue
            .get(id)
            .unwrap_or_else(|| panic!("fault names unknown requirement {id}"));
        assert_eq!(
            requirement.status,
            Status::Automated,
            "{id} is broken by a fault but not automated"
        );
    }
}
