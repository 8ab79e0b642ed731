//! `ukcore.nhs-number-checksum` (IOP-UKC-002): every NHS number identifier in every response passes
//! the modulus 11 check.

use crate::checks::rules::prelude::*;
use crate::fhir::nhs_number;
use crate::fhir::path::JsonPath;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.nhs-number-checksum",
    requirement: RequirementCode::new("IOP-UKC-002"),
    summary: "every NHS number identifier in every response passes the modulus 11 check",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let body = exchange.response.as_ref()?.body.json()?;
    let found = nhs_number::find_identifiers(body, &JsonPath::resource_root(body));
    if found.is_empty() {
        return None;
    }
    let bad: Vec<String> = found
        .iter()
        .filter_map(|(path, value)| match value.as_str() {
            Some(text) => nhs_number::check(text)
                .err()
                .map(|p| format!("{} = {text} {p}", path.fhirpath())),
            None => Some(format!("{} has no string value", path.fhirpath())),
        })
        .collect();
    Some(Judged::from_problems(
        exchange,
        "returned an invalid NHS number",
        "every NHS number passes modulus 11",
        bad,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_checked_wherever_they_are() {
        let good = r#"{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}"#;
        assert!(
            verdict(&CHECK, &exchange(200, &[FHIR_JSON], good))
                .unwrap()
                .is_ok()
        );
        let bad = good.replace("9000000009", "9000000001");
        let failure = verdict(&CHECK, &exchange(200, &[FHIR_JSON], &bad))
            .unwrap()
            .unwrap_err();
        assert!(
            failure
                .actual
                .unwrap()
                .contains("Patient.identifier[0] = 9000000001")
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient"}"#)
            )
            .is_none()
        );
    }
}
