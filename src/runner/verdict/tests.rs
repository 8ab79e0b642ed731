use super::*;
use crate::catalogue::{Level, RequirementId, Status};

fn result(id: &str, level: Level, verdict: Verdict) -> RequirementResult {
    RequirementResult {
        id: id.parse::<RequirementId>().unwrap(),
        level,
        title: String::new(),
        area: String::new(),
        statement: String::new(),
        sources: vec![],
        status: Status::Automated,
        verdict,
        blocking: crate::verdict::blocking(verdict, level.strength(), false),
        reason: None,
        reason_kind: None,
        evidence: None,
        profile_rule: None,
        scenarios: vec![],
        checks: vec![],
        failures: vec![],
        notes: vec![],
        exchanges: vec![],
    }
}

#[test]
fn errors_outrank_failures_and_should_failures_are_warnings() {
    let pass = result("API-HDR-001", Level::Must, Verdict::Pass);
    let must_fail = result("API-HDR-002", Level::MustNot, Verdict::Fail);
    let should_fail = result("API-HDR-007", Level::Should, Verdict::Fail);
    let error = result("API-HDR-003", Level::Must, Verdict::Error);
    assert_eq!(
        run_verdict(
            &[pass.clone(), should_fail.clone()],
            &[],
            &crate::runner::Gate::default(),
            Coverage::default()
        )
        .0,
        RunVerdict::Conformant
    );
    assert!(
        run_verdict(
            &[pass.clone(), should_fail.clone()],
            &[],
            &crate::runner::Gate::default(),
            Coverage::default()
        )
        .1
        .contains("warnings")
    );
    assert_eq!(
        run_verdict(
            &[pass.clone(), must_fail.clone()],
            &[],
            &crate::runner::Gate::default(),
            Coverage::default()
        )
        .0,
        RunVerdict::NonConformant
    );
    assert_eq!(
        run_verdict(
            &[must_fail.clone(), error],
            &[],
            &crate::runner::Gate::default(),
            Coverage::default()
        )
        .0,
        RunVerdict::Incomplete
    );
    assert_eq!(
        run_verdict(
            &[pass],
            &["boom".into()],
            &crate::runner::Gate::default(),
            Coverage::default()
        )
        .0,
        RunVerdict::Incomplete
    );
}
