//! `api.error-issues` (API-ERR-002): every error OperationOutcome has issues with valid severities
//! and IssueType codes, one of them error or fatal.

use super::error_outcome;
use crate::checks::content;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.error-issues",
    requirement: RequirementCode::new("API-ERR-002"),
    summary: "every error OperationOutcome has issues with valid severities and IssueType codes, one of them error or fatal",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    Some(Judged::from_problems(
        exchange,
        "returned an OperationOutcome with invalid issues",
        "issues with a severity, an IssueType code, and at least one error or fatal",
        content::outcome_issues(outcome),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_outcomes_need_valid_issues_one_an_error() {
        let outcome = |severity: &str| {
            format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"{severity}","code":"not-found"}}]}}"#
            )
        };
        let judged = |status, body: &str| verdict(&CHECK, &exchange(status, &[FHIR_JSON], body));
        assert_eq!(judged(404, &outcome("error")), Some(Ok(())));
        assert!(
            judged(404, &outcome("warning")).unwrap().is_err(),
            "no error or fatal"
        );
        assert!(
            judged(404, &outcome("severe")).unwrap().is_err(),
            "not a severity"
        );
        assert!(
            judged(404, r#"{"resourceType":"OperationOutcome"}"#)
                .unwrap()
                .is_err()
        );
        assert_eq!(
            judged(200, &outcome("error")),
            None,
            "only errors are judged"
        );
    }
}
