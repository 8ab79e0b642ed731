//! `terminology.dmd` (IOP-TERM-002): medicines are coded with valid dm+d identifiers, not free
//! text.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "terminology.dmd",
    requirement: RequirementCode::new("IOP-TERM-002"),
    summary: "medicines are coded with valid dm+d identifiers, not free text",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::medication_codes,
        "returned a medicine not coded with dm+d",
        "medicines coded with valid dm+d identifiers",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(concept: &str) -> String {
        format!(r#"{{"resourceType":"MedicationStatement","medicationCodeableConcept":{concept}}}"#)
    }

    #[test]
    fn medicines_are_coded_with_dmd() {
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        let coded = r#"{"coding":[{"system":"https://dmd.nhs.uk","code":"322236009"}]}"#;
        assert_eq!(judged(&statement(coded)), Some(Ok(())));
        let failure = judged(&statement(r#"{"text":"two paracetamol"}"#))
            .unwrap()
            .unwrap_err();
        assert!(failure.actual.unwrap().contains("free text"));
        assert!(
            judged(&statement(&coded.replace("322236009", "322236008")))
                .unwrap()
                .is_err()
        );
        assert_eq!(judged(r#"{"resourceType":"Patient"}"#), None);
    }
}
