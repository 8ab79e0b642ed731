//! Request handling. One dispatch function keeps every rule (authentication, X-Request-ID,
//! error shapes, faults) visible in one place.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::data::{self, StoredPatient};
use super::{BASE_PATH, Fault};
use crate::fhir::{NHS_NUMBER_SYSTEM, nhs_number, outcome::APIM_SPINE_SYSTEM};

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

pub struct State {
    faults: BTreeSet<Fault>,
    token: Option<String>,
    patients: Vec<StoredPatient>,
}

impl State {
    pub fn new(faults: BTreeSet<Fault>, token: Option<String>) -> Self {
        let mut patients = data::patients();
        for stored in &mut patients {
            if faults.contains(&Fault::InvalidPatient) {
                stored.resource["gender"] = json!("F");
            }
            if faults.contains(&Fault::BadNhsNumber) {
                stored.resource["identifier"][0]["value"] =
                    json!(format!("{}1", &stored.nhs_number[..9]));
                if stored.resource["identifier"][0]["value"] == stored.nhs_number {
                    stored.resource["identifier"][0]["value"] =
                        json!(format!("{}2", &stored.nhs_number[..9]));
                }
            }
        }
        Self {
            faults,
            token,
            patients,
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    fn patient(&self, nhs_number: &str) -> Option<&StoredPatient> {
        self.patients.iter().find(|p| p.nhs_number == nhs_number)
    }
}

pub fn router(state: State) -> Router {
    let state = Arc::new(state);
    Router::new().fallback(move |request: Request| {
        let state = state.clone();
        async move { handle(&state, request) }
    })
}

/// An error answer: an OperationOutcome with a Spine code, or plain text under `text-errors`.
fn error(
    state: &State,
    status: StatusCode,
    issue_code: &str,
    spine_code: &str,
    display: &str,
) -> Response {
    if state.has(Fault::TextErrors) {
        return Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from(format!("{display}\n")))
            .unwrap_or_default();
    }
    let outcome = json!({
        "resourceType": "OperationOutcome",
        "meta": {"profile": ["https://fhir.nhs.uk/StructureDefinition/NHSDigital-OperationOutcome"]},
        "issue": [{
            "severity": "error",
            "code": issue_code,
            "details": {"coding": [{"system": APIM_SPINE_SYSTEM, "version": "1", "code": spine_code, "display": display}]}
        }]
    });
    fhir(status, &outcome)
}

fn fhir(status: StatusCode, resource: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, FHIR_JSON)
        .body(Body::from(resource.to_string()))
        .unwrap_or_default()
}

fn handle(state: &State, request: Request) -> Response {
    let method = request.method().clone();
    let headers = request.headers().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let mut response = dispatch(state, &method, &headers, &path, &query);
    decorate(state, &headers, &mut response);
    response
}

fn dispatch(
    state: &State,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    query: &str,
) -> Response {
    let Some(rest) = path.strip_prefix(BASE_PATH) else {
        return error(
            state,
            StatusCode::NOT_FOUND,
            "not-found",
            "RESOURCE_NOT_FOUND",
            "Resource not found",
        );
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["metadata"] if method == Method::GET => metadata(state),
        ["metadata"] => method_not_allowed(state, "GET"),
        ["Patient", ..] if method != Method::GET => method_not_allowed(state, "GET"),
        ["Patient", id] => guarded(state, headers, || read_patient(state, id)),
        ["Patient"] => guarded(state, headers, || search_patients(state, query)),
        _ => {
            if state.has(Fault::ServerErrors) {
                error(
                    state,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "exception",
                    "INTERNAL_SERVER_ERROR",
                    "Unexpected internal server error",
                )
            } else {
                error(
                    state,
                    StatusCode::NOT_FOUND,
                    "not-supported",
                    "RESOURCE_NOT_FOUND",
                    "Resource type not supported",
                )
            }
        }
    }
}

