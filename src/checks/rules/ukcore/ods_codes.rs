//! `ukcore.ods-codes` (IOP-UKC-005): organisations are identified by upper-case ODS codes in the
//! ODS naming systems.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "ukcore.ods-codes",
    requirement: RequirementCode::new("IOP-UKC-005"),
    summary: "organisations are identified by upper-case ODS codes in the ODS naming systems",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::ods_identifiers,
        "returned an organisation not identified by an ODS code",
        "ODS code systems with upper-case alphanumeric codes",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(system: &str, code: &str) -> String {
        format!(
            r#"{{"resourceType":"Patient","generalPractitioner":[{{"identifier":{{"system":"{system}","value":"{code}"}}}}]}}"#
        )
    }

    #[test]
    fn organisations_carry_upper_case_ods_codes() {
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        let ods = "https://fhir.nhs.uk/Id/ods-organization-code";
        assert_eq!(judged(&patient(ods, "Y12345")), Some(Ok(())));
        assert!(
            judged(&patient(ods, "y12345")).unwrap().is_err(),
            "lower case"
        );
        assert!(
            judged(&patient("https://example.org/practice", "Y12345"))
                .unwrap()
                .is_err()
        );
        assert_eq!(judged(r#"{"resourceType":"Patient"}"#), None);
    }
}
