//! Assertions over one exchange. Each returns `Err(Halt)` that says whether the supplier failed
//! (`Fail`), the harness could not judge (`Error`), or the check does not apply.

use serde_json::Value;

use crate::fhir::outcome;
use crate::http::{Exchange, RecordedResponse};
use crate::report::{Failure, ReasonKind};

/// Why a scenario stopped before its last step passed. A step states the facts; what verdict
/// they come to is decided in one place (`crate::verdict`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// The supplier does not meet the requirement, or evidence mts asked for is absent.
    Fail(Failure),
    /// The harness could not reach a judgement (no response, a harness fault).
    Error(String),
    /// Not judged, and why: the kind decides skipped or not applicable.
    Unjudged(ReasonKind, String),
}

impl Halt {
    pub fn fail(exchange: &Exchange, message: impl Into<String>) -> Self {
        Halt::Fail(Failure::new(message).exchange(&exchange.id))
    }

    /// The target's declarations do not offer what the scenario is about.
    pub fn not_declared(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::NotDeclared, why.into())
    }

    /// A setting, credential or certificate mts needs was not given.
    pub fn missing_config(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::MissingConfig, why.into())
    }

    /// Test data the scenario needs is not there.
    pub fn missing_data(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::MissingData, why.into())
    }

    /// Nothing received is what the rule is about, and nothing was owed.
    pub fn nothing_to_judge(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::NothingToJudge, why.into())
    }

    /// An optional endpoint is not there.
    pub fn endpoint_absent(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::EndpointAbsent, why.into())
    }

    /// The run's profile does not apply this probe.
    pub fn excluded_by_profile(why: impl Into<String>) -> Self {
        Halt::Unjudged(ReasonKind::ExcludedByProfile, why.into())
    }

    pub fn describe(&self) -> String {
        match self {
            Halt::Fail(failure) => failure.message.clone(),
            Halt::Error(reason) | Halt::Unjudged(_, reason) => reason.clone(),
        }
    }
}

impl From<Failure> for Halt {
    fn from(failure: Failure) -> Self {
        Halt::Fail(failure)
    }
}

/// The response, or an `Error` saying why there is none (timeout, refused connection…).
pub fn response(exchange: &Exchange) -> Result<&RecordedResponse, Halt> {
    match (&exchange.response, &exchange.error) {
        (Some(response), _) => Ok(response),
        (None, Some(error)) => Err(Halt::Error(format!(
            "no response to {}: {}",
            exchange.summary_request(),
            error.message
        ))),
        (None, None) => Err(Halt::Error(format!(
            "no response to {}",
            exchange.summary()
        ))),
    }
}

fn list(statuses: &[u16]) -> String {
    let texts: Vec<String> = statuses.iter().map(u16::to_string).collect();
    match texts.len() {
        0 => String::new(),
        1 => texts[0].clone(),
        _ => format!("one of {}", texts.join(", ")),
    }
}

pub fn status_is(exchange: &Exchange, allowed: &[u16]) -> Result<(), Halt> {
    let status = response(exchange)?.status;
    if allowed.contains(&status) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} answered {status}, expected {}",
        exchange.summary_request(),
        list(allowed)
    ))
    .expected(format!("HTTP {}", list(allowed)))
    .actual(format!("HTTP {status}"))
    .exchange(&exchange.id)
    .into())
}

pub fn status_is_not_server_error(exchange: &Exchange) -> Result<(), Halt> {
    let status = response(exchange)?.status;
    if status < 500 {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} caused a server error {status}",
        exchange.summary_request()
    ))
    .expected("a 2xx or 4xx answer: a client-induced request never causes a 5xx")
    .actual(format!("HTTP {status}"))
    .exchange(&exchange.id)
    .into())
}

/// The body as a FHIR resource, of `expected_type` when given.
pub fn fhir_resource<'a>(
    exchange: &'a Exchange,
    expected_type: Option<&str>,
) -> Result<&'a Value, Halt> {
    let response = response(exchange)?;
    let Some(json) = response.body.json() else {
        let why = response.body.json_error().unwrap_or_default();
        let shown = preview(&response.body.text());
        return Err(Failure::new(format!(
            "the body of {} is not JSON ({why})",
            exchange.summary_request()
        ))
        .expected(format!(
            "a FHIR {} resource in JSON",
            expected_type.unwrap_or("R4")
        ))
        .actual(if shown.is_empty() {
            "an empty body".into()
        } else {
            shown
        })
        .exchange(&exchange.id)
        .into());
    };
    let found = json.get("resourceType").and_then(Value::as_str);
    match (found, expected_type) {
        (None, _) => Err(Failure::new(
            "the body is JSON but has no resourceType, so it is not a FHIR resource",
        )
        .expected(format!("a FHIR {} resource", expected_type.unwrap_or("R4")))
        .actual(preview(&json.to_string()))
        .exchange(&exchange.id)
        .into()),
        (Some(found), Some(expected)) if found != expected => Err(Failure::new(format!(
            "the body is a {found}, not a {expected}"
        ))
        .expected(format!("resourceType {expected}"))
        .actual(format!("resourceType {found}"))
        .exchange(&exchange.id)
        .into()),
        _ => Ok(json.as_ref()),
    }
}

