//! `ukcore.identifier-systems` (IOP-UKC-006): no deprecated http://fhir.nhs.net systems;
//! practitioners use national identifier systems.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.identifier-systems",
    requirement: RequirementCode::new("IOP-UKC-006"),
    summary: "no deprecated http://fhir.nhs.net systems; practitioners use national identifier systems",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::identifier_systems,
        "returned a deprecated or unknown identifier system",
        "no http://fhir.nhs.net systems; national practitioner identifier systems",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_and_unknown_national_systems_fail() {
        let practitioner = |system: &str| {
            format!(
                r#"{{"resourceType":"Practitioner","identifier":[{{"system":"{system}","value":"G1"}}]}}"#
            )
        };
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        assert_eq!(
            judged(&practitioner("https://fhir.nhs.uk/Id/sds-user-id")),
            Some(Ok(()))
        );
        let failure = judged(&practitioner("http://fhir.nhs.net/Id/sds-user-id"))
            .unwrap()
            .unwrap_err();
        assert!(failure.actual.unwrap().contains("fhir.nhs.net"));
        assert!(
            judged(&practitioner("https://fhir.nhs.uk/Id/made-up"))
                .unwrap()
                .is_err()
        );
    }
}
