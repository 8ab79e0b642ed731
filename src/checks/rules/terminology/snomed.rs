//! `terminology.snomed` (IOP-TERM-001): SNOMED CT codings use http://snomed.info/sct and
//! syntactically valid SCTIDs (Verhoeff, partition).

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "terminology.snomed",
    requirement: RequirementCode::new("IOP-TERM-001"),
    summary: "SNOMED CT codings use http://snomed.info/sct and syntactically valid SCTIDs (Verhoeff, partition)",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::snomed_codings,
        "returned an invalid SNOMED CT coding",
        "system http://snomed.info/sct with valid SCTIDs",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allergy(system: &str, code: &str) -> String {
        format!(
            r#"{{"resourceType":"AllergyIntolerance","code":{{"coding":[{{"system":"{system}","code":"{code}","display":"x"}}]}}}}"#
        )
    }

    #[test]
    fn sctids_pass_verhoeff_under_the_snomed_system() {
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        assert_eq!(
            judged(&allergy("http://snomed.info/sct", "91936005")),
            Some(Ok(()))
        );
        assert!(
            judged(&allergy("http://snomed.info/sct", "91936006"))
                .unwrap()
                .is_err()
        );
        assert!(
            judged(&allergy("https://snomed.info/sct", "91936005"))
                .unwrap()
                .is_err(),
            "wrong system URI"
        );
        assert_eq!(judged(&allergy("http://loinc.org", "1-8")), None);
    }
}