/// A response header equals the value the request carried (e.g. `X-Request-ID` mirrored back).
/// Header names are compared case-insensitively, values exactly.
pub fn header_echoed(
    exchange: &Exchange,
    request_header: &str,
    response_header: &str,
) -> Result<(), Halt> {
    let Some(sent) = exchange.request.header(request_header) else {
        return Err(Halt::Error(format!(
            "the request carried no {request_header} header to compare with"
        )));
    };
    let response = response(exchange)?;
    let received: Vec<&str> = response.header_values(response_header).collect();
    if received.len() > 1 {
        return Err(Failure::new(format!(
            "{response_header} appears {} times in the response; an echo is one value",
            received.len()
        ))
        .expected(format!("{response_header}: {sent}"))
        .actual(
            received
                .iter()
                .map(|value| format!("{response_header}: {value}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .exchange(&exchange.id)
        .into());
    }
    match response.header(response_header) {
        Some(received) if received == sent => Ok(()),
        Some(received) => Err(Failure::new(format!(
            "{response_header} was changed on the way back"
        ))
        .expected(format!("{response_header}: {sent}"))
        .actual(format!("{response_header}: {received}"))
        .exchange(&exchange.id)
        .into()),
        None => Err(
            Failure::new(format!("the response does not echo {request_header}"))
                .expected(format!("{response_header}: {sent}"))
                .actual(format!("no {response_header} header"))
                .exchange(&exchange.id)
                .into(),
        ),
    }
}

pub fn header_absent(exchange: &Exchange, name: &str) -> Result<(), Halt> {
    let response = response(exchange)?;
    match response.header(name) {
        None => Ok(()),
        Some(value) => Err(Failure::new(format!(
            "the response carries {name} although the request did not"
        ))
        .expected(format!("no {name} header"))
        .actual(format!("{name}: {value}"))
        .exchange(&exchange.id)
        .into()),
    }
}

pub fn header_is(exchange: &Exchange, name: &str, expected: &str) -> Result<(), Halt> {
    let response = response(exchange)?;
    match response.header(name) {
        Some(value) if value.trim().eq_ignore_ascii_case(expected) => Ok(()),
        other => Err(
            Failure::new(format!("the response header {name} is not {expected}"))
                .expected(format!("{name}: {expected}"))
                .actual(other.map_or(format!("no {name} header"), |v| format!("{name}: {v}")))
                .exchange(&exchange.id)
                .into(),
        ),
    }
}

/// An error response carries a FHIR OperationOutcome in a FHIR JSON media type.
pub fn operation_outcome(exchange: &Exchange) -> Result<&Value, Halt> {
    let response = response(exchange)?;
    let media_type = response.media_type();
    let resource = fhir_resource(exchange, Some("OperationOutcome"))?;
    match media_type.as_deref() {
        Some("application/fhir+json" | "application/json") => {}
        other => {
            return Err(Failure::new(
                "the OperationOutcome is not served with a FHIR JSON media type",
            )
            .expected("Content-Type: application/fhir+json")
            .actual(other.map_or("no Content-Type".to_owned(), |m| {
                format!("Content-Type: {m}")
            }))
            .exchange(&exchange.id)
            .into());
        }
    }
    if outcome::issues(resource).is_empty() {
        return Err(Failure::new("the OperationOutcome has no issue")
            .expected("at least one issue")
            .actual("issue is missing or empty")
            .exchange(&exchange.id)
            .into());
    }
    Ok(resource)
}

pub fn spine_code(exchange: &Exchange, code: &str) -> Result<(), Halt> {
    let resource = operation_outcome(exchange)?;
    let codes = outcome::spine_codes(resource);
    if codes.iter().any(|c| c == code) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the OperationOutcome does not carry the Spine code {code}"
    ))
    .expected(format!(
        "details.coding with code {code} from a Spine error code system"
    ))
    .actual(if codes.is_empty() {
        "no Spine code".to_owned()
    } else {
        codes.join(", ")
    })
    .exchange(&exchange.id)
    .into())
}

