//! Observation, the one writable resource: the write store (`Writes`), read, search by
//! identifier, create and update (body parsing and validation, idempotent retry by
//! X-Request-ID, If-None-Exist, If-Match, Prefer), and delete (what mts's cleanup sends).
//!
//! Faults applied here: ignores-content-type, accepts-unknown-elements, duplicate-on-retry,
//! prefer-ignored, if-match-ignored, if-none-exist-ignored, drops-elements-on-write.

// Refusals are ready-made responses; boxing them would only add noise to a test server.
#![expect(clippy::result_large_err)]

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::data;
use super::patient::searchset;
use super::response::{build, fhir, with_etag};
use super::{Call, Fault, State};

const OBSERVATION_PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation";

/// A stored answer: status, headers, body.
type StoredAnswer = (StatusCode, Vec<(String, String)>, Vec<u8>);

#[derive(Default)]
pub(super) struct Writes {
    next_id: u64,
    observations: HashMap<String, Value>,
    /// Create answers by X-Request-ID, so a retry gets the original answer (API-HDR-004).
    creates: HashMap<String, StoredAnswer>,
}

pub(super) fn read_observation(state: &State, id: &str) -> Response {
    let found = state
        .writes
        .lock()
        .ok()
        .and_then(|w| w.observations.get(id).cloned());
    match found {
        Some(resource) => with_etag(fhir(StatusCode::OK, &resource), &resource, false),
        None => state.not_found(),
    }
}

pub(super) fn search_observations(state: &State, call: &Call) -> Response {
    let wanted = call.params("identifier").first().map(|i| (*i).to_owned());
    let Some(wanted) = wanted else {
        return state.error(
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "Search by identifier is required",
        );
    };
    let (system, value) = wanted.split_once('|').unwrap_or(("", wanted.as_str()));
    let resources: Vec<Value> = state
        .writes
        .lock()
        .map(|w| {
            let mut found: Vec<Value> = w
                .observations
                .values()
                .filter(|o| {
                    o["identifier"].as_array().is_some_and(|ids| {
                        ids.iter().any(|i| {
                            i["value"] == value && (system.is_empty() || i["system"] == system)
                        })
                    })
                })
                .cloned()
                .collect();
            found.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            found
        })
        .unwrap_or_default();
    searchset(
        state,
        call,
        "Observation",
        resources,
        Some(&["identifier", "_count", "_offset", "_format"]),
    )
}

fn parse_observation(state: &State, call: &Call) -> Result<Value, Response> {
    let media = call
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(media.as_str(), "application/fhir+json" | "application/json")
        && !state.has(Fault::IgnoresContentType)
    {
        return Err(state.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            "UNSUPPORTED_MEDIA_TYPE",
            "Send application/fhir+json",
        ));
    }
    let Ok(value) = serde_json::from_slice::<Value>(call.body) else {
        return Err(state.error(
            StatusCode::BAD_REQUEST,
            "structure",
            "BAD_REQUEST",
            "The body is not valid JSON",
        ));
    };
    match observation_problem(state, &value) {
        Some(problem) => Err(state.error(
            problem.status,
            problem.issue,
            "INVALID_RESOURCE",
            &problem.display,
        )),
        None => Ok(value),
    }
}

/// Why an Observation body cannot be stored.
pub(super) struct Problem {
    pub status: StatusCode,
    pub issue: &'static str,
    pub display: String,
}

/// The first reason `value` is no Observation the sandbox stores: invalid against the FHIR R4
/// schema (unless `accepts-unknown-elements`), or without status and code.
pub(super) fn observation_problem(state: &State, value: &Value) -> Option<Problem> {
    let schema_problems = if state.has(Fault::AcceptsUnknownElements) {
        Vec::new()
    } else {
        crate::fhir::schema::FhirSchema::embedded()
            .map(|schema| schema.validate(value))
            .unwrap_or_default()
    };
    if let Some(problem) = schema_problems.first() {
        return Some(Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            issue: "structure",
            display: format!(
                "Invalid resource: {}: {}",
                problem.location, problem.message
            ),
        });
    }
    if value["resourceType"] != "Observation"
        || value.get("code").is_none()
        || value.get("status").is_none()
    {
        return Some(Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            issue: "invalid",
            display: "An Observation with status and code is required".into(),
        });
    }
    None
}

/// What Prefer asks a write to return (default `return=representation`).
fn prefer_body(state: &State, call: &Call, resource: &Value) -> Option<Vec<u8>> {
    let prefer = call
        .header("prefer")
        .unwrap_or("")
        .replace(' ', "")
        .to_ascii_lowercase();
    if prefer.contains("return=minimal") && !state.has(Fault::PreferIgnored) {
        None
    } else if prefer.contains("return=operationoutcome") && !state.has(Fault::PreferIgnored) {
        Some(json!({"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": "Done"}]}).to_string().into_bytes())
    } else {
        Some(resource.to_string().into_bytes())
    }
}