fn method_not_allowed(state: &State, allow: &'static str) -> Response {
    let mut response = error(
        state,
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

/// Data endpoints: a bearer token first (401), then a UUID X-Request-ID (400), as the NHS API
/// platform orders them.
fn guarded(state: &State, headers: &HeaderMap, handler: impl FnOnce() -> Response) -> Response {
    if let Some(token) = &state.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented != Some(token.as_str()) {
            let mut response = error(
                state,
                StatusCode::UNAUTHORIZED,
                "forbidden",
                "ACCESS_DENIED",
                "Access Denied - Unauthorised",
            );
            let challenge = if presented.is_some() {
                "Bearer error=\"invalid_token\""
            } else {
                "Bearer"
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            return response;
        }
    }
    match headers
        .get("x-request-id")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => error(
            state,
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "Required header X-Request-ID is missing",
        ),
        Some(value) if uuid::Uuid::parse_str(value).is_err() || value.len() != 36 => error(
            state,
            StatusCode::BAD_REQUEST,
            "value",
            "INVALID_VALUE",
            "X-Request-ID must be a UUID",
        ),
        Some(_) => handler(),
    }
}

fn metadata(state: &State) -> Response {
    if state.has(Fault::NoMetadata) {
        return error(
            state,
            StatusCode::NOT_FOUND,
            "not-supported",
            "RESOURCE_NOT_FOUND",
            "Resource not found",
        );
    }
    let version = if state.has(Fault::WrongFhirVersion) {
        "3.0.1"
    } else {
        "4.0.1"
    };
    fhir(StatusCode::OK, &data::capability_statement(version))
}

fn read_patient(state: &State, id: &str) -> Response {
    if !nhs_number::is_valid(id) {
        return error(
            state,
            StatusCode::BAD_REQUEST,
            "value",
            "INVALID_RESOURCE_ID",
            "Resource Id is invalid",
        );
    }
    let Some(stored) = state.patient(id) else {
        return error(
            state,
            StatusCode::NOT_FOUND,
            "not-found",
            "RESOURCE_NOT_FOUND",
            "Resource not found",
        );
    };
    let stored = if state.has(Fault::WrongPatientId) {
        state
            .patients
            .iter()
            .find(|p| p.nhs_number != id)
            .unwrap_or(stored)
    } else {
        stored
    };
    let mut response = fhir(StatusCode::OK, &stored.resource);
    let version = stored
        .resource
        .pointer("/meta/versionId")
        .and_then(Value::as_str)
        .unwrap_or("1");
    if let Ok(etag) = HeaderValue::from_str(&format!("W/\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn search_patients(state: &State, query: &str) -> Response {
    let mut identifier = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "identifier" => identifier = Some(value.into_owned()),
            "_format" => {}
            _ => {
                return error(
                    state,
                    StatusCode::BAD_REQUEST,
                    "structure",
                    "ADDITIONAL_PROPERTIES",
                    "Unsupported search parameter",
                );
            }
        }
    }
    let Some(identifier) = identifier else {
        return error(
            state,
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "Search requires an identifier",
        );
    };
    let number = match identifier.split_once('|') {
        Some((system, value)) if system == NHS_NUMBER_SYSTEM => value.to_owned(),
        Some(_) => {
            return error(
                state,
                StatusCode::BAD_REQUEST,
                "value",
                "INVALID_IDENTIFIER_SYSTEM",
                "Invalid identifier system",
            );
        }
        None => identifier.clone(),
    };
    if !nhs_number::is_valid(&number) {
        return error(
            state,
            StatusCode::BAD_REQUEST,
            "value",
            "INVALID_IDENTIFIER_VALUE",
            "Invalid NHS number",
        );
    }
    let base = format!("http://sandbox.invalid{BASE_PATH}");
    let entries: Vec<Value> = state
        .patient(&number)
        .map(|stored| {
            json!({"fullUrl": format!("{base}/Patient/{}", stored.nhs_number), "search": {"mode": "match"}, "resource": stored.resource})
        })
        .into_iter()
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{base}/Patient?identifier={NHS_NUMBER_SYSTEM}|{number}")}],
        "entry": entries
    });
    fhir(StatusCode::OK, &bundle)
}

/// Headers every response carries.
fn decorate(state: &State, request: &HeaderMap, response: &mut Response) {
    let headers = response.headers_mut();
    for name in ["x-request-id", "x-correlation-id"] {
        if name == "x-request-id" && state.has(Fault::NoRequestIdEcho) {
            continue;
        }
        if let Some(value) = request.get(name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}
