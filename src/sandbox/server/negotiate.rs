//! What a request may ask of the HTTP layer before any resource is served: content negotiation
//! (`_format` and `Accept`), CORS preflight, and the TRACE echo (served only when `handle` sees
//! trace-enabled).
//!
//! Faults applied here: format-ignored, accept-ignored, cors-any-origin-with-credentials.

// Refusals are ready-made responses; boxing them would only add noise to a test server.
#![expect(clippy::result_large_err)]

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::{Call, Fault, State};

/// Content negotiation: `_format` overrides `Accept` (FHIR R4 RESTful API); the sandbox only
/// speaks JSON, so anything else is 406.
pub(super) fn negotiate(state: &State, call: &Call) -> Result<(), Response> {
    let is_json = |mime: &str| {
        let mime = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(
            mime.as_str(),
            "json" | "application/json" | "application/fhir+json" | "*/*" | "application/*" | ""
        )
    };
    let format = call.params("_format").first().map(|f| (*f).to_owned());
    let acceptable = match (&format, state.has(Fault::FormatIgnored)) {
        (Some(format), false) => is_json(format),
        _ => call
            .header("accept")
            .is_none_or(|accept| accept.split(',').any(is_json)),
    };
    if acceptable || state.has(Fault::AcceptIgnored) {
        Ok(())
    } else {
        Err(state.error(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            "NOT_ACCEPTABLE",
            "Only JSON (application/fhir+json) is served",
        ))
    }
}

/// CORS preflight: any origin may call (the API is bearer-token protected), never with credentials.
pub(super) fn preflight(state: &State, headers: &HeaderMap) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header("access-control-allow-methods", "GET, POST, PUT")
        .header(
            "access-control-allow-headers",
            "Authorization, Content-Type, X-Request-ID, X-Correlation-ID, Prefer, If-Match",
        )
        .header("access-control-max-age", "600");
    builder = match headers.get(header::ORIGIN) {
        Some(origin) if state.has(Fault::CorsAnyOriginWithCredentials) => builder
            .header("access-control-allow-origin", origin.clone())
            .header("access-control-allow-credentials", "true"),
        _ => builder.header("access-control-allow-origin", "*"),
    };
    builder.body(Body::empty()).unwrap_or_default()
}

/// Under `trace-enabled`: TRACE echoes the request, as a misconfigured server does.
pub(super) fn trace_echo(parts: &axum::http::request::Parts) -> Response {
    let mut echo = format!("{} {} HTTP/1.1\r\n", parts.method, parts.uri);
    for (name, value) in &parts.headers {
        echo.push_str(&format!(
            "{name}: {}\r\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "message/http")
        .body(Body::from(echo))
        .unwrap_or_default()
}
