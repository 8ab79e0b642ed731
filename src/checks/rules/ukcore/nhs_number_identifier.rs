//! `ukcore.nhs-number-identifier` (IOP-UKC-001): every Patient carries at most one NHS number
//! identifier, 10 digits with no spaces.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.nhs-number-identifier",
    requirement: RequirementCode::new("IOP-UKC-001"),
    summary: "every Patient carries at most one NHS number identifier, 10 digits with no spaces",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::nhs_number_identifiers,
        "returned a malformed NHS number identifier",
        "at most one NHS number identifier per Patient, 10 digits, no spaces",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(value: &str, count: usize) -> String {
        let one = format!(r#"{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{value}"}}"#);
        format!(
            r#"{{"resourceType":"Patient","identifier":[{}]}}"#,
            vec![one; count].join(",")
        )
    }

    #[test]
    fn one_ten_digit_nhs_number_per_patient() {
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        assert_eq!(judged(&patient("9000000009", 1)), Some(Ok(())));
        assert!(
            judged(&patient("9000000009", 2)).unwrap().is_err(),
            "two NHS numbers"
        );
        assert!(
            judged(&patient("900 000 0009", 1)).unwrap().is_err(),
            "spaces"
        );
        assert_eq!(judged(r#"{"resourceType":"Patient"}"#), None);
    }
}
