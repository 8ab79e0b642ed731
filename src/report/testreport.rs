//! `testreport.json`: the run as a FHIR R4 `TestReport`, the standard FHIR way to publish test
//! results (as Touchstone and Inferno do): one `test` per requirement, one `assert` action per
//! scenario or check behind it.

use serde_json::{Value, json};

use super::model::{Report, RequirementResult, RunVerdict, Verdict};

/// TestReport.test.action.assert.result for a verdict (pass | skip | fail | warning | error).
/// `blocking` is the requirement's own flag (its level under the run's gate, `--strict`
/// included), so a failure is `fail` here exactly when it fails the run.
fn assert_result(verdict: Verdict, blocking: bool) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail if blocking => "fail",
        // A failure the gate does not block on (a SHOULD, or a MAY): a warning.
        Verdict::Fail => "warning",
        Verdict::Error => "error",
        // An accepted failure: still not a pass.
        Verdict::Waived => "warning",
        Verdict::Skipped | Verdict::NotApplicable | Verdict::Attestation | Verdict::Attested => {
            "skip"
        }
    }
}

fn actions(requirement: &RequirementResult) -> Vec<Value> {
    // A failing scenario is as blocking as its requirement: a waived or SHOULD requirement's
    // failures are warnings.
    let blocking = requirement.blocking;
    let mut actions: Vec<Value> = requirement
        .scenarios
        .iter()
        .map(|scenario| {
            let mut assert = json!({
                "id": scenario.location,
                "result": assert_result(scenario.verdict, blocking),
                "detail": scenario.name,
            });
            if let Some(reason) = &scenario.reason {
                assert["message"] = json!(reason);
            }
            json!({ "assert": assert })
        })
        .chain(requirement.checks.iter().map(|check| {
            json!({ "assert": {
                "id": check.check,
                "result": assert_result(check.verdict, blocking),
                "detail": format!("passive check over {} exchange(s)", check.examined),
            }})
        }))
        .collect();
    for (action, failure) in actions
        .iter_mut()
        .filter(|a| a["assert"]["result"] == "fail" || a["assert"]["result"] == "warning")
        .zip(&requirement.failures)
    {
        let mut message = failure.failure.message.clone();
        if let (Some(expected), Some(actual)) = (&failure.failure.expected, &failure.failure.actual)
        {
            message.push_str(&format!(" (expected {expected}; actual {actual})"));
        }
        if let Some(exchange) = &failure.failure.exchange {
            message.push_str(&format!(" [evidence: exchange {exchange}]"));
        }
        action["assert"]["message"] = json!(message);
    }
    // The requirement's verdict and the request that decided it, for a reader of this file
    // alone.
    if let (Some(evidence), Some(first)) = (&requirement.evidence, actions.first_mut())
        && first["assert"].get("message").is_none()
    {
        first["assert"]["message"] = json!(format!("decided by {evidence}"));
    }
    if actions.is_empty() {
        let mut assert = json!({
            "id": requirement.id.as_str(),
            "result": assert_result(requirement.verdict, requirement.blocking),
        });
        if let Some(reason) = &requirement.reason {
            assert["message"] = json!(reason);
        }
        actions.push(json!({ "assert": assert }));
    }
    actions
}

pub fn render(report: &Report, run_id: &str) -> Value {
    let judged: Vec<&RequirementResult> = report
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Pass | Verdict::Fail))
        .collect();
    let passed = judged.iter().filter(|r| r.verdict == Verdict::Pass).count();
    let mut resource = json!({
        "resourceType": "TestReport",
        "id": run_id,
        "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{run_id}") },
        "name": format!("mts conformance run against {} ({} profile)", report.target, report.profile),
        "status": if report.harness_errors.iter().any(|e| e.contains("interrupted")) { "stopped" } else { "completed" },
        "testScript": {
            "identifier": { "system": "urn:mts:catalogue", "value": report.catalogue.digest },
            "display": format!("mts requirement catalogue {} ({})", report.catalogue.version, report.catalogue.digest),
        },
        "result": match report.verdict {
            RunVerdict::Conformant => "pass",
            RunVerdict::NonConformant => "fail",
            RunVerdict::Incomplete => "pending",
        },
        "tester": format!("{} {}", report.harness.name, report.harness.version),
        "issued": report.started,
        "participant": [
            // The URL alone (`target` may add " (embedded sandbox)").
            { "type": "server", "uri": report.target.split_whitespace().next().unwrap_or_default(), "display": report.target },
            { "type": "client", "uri": format!("urn:mts:{}", report.harness.version), "display": "mts conformance harness" },
        ],
        "test": report.requirements.iter().map(|r| json!({
            "id": r.id.as_str(),
            "name": format!("{} {}", r.id, r.title),
            "description": format!("{} ({})", r.statement, r.level),
            "action": actions(r),
        })).collect::<Vec<_>>(),
    });
    if !judged.is_empty() {
        resource["score"] =
            json!(((passed as f64 / judged.len() as f64) * 1000.0).round() / 1000.0);
    }
    resource
}
