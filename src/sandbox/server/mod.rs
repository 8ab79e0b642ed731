//! Request handling: the `State` the sandbox serves from, the parsed request (`Call`), the
//! router, and the pipeline every request takes: `handle` (body limit, path, client certificate,
//! TRACE, token endpoint, CORS preflight, then content negotiation and `dispatch`, then
//! `decorate`), `dispatch` (the endpoints, with the guard before the data resources) and
//! `resource` (the data resources by type and method). Each concern lives in its own module, with
//! the faults that break it: `guard` (who may call), `negotiate` (content negotiation, preflight,
//! TRACE), `response` (error shape and the headers every answer gets), `capability` (metadata,
//! openapi.json, _ping), `patient` (Patient, read and search by patient, searchset Bundles) and
//! `observation` (the writable Observation).
//!
//! Faults applied here: unversioned-base, no-size-limit, case-insensitive-paths, trace-enabled,
//! declared-not-implemented (also in `data.rs`, which declares the resource it then refuses),
//! server-errors.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::auth::AuthState;
use super::data;
use super::{Fault, SandboxOptions};

mod capability;
mod compartment;
mod dates;
mod guard;
mod negotiate;
mod observation;
mod patient;
mod response;
#[cfg(test)]
mod tests;
pub(super) mod tokens;
mod transaction;

pub use guard::PROVIDER_ASID;

use capability::{documented, metadata, openapi_document, ping};
use compartment::everything;
use guard::{client_certificate_registered, guard, token_endpoint};
use negotiate::{negotiate, preflight, trace_echo};
use observation::{
    Writes, create_observation, delete_observation, read_observation, search_observations,
    update_observation,
};
use patient::{read_in, read_patient, search_by_patient, search_patients};
use response::{decorate, method_not_allowed};

/// Largest request body the sandbox reads.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

pub struct State {
    faults: Vec<Fault>,
    pub(super) auth: AuthState,
    pub(super) base_path: String,
    tls: bool,
    /// Under mutual TLS, the system name client certificates must carry.
    client_name: Option<&'static str>,
    patients: Vec<(String, Value)>,
    allergies: Vec<Value>,
    medications: Vec<Value>,
    /// The rest of the clinical record, by type (`data::CLINICAL_TYPES`), each found by `subject`.
    records: std::collections::BTreeMap<&'static str, Vec<Value>>,
    writes: Mutex<Writes>,
}

/// One parsed request.
struct Call<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    segments: Vec<&'a str>,
    query: Vec<(String, String)>,
    body: &'a [u8],
    /// `http://host/FHIR/R4`, for fullUrl and Location.
    base: String,
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl State {
    pub fn new(options: &SandboxOptions) -> Self {
        let faults = options.faults.clone();
        let base_path = if faults.contains(&Fault::UnversionedBase) {
            "/fhir".to_owned()
        } else {
            super::BASE_PATH.to_owned()
        };
        let seeded = |kind: &'static str| {
            options
                .seed
                .iter()
                .filter(move |r| r["resourceType"] == kind)
                .cloned()
        };
        let mut allergies = data::allergies(&faults);
        allergies.extend(seeded("AllergyIntolerance"));
        let mut medications = data::medication_statements(&faults);
        medications.extend(seeded("MedicationStatement"));
        Self {
            patients: data::patients(&faults),
            allergies,
            medications,
            records: data::clinical_records(&faults).into_iter().collect(),
            faults,
            auth: AuthState::new(
                options.token.clone(),
                options.read_only_token.clone(),
                options
                    .client
                    .as_ref()
                    .map(|c| (c.client_id.as_str(), c.kid.as_str(), &c.key)),
                options.token_lifetime,
            )
            .with_load_token(options.load_token.clone()),
            base_path,
            tls: options.tls,
            client_name: (options.tls && options.mtls).then_some(super::CONSUMER_NAME),
            writes: Mutex::default(),
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

pub fn router(state: State) -> Router {
    let state = Arc::new(state);
    Router::new().fallback(move |request: Request| {
        let state = state.clone();
        async move { handle(&state, request).await }
    })
}

async fn handle(state: &State, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let limit = if state.has(Fault::NoSizeLimit) {
        64 * MAX_REQUEST_BODY
    } else {
        MAX_REQUEST_BODY
    };
    let body = match to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            // No Spine code is tabled for 413, so the refusal is the NHS API platform's 400.
            let mut response = state.error(
                StatusCode::BAD_REQUEST,
                "too-costly",
                "BAD_REQUEST",
                "Request body too large",
            );
            decorate(state, &parts.headers, &mut response).await;
            return response;
        }
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let lowered = parts.uri.path().to_owned();
    let path = if state.has(Fault::CaseInsensitivePaths) {
        fold_case(&lowered)
    } else {
        lowered
    };
    let mut response = match path.strip_prefix(state.base_path.as_str()) {
        _ if !client_certificate_registered(state, &parts) => state.error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "ACCESS_DENIED",
            "The client certificate is not issued to a registered consumer system",
        ),
        _ if parts.method == Method::TRACE && state.has(Fault::TraceEnabled) => trace_echo(&parts),
        _ if path == "/oauth2/token" && parts.method == Method::POST => {
            let scheme = if state.tls { "https" } else { "http" };
            token_endpoint(state, &body, &format!("{scheme}://{host}/oauth2/token"))
        }
        _ if parts.method == Method::OPTIONS && parts.headers.contains_key(header::ORIGIN) => {
            preflight(state, &parts.headers)
        }
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let call = Call {
                method: &parts.method,
                headers: &parts.headers,
                segments: rest.trim_start_matches('/').split('/').collect(),
                query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                    .into_owned()
                    .collect(),
                body: &body,
                base: format!(
                    "{}://{host}{}",
                    if state.tls { "https" } else { "http" },
                    state.base_path
                ),
            };
            match negotiate(state, &call) {
                Err(refusal) => refusal,
                Ok(()) => dispatch(state, &call),
            }
        }
        _ => state.not_found(),
    };
    decorate(state, &parts.headers, &mut response).await;
    response
}

