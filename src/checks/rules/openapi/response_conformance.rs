//! `openapi.response-conformance` (API-DOC-002): every response matches the supplier's OpenAPI
//! document: status, content type, body schema, required headers.

use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "openapi.response-conformance",
    requirement: RequirementCode::new("API-DOC-002"),
    summary: "every response matches the supplier's OpenAPI document: status, content type, body schema, required headers",
    judge,
    unjudged: Some(unjudged),
};

fn judge(exchange: &Exchange, context: &PassiveContext) -> Option<Judged> {
    let openapi = context.openapi.as_ref()?;
    let problems = openapi.judge(exchange, &context.base_url)?;
    Some(Judged::from_problems(
        exchange,
        "does not match the OpenAPI document",
        "a response the OpenAPI document declares",
        problems,
    ))
}

/// With no document, or one that could not be read, there is nothing to hold responses to.
fn unjudged(openapi: OpenApiUse) -> (ReasonKind, String) {
    match openapi {
        OpenApiUse::NotGiven => (
            ReasonKind::MissingConfig,
            "no OpenAPI document was given (--openapi FILE|URL)".into(),
        ),
        OpenApiUse::Unreadable => (
            ReasonKind::NothingToJudge,
            "the OpenAPI document given could not be read, so no response can be held to it (API-DOC-001 says why)".into(),
        ),
        OpenApiUse::Read => (
            ReasonKind::NothingToJudge,
            "no exchange of this run was one the check applies to".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},
        "paths":{"/Patient/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
        "responses":{"200":{"description":"ok","content":{"application/fhir+json":{"schema":{"type":"object"}}}}}}}}}"#;

    #[test]
    fn responses_are_held_to_the_document_when_there_is_one() {
        let mut context = context();
        let judged = |context: &PassiveContext, exchange: &Exchange| {
            (CHECK.judge)(exchange, context).map(|j| j.result.is_ok())
        };
        let found = exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient"}"#);
        assert_eq!(
            judged(&context, &found),
            None,
            "no document, nothing judged"
        );
        context.openapi = Some(std::sync::Arc::new(
            crate::openapi::OpenApi::parse(DOCUMENT).unwrap(),
        ));
        assert_eq!(judged(&context, &found), Some(true));
        let undeclared = exchange(404, &[FHIR_JSON], r#"{"resourceType":"OperationOutcome"}"#);
        assert_eq!(
            judged(&context, &undeclared),
            Some(false),
            "404 is not declared"
        );
        assert_eq!(
            (CHECK.unjudged.unwrap())(OpenApiUse::NotGiven).0,
            ReasonKind::MissingConfig
        );
    }
}
