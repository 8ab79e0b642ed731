//! `mts lint`: the suite is honest before it judges anyone. Every step defined, every `@REQ` tag
//! known, every automated requirement verified by a scenario or a passive check and proven able
//! to fail by a sandbox fault, every requirement that is not automated explaining why, and no
//! fault pointing at a requirement that is not automated.

use std::collections::BTreeSet;

use crate::catalogue::{Catalogue, Status, Strength};
use crate::checks::PASSIVE_CHECKS;
use crate::features::Suite;
use crate::sandbox::Fault;
use crate::steps::StepLibrary;

/// Every problem found, sorted; empty when the suite is sound.
pub fn lint(catalogue: &Catalogue, suite: &Suite, steps: &StepLibrary) -> Vec<String> {
    let mut problems = suite.lint(catalogue, steps);
    let verified: BTreeSet<String> = suite
        .scenarios()
        .iter()
        .filter(|s| !s.has_tag("wip"))
        .flat_map(|s| s.requirements.iter().map(|r| r.as_str().to_owned()))
        .chain(
            PASSIVE_CHECKS
                .iter()
                .map(|c| c.requirement.as_str().to_owned()),
        )
        .collect();
    let proven: BTreeSet<&str> = Fault::ALL
        .iter()
        .flat_map(|fault| fault.breaks().iter().copied())
        .collect();
    for requirement in &catalogue.requirements {
        let id = requirement.id.as_str();
        match requirement.status {
            Status::Automated => {
                if !verified.contains(id) {
                    problems.push(format!(
                        "{id}: automated, but no scenario or passive check verifies it"
                    ));
                }
                if !proven.contains(id) {
                    problems.push(format!(
                        "{id}: automated, but no sandbox fault shows that its checks can fail"
                    ));
                }
            }
            Status::Planned | Status::Attestation => {
                let explained = requirement
                    .reason
                    .as_deref()
                    .is_some_and(|r| !r.trim().is_empty());
                if requirement.level.strength() == Strength::Must && !explained {
                    problems.push(format!(
                        "{id}: a MUST that is {} without a reason saying why",
                        requirement.status.as_str()
                    ));
                }
            }
        }
    }
    for fault in Fault::ALL {
        for id in fault.breaks() {
            match catalogue.get(id) {
                None => problems.push(format!(
                    "fault {}: breaks {id}, which is not in the catalogue",
                    fault.name()
                )),
                Some(requirement) if requirement.status != Status::Automated => {
                    problems.push(format!(
                        "fault {}: breaks {id}, which is {} rather than automated",
                        fault.name(),
                        requirement.status.as_str()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    problems.extend(registry_problems(catalogue, PASSIVE_CHECKS));
    problems.sort();
    problems.dedup();
    problems
}

/// The passive-check registry: each check's id once, and its requirement an automated catalogue
/// requirement (that the id is well formed, the compiler holds: `RequirementCode`).
fn registry_problems(catalogue: &Catalogue, checks: &[crate::checks::PassiveCheck]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for check in checks {
        if !seen.insert(check.id) {
            problems.push(format!("passive check {}: listed twice", check.id));
        }
        let id = check.requirement.as_str();
        match catalogue.get(id) {
            None => problems.push(format!(
                "passive check {}: judges {id}, which is not in the catalogue",
                check.id
            )),
            Some(requirement) if requirement.status != Status::Automated => problems.push(format!(
                "passive check {}: judges {id}, which is {} rather than automated",
                check.id,
                requirement.status.as_str()
            )),
            Some(_) => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_suite_is_sound() {
        let catalogue = crate::catalogue::load_embedded().unwrap();
        let suite = Suite::load_embedded().unwrap();
        let problems = lint(&catalogue, &suite, &StepLibrary::new());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn an_unverified_requirement_and_an_unexplained_plan_are_reported() {
        let mut catalogue = crate::catalogue::load_embedded().unwrap();
        let suite = Suite::load_embedded().unwrap();
        let mut orphan = catalogue.requirements[0].clone();
        orphan.id = "IOP-FHIR-999".parse().unwrap();
        orphan.status = Status::Automated;
        let mut unexplained = orphan.clone();
        unexplained.id = "IOP-FHIR-998".parse().unwrap();
        unexplained.status = Status::Planned;
        unexplained.level = crate::catalogue::Level::Must;
        unexplained.reason = None;
        catalogue.requirements.extend([orphan, unexplained]);
        let problems = lint(&catalogue, &suite, &StepLibrary::new());
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("IOP-FHIR-999: automated, but no scenario"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("IOP-FHIR-999: automated, but no sandbox fault"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("IOP-FHIR-998: a MUST that is planned"))
        );
    }

    #[test]
    fn an_unknown_or_repeated_check_entry_is_reported() {
        let catalogue = crate::catalogue::load_embedded().unwrap();
        let judge = PASSIVE_CHECKS[0].judge;
        let entry = |id: &'static str, requirement: &'static str| crate::checks::PassiveCheck {
            id,
            requirement: crate::catalogue::RequirementCode::new(requirement),
            summary: "",
            judge,
            unjudged: None,
        };
        let checks = [
            entry("a", "IOP-FHIR-006"),
            entry("a", "IOP-FHIR-006"),
            entry("c", "IOP-FHIR-999"),
        ];
        let problems = registry_problems(&catalogue, &checks);
        assert_eq!(
            problems,
            [
                "passive check a: listed twice",
                "passive check c: judges IOP-FHIR-999, which is not in the catalogue",
            ]
        );
        assert!(registry_problems(&catalogue, PASSIVE_CHECKS).is_empty());
    }
}
