//! Passive checks: rules judged on every exchange of the run, not on one chosen request. A
//! server that gets a rule right on the happy path but wrong on an error path is caught.

use std::sync::Arc;

use crate::catalogue::Profile;
use crate::fhir::path::JsonPath;
use crate::fhir::schema::FhirSchema;
use crate::fhir::{nhs_number, outcome};
use crate::http::Exchange;
use crate::report::{CheckResult, Failure, Verdict};

/// Most failures listed per check; the rest are counted.
const FAILURE_LIMIT: usize = 25;

pub struct PassiveContext {
    pub schema: Arc<FhirSchema>,
    pub profile: Profile,
}

/// A rule judged per exchange. `judge` returns `None` when the exchange is not one the rule is
/// about (e.g. a success response for an error-format rule).
pub struct PassiveCheck {
    pub id: &'static str,
    pub requirement: &'static str,
    pub summary: &'static str,
    pub judge: fn(&Exchange, &PassiveContext) -> Option<Result<(), Failure>>,
}

pub static PASSIVE_CHECKS: &[PassiveCheck] = &[
    PassiveCheck {
        id: "fhir.schema",
        requirement: "IOP-FHIR-006",
        summary: "every FHIR resource in every response (and every resource nested in it) is valid against the FHIR R4 JSON schema",
        judge: schema_valid,
    },
    PassiveCheck {
        id: "ukcore.nhs-number-checksum",
        requirement: "IOP-UKC-002",
        summary: "every NHS number identifier in every response passes the modulus 11 check",
        judge: nhs_numbers_valid,
    },
    PassiveCheck {
        id: "api.error-operation-outcome",
        requirement: "API-ERR-001",
        summary: "every 4xx/5xx response carries an OperationOutcome as FHIR JSON, and no request causes a 5xx",
        judge: errors_are_operation_outcomes,
    },
    PassiveCheck {
        id: "api.request-id-echo",
        requirement: "API-HDR-001",
        summary: "every response mirrors the X-Request-ID UUID its request carried",
        judge: request_id_echoed,
    },
];

/// Runs the checks for the selected requirements over all exchanges.
pub fn run_passive_checks(
    exchanges: &[Arc<Exchange>],
    context: &PassiveContext,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in PASSIVE_CHECKS.iter().filter(|c| selected(c.requirement)) {
        let mut examined = 0;
        let mut failures = Vec::new();
        let mut failed = 0usize;
        for exchange in exchanges.iter().filter(|e| e.response.is_some()) {
            match (check.judge)(exchange, context) {
                None => {}
                Some(Ok(())) => examined += 1,
                Some(Err(failure)) => {
                    examined += 1;
                    failed += 1;
                    if failures.len() < FAILURE_LIMIT {
                        failures.push(failure.exchange(&exchange.id));
                    }
                }
            }
        }
        if failed > failures.len() {
            failures.push(Failure::new(format!(
                "…and {} more failing exchanges",
                failed - failures.len()
            )));
        }
        let (verdict, reason) = match (examined, failed) {
            (0, _) => (
                Verdict::Skipped,
                Some("no exchange of this run was one the check applies to".to_owned()),
            ),
            (_, 0) => (Verdict::Pass, None),
            _ => (
                Verdict::Fail,
                Some(format!("{failed} of {examined} exchanges break the rule")),
            ),
        };
        results.push(CheckResult {
            check: check.id.to_owned(),
            requirement: check
                .requirement
                .parse()
                .unwrap_or_else(|_| unreachable_id()),
            verdict,
            examined,
            reason,
            failures,
        });
    }
    results
}

fn unreachable_id() -> crate::catalogue::RequirementId {
    // Only reached if a static check id were malformed, which a unit test rules out.
    "GOV-ASR-001".parse().unwrap_or_else(|_| unreachable!())
}

fn schema_valid(exchange: &Exchange, context: &PassiveContext) -> Option<Result<(), Failure>> {
    let response = exchange.response.as_ref()?;
    let resource = response.resource()?;
    if context.schema.is_valid(resource) {
        return Some(Ok(()));
    }
    let issues = context.schema.validate(resource);
    let first = issues.first()?;
    let listed: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| format!("{}: {}", i.location, i.message))
        .collect();
    Some(Err(Failure::new(format!(
        "{} returned a {} that breaks the FHIR R4 schema in {} place(s)",
        exchange.summary_request(),
        response.resource_type().unwrap_or("resource"),
        issues.len()
    ))
    .expected("valid against the FHIR R4 JSON schema")
    .actual(if issues.len() > 5 {
        format!("{} (+{} more)", listed.join("; "), issues.len() - 5)
    } else {
        listed.join("; ")
    })
    .exchange(&exchange.id)
    .tap_location(&first.location)))
}

trait TapLocation {
    fn tap_location(self, location: &str) -> Self;
}

impl TapLocation for Failure {
    // The first location leads the message, so the table shows where to look.
    fn tap_location(mut self, location: &str) -> Self {
        self.message = format!("{} (first at {location})", self.message);
        self
    }
}

fn nhs_numbers_valid(exchange: &Exchange, _: &PassiveContext) -> Option<Result<(), Failure>> {
    let response = exchange.response.as_ref()?;
    let body = response.body.json()?;
    let found = nhs_number::find_identifiers(body, &JsonPath::resource_root(body));
    if found.is_empty() {
        return None;
    }
    let bad: Vec<String> = found
        .iter()
        .filter_map(|(path, value)| match value.as_str() {
            Some(text) => nhs_number::check(text)
                .err()
                .map(|p| format!("{} = {text} {p}", path.fhirpath())),
            None => Some(format!("{} has no string value", path.fhirpath())),
        })
        .collect();
    if bad.is_empty() {
        return Some(Ok(()));
    }
    Some(Err(Failure::new(format!(
        "{} returned {} invalid NHS number(s)",
        exchange.summary_request(),
        bad.len()
    ))
    .expected("every NHS number passes modulus 11")
    .actual(bad.join("; "))))
}

