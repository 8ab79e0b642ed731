//! `ukcore.verification-status` (IOP-UKC-004): NHS number verification status uses the UK Core
//! extension and code systems.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.verification-status",
    requirement: RequirementCode::new("IOP-UKC-004"),
    summary: "NHS number verification status uses the UK Core extension and code systems",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::verification_status,
        "returned an invalid NHS number verification status",
        "the UK Core verification status extension and code system",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(system: &str) -> String {
        format!(
            r#"{{"resourceType":"Patient","identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009","extension":[{{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus","valueCodeableConcept":{{"coding":[{{"system":"{system}","code":"01"}}]}}}}]}}]}}"#
        )
    }

    #[test]
    fn the_status_comes_from_a_uk_core_code_system() {
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        let england =
            "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
        assert_eq!(judged(&patient(england)), Some(Ok(())));
        let failure = judged(&patient("https://example.org/status"))
            .unwrap()
            .unwrap_err();
        assert!(
            failure.message.contains("verification status"),
            "{failure:?}"
        );
        assert_eq!(
            judged(
                r#"{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}"#
            ),
            None,
            "no status given: nothing to judge"
        );
    }
}
