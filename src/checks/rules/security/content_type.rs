//! `security.content-type` (SEC-HDR-005): every body has a Content-Type that matches it (FHIR as
//! application/fhir+json; charset=utf-8).

use super::fail_with;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.content-type",
    requirement: RequirementCode::new("SEC-HDR-005"),
    summary: "every body has a Content-Type that matches it (FHIR as application/fhir+json; charset=utf-8)",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    let allowed = security::JsonLabel {
        asked_for_json: security::asked_for_plain_json(exchange),
        declared: context.json_declared
            || context.openapi.as_ref().is_some_and(|o| {
                o.declares_response_media(exchange, &context.base_url, "application/json")
            }),
    };
    Some(match security::content_type(response, allowed)? {
        Ok(note) => Judged {
            result: Ok(()),
            note,
        },
        Err(problem) => fail_with(
            exchange,
            "has a Content-Type that does not match its body",
            "a Content-Type that matches the body",
            problem,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_labelled_as_what_they_are() {
        let patient = r#"{"resourceType":"Patient"}"#;
        let judged =
            |headers: &[(&str, &str)], body: &str| verdict(&CHECK, &exchange(200, headers, body));
        assert_eq!(judged(&[FHIR_JSON], patient), Some(Ok(())));
        assert!(
            judged(&[("content-type", "text/html")], patient)
                .unwrap()
                .is_err(),
            "JSON as HTML"
        );
        assert!(
            judged(&[FHIR_JSON], "<html></html>").unwrap().is_err(),
            "HTML as FHIR JSON"
        );
        assert!(
            judged(&[("content-type", "application/json")], patient)
                .unwrap()
                .is_err(),
            "FHIR as application/json, neither asked for nor declared"
        );
        assert!(judged(&[], patient).unwrap().is_err(), "no label");
        assert_eq!(judged(&[], ""), None, "no body, nothing to label");
    }
}
