//! `fhir.meta` (IOP-FHIR-008): every resource returned carries meta.versionId, meta.lastUpdated and
//! meta.profile.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "fhir.meta",
    requirement: RequirementCode::new("IOP-FHIR-008"),
    summary: "every resource returned carries meta.versionId, meta.lastUpdated and meta.profile",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::resource_meta,
        "returned a resource without full meta",
        "meta.versionId, meta.lastUpdated and meta.profile",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returned_resources_need_full_meta() {
        let full = r#"{"resourceType":"Patient","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z","profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]}}"#;
        assert_eq!(
            verdict(&CHECK, &exchange(200, &[FHIR_JSON], full)),
            Some(Ok(()))
        );
        let failure = verdict(
            &CHECK,
            &exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient"}"#),
        )
        .unwrap()
        .unwrap_err();
        assert!(
            failure
                .message
                .contains("returned a resource without full meta"),
            "{failure:?}"
        );
        assert_eq!(verdict(&CHECK, &exchange(200, &[], "plain text")), None);
    }
}
