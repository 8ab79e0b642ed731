//! `api.status-matches-code` (API-ERR-004): the HTTP status agrees with the Spine error code
//! (catalogue table).

use super::error_outcome;
use crate::checks::rules::prelude::*;
use crate::fhir::outcome;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.status-matches-code",
    requirement: RequirementCode::new("API-ERR-004"),
    summary: "the HTTP status agrees with the Spine error code (catalogue table)",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let outcome = error_outcome(exchange)?;
    let status = exchange.status()?;
    let codes = outcome::spine_codes(outcome);
    let tabled: Vec<(String, Vec<u16>)> = codes
        .iter()
        .map(|c| (c.clone(), outcome::statuses_for(c)))
        .filter(|(_, statuses)| !statuses.is_empty())
        .collect();
    if tabled.is_empty() {
        return None;
    }
    let mismatched: Vec<String> = tabled
        .iter()
        .filter(|(_, statuses)| !statuses.contains(&status))
        .map(|(code, statuses)| {
            let expected: Vec<String> = statuses.iter().map(u16::to_string).collect();
            format!(
                "{code} belongs with HTTP {}, not {status}",
                expected.join(" or ")
            )
        })
        .collect();
    Some(Judged::from_problems(
        exchange,
        "returned a Spine code that contradicts its HTTP status",
        "the HTTP status the Spine code is documented for",
        mismatched,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spine_codes_must_agree_with_status() {
        let outcome = |code: &str| {
            format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"not-found","details":{{"coding":[{{"system":"{}","code":"{code}","display":"x"}}]}}}}]}}"#,
                outcome::APIM_SPINE_SYSTEM
            )
        };
        assert!(
            verdict(
                &CHECK,
                &exchange(404, &[FHIR_JSON], &outcome("RESOURCE_NOT_FOUND"))
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(404, &[FHIR_JSON], &outcome("BAD_REQUEST"))
            )
            .unwrap()
            .is_err()
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(405, &[FHIR_JSON], &outcome("METHOD_NOT_ALLOWED"))
            )
            .is_none(),
            "codes outside the table are not judged"
        );
    }
}
