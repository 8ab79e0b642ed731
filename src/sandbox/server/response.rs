//! Building answers, and the headers every answer gets: the OperationOutcome error shape
//! (`State::error`), `plain`/`fhir`/`build` bodies, ETags, 405 with Allow, and `decorate` (request
//! and correlation id echo, Cache-Control, nosniff, HSTS, Server, gzip via `compress`).
//!
//! Faults applied here: text-errors, wrong-status-for-code, outcome-warning-severity,
//! stack-trace-in-errors, no-spine-code (the error shape); no-request-id-echo,
//! correlation-id-invented, no-cache-control-on-errors, no-nosniff, no-hsts, short-hsts,
//! server-version-header, no-gzip (the headers).

use std::io::Write as _;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Fault, State};
use crate::fhir::outcome::APIM_SPINE_SYSTEM;

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

impl State {
    /// An error answer: an OperationOutcome with a Spine code, or plain text under `text-errors`.
    /// 404 with `RESOURCE_NOT_FOUND`: no such resource (or route).
    pub(super) fn not_found(&self) -> Response {
        self.error(
            StatusCode::NOT_FOUND,
            "not-found",
            "RESOURCE_NOT_FOUND",
            "Resource not found",
        )
    }

    /// 500: the write store's lock is poisoned.
    pub(super) fn store_unavailable(&self) -> Response {
        self.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "INTERNAL_SERVER_ERROR",
            "Store unavailable",
        )
    }

    pub(super) fn error(
        &self,
        status: StatusCode,
        issue_code: &str,
        spine_code: &str,
        display: &str,
    ) -> Response {
        if self.has(Fault::TextErrors) {
            return plain(status, &format!("{display}\n"));
        }
        let spine_code = if self.has(Fault::WrongStatusForCode) && status == StatusCode::NOT_FOUND {
            "BAD_REQUEST"
        } else {
            spine_code
        };
        let severity = if self.has(Fault::OutcomeWarningSeverity) {
            "warning"
        } else {
            "error"
        };
        let diagnostics = if self.has(Fault::StackTraceInErrors) && status == StatusCode::NOT_FOUND
        {
            "java.lang.IllegalStateException: no row\n\tat uk.example.fhir.dao.PatientDao.read(PatientDao.java:88)\n\tat uk.example.fhir.web.ReadController.handle(ReadController.java:41)".to_owned()
        } else {
            display.to_owned()
        };
        let mut issue =
            json!({"severity": severity, "code": issue_code, "diagnostics": diagnostics});
        if !self.has(Fault::NoSpineCode) {
            issue["details"] = json!({"coding": [{"system": APIM_SPINE_SYSTEM, "version": "1", "code": spine_code, "display": display}]});
        }
        let outcome = json!({
            "resourceType": "OperationOutcome",
            "meta": {"profile": ["https://fhir.nhs.uk/StructureDefinition/NHSDigital-OperationOutcome"]},
            "issue": [issue]
        });
        fhir(status, &outcome)
    }
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text.to_owned()))
        .unwrap_or_default()
}

pub(super) fn fhir(status: StatusCode, resource: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, FHIR_JSON)
        .body(Body::from(resource.to_string()))
        .unwrap_or_default()
}

pub(super) fn build(
    status: StatusCode,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> Response {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, FHIR_JSON);
    }
    builder
        .body(Body::from(body.unwrap_or_default()))
        .unwrap_or_default()
}

pub(super) fn with_etag(
    mut response: Response,
    resource: &Value,
    fault_mismatch: bool,
) -> Response {
    let version = resource
        .pointer("/meta/versionId")
        .and_then(Value::as_str)
        .unwrap_or("1");
    let etag = if fault_mismatch {
        format!("W/\"{}0\"", version)
    } else {
        format!("W/\"{version}\"")
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

pub(super) fn method_not_allowed(state: &State, allow: &'static str) -> Response {
    let mut response = state.error(
        StatusCode::METHOD_NOT_ALLOWED,
        "not-supported",
        "METHOD_NOT_ALLOWED",
        "Method not allowed",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Headers every response carries, and gzip when asked for.
pub(super) async fn decorate(state: &State, request: &HeaderMap, response: &mut Response) {
    let headers = response.headers_mut();
    if !state.has(Fault::NoRequestIdEcho)
        && let Some(value) = request.get("x-request-id")
    {
        headers.insert("x-request-id", value.clone());
    }
    match request.get("x-correlation-id") {
        Some(value) => {
            headers.insert("x-correlation-id", value.clone());
        }
        None if state.has(Fault::CorrelationIdInvented) => {
            if let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
                headers.insert("x-correlation-id", value);
            }
        }
        None => {}
    }
    let is_error = response.status().as_u16() >= 400;
    let headers = response.headers_mut();
    if !(is_error && state.has(Fault::NoCacheControlOnErrors)) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !state.has(Fault::NoNosniff) {
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    if state.tls && !state.has(Fault::NoHsts) {
        let policy = if state.has(Fault::ShortHsts) {
            "max-age=300"
        } else {
            "max-age=31536000; includeSubDomains"
        };
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(policy),
        );
    }
    if state.has(Fault::ServerVersionHeader) {
        headers.insert(
            header::SERVER,
            HeaderValue::from_static("Apache/2.4.52 (Ubuntu)"),
        );
    }
    let wants_gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if wants_gzip && !state.has(Fault::NoGzip) {
        compress(response).await;
    }
}

async fn compress(response: &mut Response) {
    let body = std::mem::take(response.body_mut());
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    if bytes.is_empty() {
        return;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    match compressed {
        Ok(compressed) => {
            *response.body_mut() = Body::from(compressed);
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            response.headers_mut().remove(header::CONTENT_LENGTH);
        }
        Err(_) => *response.body_mut() = Body::from(bytes),
    }
}