fn errors_are_operation_outcomes(
    exchange: &Exchange,
    _: &PassiveContext,
) -> Option<Result<(), Failure>> {
    let response = exchange.response.as_ref()?;
    // 495/496 are TLS-layer client-certificate answers; HEAD responses have no body by definition.
    if response.status < 400
        || matches!(response.status, 495 | 496)
        || exchange.request.method == "HEAD"
    {
        return None;
    }
    if response.status >= 500 {
        return Some(Err(Failure::new(format!(
            "{} caused a server error",
            exchange.summary_request()
        ))
        .expected("no client request causes a 5xx")
        .actual(format!("HTTP {}", response.status))));
    }
    let media_type = response.media_type();
    let is_fhir_json = matches!(
        media_type.as_deref(),
        Some("application/fhir+json" | "application/json")
    );
    let is_outcome = response
        .resource()
        .is_some_and(outcome::is_operation_outcome);
    if is_fhir_json && is_outcome {
        return Some(Ok(()));
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
    Some(Err(Failure::new(format!(
        "the {} error from {} is not a FHIR OperationOutcome",
        response.status,
        exchange.summary_request()
    ))
    .expected("an OperationOutcome as application/fhir+json")
    .actual(actual)))
}

fn request_id_echoed(exchange: &Exchange, _: &PassiveContext) -> Option<Result<(), Failure>> {
    let response = exchange.response.as_ref()?;
    let sent = exchange.request.header("x-request-id")?;
    // Only well-formed ids are owed an echo: a deliberately bad id is API-HDR-002's business.
    uuid::Uuid::parse_str(sent).ok()?;
    match response.header("x-request-id") {
        Some(received) if received == sent => Some(Ok(())),
        Some(received) => Some(Err(Failure::new(format!(
            "{} changed X-Request-ID",
            exchange.summary_request()
        ))
        .expected(format!("X-Request-ID: {sent}"))
        .actual(format!("X-Request-ID: {received}")))),
        None => Some(Err(Failure::new(format!(
            "{} did not echo X-Request-ID",
            exchange.summary_request()
        ))
        .expected(format!("X-Request-ID: {sent}"))
        .actual("no X-Request-ID header"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::assert::tests::{FHIR_JSON, exchange, exchange_with_request};

    fn context() -> PassiveContext {
        PassiveContext {
            schema: FhirSchema::embedded().unwrap(),
            profile: Profile::Apim,
        }
    }

    fn judge(id: &str, exchange: &Exchange) -> Option<Result<(), Failure>> {
        let check = PASSIVE_CHECKS.iter().find(|c| c.id == id).unwrap();
        (check.judge)(exchange, &context())
    }

    #[test]
    fn every_check_names_a_well_formed_requirement() {
        for check in PASSIVE_CHECKS {
            assert!(
                check
                    .requirement
                    .parse::<crate::catalogue::RequirementId>()
                    .is_ok(),
                "{}",
                check.id
            );
        }
    }

    #[test]
    fn schema_check_judges_only_resources() {
        assert!(
            judge(
                "fhir.schema",
                &exchange(
                    200,
                    &[FHIR_JSON],
                    r#"{"resourceType":"Patient","gender":"female"}"#
                )
            )
            .unwrap()
            .is_ok()
        );
        let failure = judge(
            "fhir.schema",
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
        assert!(judge("fhir.schema", &exchange(200, &[], "plain text")).is_none());
    }

    #[test]
    fn nhs_numbers_are_checked_wherever_they_are() {
        let good = r#"{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}"#;
        assert!(
            judge(
                "ukcore.nhs-number-checksum",
                &exchange(200, &[FHIR_JSON], good)
            )
            .unwrap()
            .is_ok()
        );
        let bad = good.replace("9000000009", "9000000001");
        let failure = judge(
            "ukcore.nhs-number-checksum",
            &exchange(200, &[FHIR_JSON], &bad),
        )
        .unwrap()
        .unwrap_err();
        assert!(
            failure
                .actual
                .unwrap()
                .contains("Patient.identifier[0] = 9000000001")
        );
        assert!(
            judge(
                "ukcore.nhs-number-checksum",
                &exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient"}"#)
            )
            .is_none()
        );
    }

    #[test]
    fn errors_must_be_operation_outcomes_and_never_5xx() {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#;
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(404, &[FHIR_JSON], outcome)
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(404, &[("content-type", "text/plain")], "Not found")
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(500, &[FHIR_JSON], outcome)
            )
            .unwrap()
            .is_err()
        );
        assert!(
            judge(
                "api.error-operation-outcome",
                &exchange(200, &[FHIR_JSON], outcome)
            )
            .is_none()
        );
    }

    #[test]
    fn request_ids_must_come_back_when_they_were_uuids() {
        let id = "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9";
        assert!(
            judge(
                "api.request-id-echo",
                &exchange(200, &[("X-Request-ID", id)], "")
            )
            .unwrap()
            .is_ok()
        );
        assert!(
            judge("api.request-id-echo", &exchange(200, &[], ""))
                .unwrap()
                .is_err()
        );
        let bad_id = exchange_with_request(&[("X-Request-ID", "1234")], 400, &[], "");
        assert!(judge("api.request-id-echo", &bad_id).is_none());
    }
}
