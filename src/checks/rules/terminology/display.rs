//! `terminology.display` (IOP-TERM-003): SNOMED CT and dm+d codings carry a display or text.

use crate::checks::content;
use crate::checks::rules::content_rule;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "terminology.display",
    requirement: RequirementCode::new("IOP-TERM-003"),
    summary: "SNOMED CT and dm+d codings carry a display or text",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    content_rule(
        exchange,
        content::coding_displays,
        "returned a coding without a display",
        "every SNOMED CT and dm+d coding has a display or text",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snomed_codings_carry_a_display_or_text() {
        let condition = |coding: &str| {
            format!(r#"{{"resourceType":"Condition","code":{{"coding":[{coding}]}}}}"#)
        };
        let judged = |body: &str| verdict(&CHECK, &exchange(200, &[FHIR_JSON], body));
        assert_eq!(
            judged(&condition(
                r#"{"system":"http://snomed.info/sct","code":"1","display":"x"}"#
            )),
            Some(Ok(()))
        );
        assert!(
            judged(&condition(
                r#"{"system":"http://snomed.info/sct","code":"1"}"#
            ))
            .unwrap()
            .is_err()
        );
    }
}
