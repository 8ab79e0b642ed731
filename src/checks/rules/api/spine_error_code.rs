//! `api.spine-error-code` (API-ERR-003): every error OperationOutcome carries one Spine error code
//! with a display, from a Spine code system.

use super::error_outcome;
use crate::checks::content;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.spine-error-code",
    requirement: RequirementCode::new("API-ERR-003"),
    summary: "every error OperationOutcome carries one Spine error code with a display, from a Spine code system",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    let (problems, notes) = content::spine_coding(outcome);
    let mut judged = Judged::from_problems(
        exchange,
        "returned an OperationOutcome without a proper Spine error code",
        "one details.coding per error issue, from a Spine error code system, with code and display",
        problems,
    );
    judged.note = notes.into_iter().next();
    Some(judged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_outcomes_carry_one_spine_code_with_a_display() {
        let outcome = |coding: &str| {
            format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"not-found","details":{{"coding":[{coding}]}}}}]}}"#
            )
        };
        let judged = |body: &str| verdict(&CHECK, &exchange(404, &[FHIR_JSON], body));
        let spine = format!(
            r#"{{"system":"{}","code":"RESOURCE_NOT_FOUND","display":"Resource not found"}}"#,
            crate::fhir::outcome::APIM_SPINE_SYSTEM
        );
        assert_eq!(judged(&outcome(&spine)), Some(Ok(())));
        assert!(judged(&outcome("")).unwrap().is_err(), "no coding");
        assert!(
            judged(&outcome(
                r#"{"system":"https://example.org","code":"X","display":"x"}"#
            ))
            .unwrap()
            .is_err(),
            "not a Spine system"
        );
    }
}
