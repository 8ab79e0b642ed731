//! `fhir.schema` (IOP-FHIR-006): every FHIR resource in every response (and every resource nested
//! in it) is valid against the FHIR R4 JSON schema.

use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "fhir.schema",
    requirement: RequirementCode::new("IOP-FHIR-006"),
    summary: "every FHIR resource in every response (and every resource nested in it) is valid against the FHIR R4 JSON schema",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    let resource = response.resource()?;
    if context.schema.is_valid(resource) {
        return Some(Judged::pass());
    }
    let issues = context.schema.validate(resource);
    let first = issues.first()?;
    let listed: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| format!("{}: {}", i.location, i.message))
        .collect();
    Some(Judged::fail(
        Failure::new(format!(
            "{} returned a {} that breaks the FHIR R4 schema in {} place(s), first at {}",
            exchange.summary_request(),
            response.resource_type().unwrap_or("resource"),
            issues.len(),
            first.location
        ))
        .expected("valid against the FHIR R4 JSON schema")
        .actual(if issues.len() > 5 {
            format!("{} (+{} more)", listed.join("; "), issues.len() - 5)
        } else {
            listed.join("; ")
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_check_judges_only_resources() {
        assert!(
            verdict(
                &CHECK,
                &exchange(
                    200,
                    &[FHIR_JSON],
                    r#"{"resourceType":"Patient","gender":"female"}"#
                )
            )
            .unwrap()
            .is_ok()
        );
        let failure = verdict(
            &CHECK,
            &exchange(
                200,
                &[FHIR_JSON],
                r#"{"resourceType":"Patient","gender":"F"}"#,
            ),
        )
        .unwrap()
        .unwrap_err();
        assert!(
            failure.message.contains("first at Patient.gender"),
            "{failure:?}"
        );
        assert!(verdict(&CHECK, &exchange(200, &[], "plain text")).is_none());
    }
}