/// Under `case-insensitive-paths`: resource names written in any case are served.
fn fold_case(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.to_ascii_lowercase().as_str() {
            "metadata" => "metadata".to_owned(),
            "patient" | "patients" => "Patient".to_owned(),
            _ => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn dispatch(state: &State, call: &Call) -> Response {
    let get = call.method == Method::GET;
    match call.segments.as_slice() {
        ["metadata"] if get => metadata(state),
        ["metadata"] => method_not_allowed(state, "GET"),
        ["openapi.json"] if get && documented(state) => openapi_document(state),
        ["_ping"] if get => ping(state),
        [""] if call.method == Method::POST => match guard(state, call) {
            Err(refusal) => refusal,
            Ok(()) => transaction::bundle(state, call),
        },
        ["_status"] if get => state.error(
            StatusCode::UNAUTHORIZED,
            "forbidden",
            "ACCESS_DENIED",
            "An API key is required",
        ),
        [kind, ..]
            if matches!(
                *kind,
                "Patient" | "AllergyIntolerance" | "MedicationStatement" | "Observation"
            ) || state.records.contains_key(kind) =>
        {
            if let Err(refusal) = guard(state, call) {
                return refusal;
            }
            resource(state, call)
        }
        ["Immunization", ..] if state.has(Fault::DeclaredNotImplemented) => state.error(
            StatusCode::NOT_FOUND,
            "not-supported",
            "RESOURCE_NOT_FOUND",
            "Resource type not supported",
        ),
        _ if state.has(Fault::ServerErrors) => state.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "INTERNAL_SERVER_ERROR",
            "Unexpected internal server error",
        ),
        _ => state.error(
            StatusCode::NOT_FOUND,
            "not-supported",
            "RESOURCE_NOT_FOUND",
            "Resource type not supported",
        ),
    }
}

fn resource(state: &State, call: &Call) -> Response {
    let method = call.method;
    match call.segments.as_slice() {
        ["Patient", id] if method == Method::GET => read_patient(state, id),
        ["Patient", id, "$everything"] if method == Method::GET => everything(state, call, id),
        ["Patient"] if method == Method::GET => search_patients(state, call),
        ["AllergyIntolerance", id] if method == Method::GET => read_in(state, &state.allergies, id),
        ["AllergyIntolerance"] if method == Method::GET => {
            search_by_patient(state, call, &state.allergies, "patient")
        }
        ["MedicationStatement", id] if method == Method::GET => {
            read_in(state, &state.medications, id)
        }
        ["MedicationStatement"] if method == Method::GET => {
            search_by_patient(state, call, &state.medications, "subject")
        }
        ["Observation"] if method == Method::POST => create_observation(state, call),
        ["Observation"] if method == Method::GET => search_observations(state, call),
        ["Observation", id] if method == Method::GET => read_observation(state, id),
        ["Observation", id] if method == Method::PUT => update_observation(state, call, id),
        ["Observation", id] if method == Method::DELETE => delete_observation(state, id),
        ["Observation", ..] => method_not_allowed(state, "GET, POST, PUT, DELETE"),
        [kind, id] if method == Method::GET && state.records.contains_key(kind) => {
            read_in(state, &state.records[kind], id)
        }
        [kind] if method == Method::GET && state.records.contains_key(kind) => {
            search_by_patient(state, call, &state.records[kind], "subject")
        }
        [_, _] | [_] => method_not_allowed(state, "GET"),
        _ => state.not_found(),
    }
}
