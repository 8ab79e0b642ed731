//! What the server says about itself: the CapabilityStatement at `metadata`, the OpenAPI
//! document at `openapi.json`, and the `_ping` health check.
//!
//! Faults applied here: no-metadata, undocumented (hides both documents), openapi-drift,
//! metadata-as-text, ping-leaks.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::super::{data, openapi};
use super::response::fhir;
use super::{Fault, State};

/// Whether `openapi.json` is served: not under `undocumented`.
pub(super) fn documented(state: &State) -> bool {
    !state.has(Fault::Undocumented)
}

/// The OpenAPI document, which under `openapi-drift` no longer matches what is served.
pub(super) fn openapi_document(state: &State) -> Response {
    fhir(
        StatusCode::OK,
        &openapi::document(state.has(Fault::OpenapiDrift)),
    )
}

pub(super) fn metadata(state: &State) -> Response {
    if state.has(Fault::NoMetadata) || state.has(Fault::Undocumented) {
        return state.error(
            StatusCode::NOT_FOUND,
            "not-supported",
            "RESOURCE_NOT_FOUND",
            "Resource not found",
        );
    }
    let mut response = fhir(StatusCode::OK, &data::capability_statement(&state.faults));
    if state.has(Fault::MetadataAsText) {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

pub(super) fn ping(state: &State) -> Response {
    let mut body = json!({"status": "pass", "ping": "pong"});
    if state.has(Fault::PingLeaks) {
        body["version"] = json!("mts-sandbox 0.1.0 on Ubuntu 22.04, Apache/2.4.52");
        body["host"] = json!("ip-10-0-3-17.eu-west-2.compute.internal");
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}