pub(super) fn create_observation(state: &State, call: &Call) -> Response {
    let request_id = call.header("x-request-id").unwrap_or_default().to_owned();
    if !state.has(Fault::DuplicateOnRetry)
        && let Some((status, headers, body)) = state
            .writes
            .lock()
            .ok()
            .and_then(|w| w.creates.get(&request_id).cloned())
    {
        return build(
            status,
            &headers,
            if body.is_empty() { None } else { Some(body) },
        );
    }
    let mut resource = match parse_observation(state, call) {
        Ok(resource) => resource,
        Err(refusal) => return refusal,
    };
    let Ok(mut writes) = state.writes.lock() else {
        return state.store_unavailable();
    };
    if let Some(condition) = call.header("if-none-exist")
        && !state.has(Fault::IfNoneExistIgnored)
        && let Some(answer) = conditional_create(state, &writes, condition)
    {
        return answer;
    }
    if state.has(Fault::DropsElementsOnWrite)
        && let Some(map) = resource.as_object_mut()
    {
        map.retain(|key, _| !key.starts_with("value"));
    }
    let id = store_new(&mut writes, &mut resource);
    let mut headers = vec![("etag".to_owned(), "W/\"1\"".to_owned())];
    if !state.has(Fault::PreferIgnored) {
        headers.push((
            "location".to_owned(),
            format!("{}/Observation/{id}/_history/1", call.base),
        ));
    }
    let body = prefer_body(state, call, &resource);
    writes.creates.insert(
        request_id,
        (
            StatusCode::CREATED,
            headers.clone(),
            body.clone().unwrap_or_default(),
        ),
    );
    build(StatusCode::CREATED, &headers, body)
}

/// Stores a new Observation as version 1, giving it its id and meta; returns the id.
pub(super) fn store_new(writes: &mut Writes, resource: &mut Value) -> String {
    writes.next_id += 1;
    let id = format!("obs-{}", writes.next_id);
    resource["id"] = json!(id);
    resource["meta"] = json!({"versionId": "1", "lastUpdated": data::LAST_UPDATED, "profile": [OBSERVATION_PROFILE]});
    writes.observations.insert(id.clone(), resource.clone());
    id
}

/// FHIR R4 conditional create (http.html): If-None-Exist names an identifier; one stored
/// Observation carries it → the create is ignored with 200 and that resource; several → 412;
/// none → `None`, and the create goes ahead.
fn conditional_create(state: &State, writes: &Writes, condition: &str) -> Option<Response> {
    let Some(token) = condition.strip_prefix("identifier=") else {
        return Some(state.error(
            StatusCode::BAD_REQUEST,
            "not-supported",
            "UNSUPPORTED_SERVICE",
            "If-None-Exist supports identifier only",
        ));
    };
    let (system, value) = token.split_once('|').unwrap_or(("", token));
    let matching: Vec<&Value> = writes
        .observations
        .values()
        .filter(|o| {
            o["identifier"].as_array().is_some_and(|ids| {
                ids.iter()
                    .any(|i| i["value"] == value && (system.is_empty() || i["system"] == system))
            })
        })
        .collect();
    match matching.as_slice() {
        [] => None,
        [one] => Some(fhir(StatusCode::OK, one)),
        _ => Some(state.error(
            StatusCode::PRECONDITION_FAILED,
            "duplicate",
            "PRECONDITION_FAILED",
            "If-None-Exist matches more than one resource",
        )),
    }
}

pub(super) fn update_observation(state: &State, call: &Call, id: &str) -> Response {
    let mut resource = match parse_observation(state, call) {
        Ok(resource) => resource,
        Err(refusal) => return refusal,
    };
    let Ok(mut writes) = state.writes.lock() else {
        return state.store_unavailable();
    };
    let Some(current) = writes.observations.get(id).cloned() else {
        return state.not_found();
    };
    let version: u64 = current
        .pointer("/meta/versionId")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if !state.has(Fault::IfMatchIgnored) {
        match call.header("if-match") {
            // GP Connect answers a missing If-Match with 409; the NHS API platform with 412.
            None if call.headers.contains_key("ssp-traceid") => {
                return state.error(
                    StatusCode::CONFLICT,
                    "conflict",
                    "RESOURCE_VERSION_MISMATCH",
                    "If-Match is required",
                );
            }
            None => {
                return state.error(
                    StatusCode::PRECONDITION_FAILED,
                    "required",
                    "PRECONDITION_FAILED",
                    "If-Match is required",
                );
            }
            Some(tag) if tag.trim() != format!("W/\"{version}\"") => {
                return state.error(
                    StatusCode::CONFLICT,
                    "conflict",
                    "RESOURCE_VERSION_MISMATCH",
                    "The resource has changed",
                );
            }
            Some(_) => {}
        }
    }
    if state.has(Fault::DropsElementsOnWrite)
        && let Some(map) = resource.as_object_mut()
    {
        map.retain(|key, _| !key.starts_with("value"));
    }
    resource["id"] = json!(id);
    resource["meta"] = json!({"versionId": (version + 1).to_string(), "lastUpdated": data::LAST_UPDATED, "profile": [OBSERVATION_PROFILE]});
    writes.observations.insert(id.to_owned(), resource.clone());
    let headers = vec![("etag".to_owned(), format!("W/\"{}\"", version + 1))];
    build(
        StatusCode::OK,
        &headers,
        prefer_body(state, call, &resource),
    )
}

/// FHIR R4 delete: 204, after which the resource reads 404; an id the store does not hold
/// (never created, or deleted already) is 404, which FHIR allows.
pub(super) fn delete_observation(state: &State, id: &str) -> Response {
    let removed = state
        .writes
        .lock()
        .ok()
        .and_then(|mut w| w.observations.remove(id));
    match removed {
        Some(_) => build(StatusCode::NO_CONTENT, &[], None),
        None => state.not_found(),
    }
}