pub use crate::util::preview;

impl Exchange {
    /// `GET /FHIR/R4/metadata` without the outcome, for messages that state the outcome.
    pub fn summary_request(&self) -> String {
        format!(
            "{} {}",
            self.request.method,
            crate::http::exchange_path(&self.request.url)
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::testing::{FHIR_JSON, exchange};
    use crate::http::{ExchangeId, TransportError, TransportErrorKind};

    #[test]
    fn a_missing_response_is_an_error_not_a_failure() {
        let mut timed_out = exchange(200, &[], "");
        timed_out.response = None;
        timed_out.error = Some(TransportError {
            kind: TransportErrorKind::Timeout,
            message: "timed out".into(),
        });
        assert!(
            matches!(status_is(&timed_out, &[200]), Err(Halt::Error(m)) if m.contains("timed out"))
        );
    }

    #[test]
    fn status_failures_say_expected_and_actual() {
        let Err(Halt::Fail(failure)) = status_is(&exchange(404, &[], ""), &[200]) else {
            panic!()
        };
        assert_eq!(failure.expected.as_deref(), Some("HTTP 200"));
        assert_eq!(failure.actual.as_deref(), Some("HTTP 404"));
        assert_eq!(failure.exchange, Some(ExchangeId("t.feature:1#1".into())));
        assert!(status_is(&exchange(422, &[], ""), &[400, 422]).is_ok());
        assert!(status_is_not_server_error(&exchange(503, &[], "")).is_err());
    }

    #[test]
    fn resources_are_typed() {
        let ok = exchange(200, &[FHIR_JSON], r#"{"resourceType":"Patient","id":"1"}"#);
        assert!(fhir_resource(&ok, Some("Patient")).is_ok());
        assert!(
            matches!(fhir_resource(&ok, Some("Bundle")), Err(Halt::Fail(f)) if f.message.contains("not a Bundle"))
        );
        assert!(fhir_resource(&exchange(200, &[], "<html>"), None).is_err());
        assert!(fhir_resource(&exchange(200, &[], "{}"), None).is_err());
    }

    #[test]
    fn an_echo_repeated_with_another_value_fails() {
        let id = "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9";
        let twice = exchange(
            200,
            &[
                ("x-request-id", id),
                ("x-request-id", "00000000-0000-4000-8000-000000000002"),
            ],
            "",
        );
        assert!(matches!(
            header_echoed(&twice, "X-Request-ID", "X-Request-ID"),
            Err(Halt::Fail(f)) if f.message.contains("appears 2 times")
        ));
    }

    #[test]
    fn echoes_compare_values_exactly_and_names_loosely() {
        let id = "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9";
        assert!(
            header_echoed(
                &exchange(200, &[("x-request-id", id)], ""),
                "X-Request-ID",
                "X-Request-ID"
            )
            .is_ok()
        );
        assert!(
            header_echoed(
                &exchange(200, &[("X-Request-ID", &id.to_uppercase())], ""),
                "X-Request-ID",
                "X-Request-ID"
            )
            .is_err()
        );
        assert!(header_echoed(&exchange(200, &[], ""), "X-Request-ID", "X-Request-ID").is_err());
        assert!(
            header_absent(
                &exchange(200, &[("X-Correlation-ID", "x")], ""),
                "x-correlation-id"
            )
            .is_err()
        );
    }

    #[test]
    fn operation_outcomes_need_the_media_type_and_an_issue() {
        let body = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "value",
            "details": {"coding": [{"system": crate::fhir::outcome::APIM_SPINE_SYSTEM, "code": "INVALID_VALUE", "display": "Invalid"}]}}]})
        .to_string();
        let good = exchange(400, &[FHIR_JSON], &body);
        assert!(operation_outcome(&good).is_ok());
        assert!(spine_code(&good, "INVALID_VALUE").is_ok());
        assert!(spine_code(&good, "MISSING_VALUE").is_err());
        assert!(
            operation_outcome(&exchange(400, &[("content-type", "text/html")], &body)).is_err()
        );
        let empty = exchange(
            400,
            &[FHIR_JSON],
            r#"{"resourceType":"OperationOutcome","issue":[]}"#,
        );
        assert!(operation_outcome(&empty).is_err());
    }
}
