//! Who may call: client certificates under mutual TLS, the OAuth2 token endpoint, and the guard
//! on data endpoints (Spine Secure Proxy headers, rate limit, bearer token and its scope, the GP
//! Connect provenance JWT, X-Request-ID), in the NHS API platform's order.
//!
//! Faults applied here: client-certificate-name-unchecked, client-certificate-optional (also in
//! `tls.rs`, which lets the handshake through), token-in-query-accepted, no-rate-limit,
//! no-retry-after,
//! auth-bypass, scope-not-enforced, no-www-authenticate, request-id-not-checked,
//! provenance-claims-unchecked, provenance-lifetime-unchecked, provenance-content-unchecked,
//! ssp-headers-ignored, ssp-to-ignored, interaction-id-ignored. The token endpoint's own faults
//! are applied in `auth.rs`.

// Refusals are ready-made responses; boxing them would only add noise to a test server.
#![expect(clippy::result_large_err)]

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::super::auth::Grant;
use super::{Call, Fault, State};
use crate::auth::provenance::{self, Problem};

pub const PROVIDER_ASID: &str = "918999198738";

/// Under mutual TLS, whether the connection's client certificate names the registered
/// consumer system (a connection without one got this far only under client-certificate-optional).
pub(super) fn client_certificate_registered(
    state: &State,
    parts: &axum::http::request::Parts,
) -> bool {
    let Some(expected) = state.client_name else {
        return true;
    };
    if state.has(Fault::ClientCertNameUnchecked) {
        return true;
    }
    match parts.extensions.get::<super::super::tls::PeerCertificate>() {
        Some(peer) => peer.names.iter().any(|name| name == expected),
        None => state.has(Fault::ClientCertOptional),
    }
}

/// The OAuth2 token endpoint: OAuth JSON answers, not FHIR.
pub(super) fn token_endpoint(state: &State, body: &[u8], token_url: &str) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let (status, answer) = match state.auth.token(&form, token_url, &state.faults) {
        Ok(answer) => (StatusCode::OK, answer),
        Err((status, answer)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            answer,
        ),
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::PRAGMA, "no-cache")
        .body(Body::from(answer.to_string()))
        .unwrap_or_default()
}

/// Data endpoints: Spine Secure Proxy headers when a GP Connect client sends them, a bearer token
/// (401), then a UUID X-Request-ID (400), as the NHS API platform orders them.
pub(super) fn guard(state: &State, call: &Call) -> Result<(), Response> {
    check_ssp(state, call)?;
    let header_token = call
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let query_token = call.params("access_token").first().map(|t| (*t).to_owned());
    let presented = header_token
        .map(str::to_owned)
        .or_else(|| query_token.filter(|_| state.has(Fault::TokenInQueryAccepted)));
    // Metering is per application, so it applies even when the token is not checked.
    if !state.auth.within_limit(presented.as_deref()) && !state.has(Fault::NoRateLimit) {
        let mut response = state.error(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "TOO_MANY_REQUESTS",
            "You have exceeded your application's rate limit",
        );
        if !state.has(Fault::NoRetryAfter) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        return Err(response);
    }
    if state.auth.enabled() && !state.has(Fault::AuthBypass) {
        let mut grant = presented.as_deref().and_then(|t| state.auth.grant(t));
        // A GP Connect consumer's bearer token is its provenance JWT.
        if grant.is_none()
            && call.headers.contains_key("ssp-interactionid")
            && let Some(token) = presented.as_deref()
        {
            check_provenance(state, call, token)?;
            grant = Some(Grant::Full);
        }
        match grant {
            Some(Grant::Full) => {}
            Some(Grant::ReadOnly)
                if call.method == Method::GET || state.has(Fault::ScopeNotEnforced) => {}
            Some(Grant::ReadOnly) => {
                return Err(state.error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "ACCESS_DENIED",
                    "The access token does not allow this operation",
                ));
            }
            None => {
                let mut response = state.error(
                    StatusCode::UNAUTHORIZED,
                    "forbidden",
                    "ACCESS_DENIED",
                    "Access Denied - Unauthorised",
                );
                if !state.has(Fault::NoWwwAuthenticate) {
                    let challenge = if call.header("authorization").is_some() {
                        "Bearer error=\"invalid_token\""
                    } else {
                        "Bearer"
                    };
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                return Err(response);
            }
        }
    }
    if state.has(Fault::RequestIdNotChecked) {
        return Ok(());
    }
    match call.header("x-request-id") {
        None => Err(state.error(
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "Required header X-Request-ID is missing",
        )),
        Some(value) if value.len() != 36 || uuid::Uuid::parse_str(value).is_err() => Err(state
            .error(
                StatusCode::BAD_REQUEST,
                "value",
                "INVALID_VALUE",
                "X-Request-ID must be a UUID",
            )),
        Some(_) => Ok(()),
    }
}

/// GP Connect: the provenance JWT's encoding, claims, lifetime, scope, reason and embedded
/// resources, each rule switchable off by a fault.
fn check_provenance(state: &State, call: &Call, token: &str) -> Result<(), Response> {
    let schema = crate::fhir::schema::FhirSchema::embedded().ok();
    let Some(refusal) = provenance::refusal(
        token,
        call.method.as_str(),
        &call.segments.join("/"),
        chrono::Utc::now().timestamp(),
        |resource| schema.as_ref().is_none_or(|s| s.is_valid(resource)),
    ) else {
        return Ok(());
    };
    let ignored = match refusal.problem {
        Problem::Encoding | Problem::MissingClaim => Fault::ProvenanceClaimsUnchecked,
        Problem::Lifetime => Fault::ProvenanceLifetimeUnchecked,
        Problem::Reason | Problem::Scope | Problem::Resource => Fault::ProvenanceContentUnchecked,
    };
    if state.has(ignored) {
        return Ok(());
    }
    let (status, issue_code) = if refusal.status == 422 {
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    } else {
        (StatusCode::BAD_REQUEST, "invalid")
    };
    Err(state.error(status, issue_code, refusal.spine_code, &refusal.message))
}

/// GP Connect: once a client speaks Spine Secure Proxy, every Ssp header must be present and right.
fn check_ssp(state: &State, call: &Call) -> Result<(), Response> {
    let names = ["ssp-traceid", "ssp-from", "ssp-to", "ssp-interactionid"];
    if !names.iter().any(|n| call.headers.contains_key(*n)) {
        return Ok(());
    }
    let bad = |display: &str| {
        Err(state.error(StatusCode::BAD_REQUEST, "invalid", "BAD_REQUEST", display))
    };
    if !state.has(Fault::SspHeadersIgnored) {
        for name in names {
            if call.header(name).is_none_or(|v| v.trim().is_empty()) {
                return bad(&format!("Spine Secure Proxy header {name} is missing"));
            }
        }
    }
    if !state.has(Fault::SspToIgnored)
        && call.header("ssp-to").is_some_and(|to| to != PROVIDER_ASID)
    {
        return bad("Ssp-To does not name this provider's ASID");
    }
    if !state.has(Fault::InteractionIdIgnored)
        && call.header("ssp-interactionid").is_some_and(|id| {
            id != crate::gpc::interaction_id(call.method.as_str(), &call.segments.join("/"))
        })
    {
        return bad("Ssp-InteractionID does not match the interaction requested");
    }
    Ok(())
}
