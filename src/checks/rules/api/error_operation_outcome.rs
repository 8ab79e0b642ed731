//! `api.error-operation-outcome` (API-ERR-001): every 4xx/5xx response carries an OperationOutcome
//! as FHIR JSON, and no request causes a 5xx.

use super::error_outcome;
use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.error-operation-outcome",
    requirement: RequirementCode::new("API-ERR-001"),
    summary: "every 4xx/5xx response carries an OperationOutcome as FHIR JSON, and no request causes a 5xx",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    // Token endpoints answer OAuth errors (RFC 6749 §5.2), judged by SEC-JWT-004.
    if exchange.kind != crate::http::ExchangeKind::Fhir {
        return None;
    }
    let response = exchange.response.as_ref()?;
    // 495/496 are TLS-layer client-certificate answers; HEAD responses have no body by definition.
    if response.status < 400
        || matches!(response.status, 495 | 496)
        || exchange.request.method == "HEAD"
    {
        return None;
    }
    if response.status >= 500 {
        return Some(Judged::fail(
            Failure::new(format!(
                "{} caused a server error",
                exchange.summary_request()
            ))
            .expected("no client request causes a 5xx")
            .actual(format!("HTTP {}", response.status)),
        ));
    }
    let media_type = response.media_type();
    let is_fhir_json = matches!(
        media_type.as_deref(),
        Some("application/fhir+json" | "application/json")
    );
    if is_fhir_json && error_outcome(exchange).is_some() {
        return Some(Judged::pass());
    }
    let actual = match (media_type, response.resource_type()) {
        (None, _) if response.body.is_empty() => "an empty body with no Content-Type".to_owned(),
        (media, Some(kind)) => format!(
            "a {kind} as {}",
            media.unwrap_or_else(|| "no Content-Type".into())
        ),
        (media, None) => format!(
            "{} body: {}",
            media.unwrap_or_else(|| "untyped".into()),
            crate::checks::assert::preview(&response.body.text())
        ),
    };
    Some(Judged::fail(
        Failure::new(format!(
            "the {} error from {} is not a FHIR OperationOutcome",
            response.status,
            exchange.summary_request()
        ))
        .expected("an OperationOutcome as application/fhir+json")
        .actual(actual),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_must_be_operation_outcomes_and_never_5xx() {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#;
        assert!(
            verdict(&CHECK, &exchange(404, &[FHIR_JSON], outcome))
                .unwrap()
                .is_ok()
        );
        assert!(
            verdict(
                &CHECK,
                &exchange(404, &[("content-type", "text/plain")], "Not found")
            )
            .unwrap()
            .is_err()
        );
        assert!(
            verdict(&CHECK, &exchange(500, &[FHIR_JSON], outcome))
                .unwrap()
                .is_err()
        );
        assert!(verdict(&CHECK, &exchange(200, &[FHIR_JSON], outcome)).is_none());
    }
}
