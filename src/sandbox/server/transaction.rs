//! `POST [base]` with a Bundle: a `transaction` applies every entry or none; a `batch` answers
//! each entry on its own. Entries may create Observations (`POST Observation`); any other entry
//! fails.
//!
//! Faults applied here: half-applied-transaction, batch-all-or-nothing.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::data;
use super::observation::{observation_problem, store_new};
use super::response::fhir;
use super::{Call, Fault, State};

/// One entry's outcome: the new Observation's id, or the status and reason it failed.
type Outcome = Result<String, (StatusCode, String)>;

pub(super) fn bundle(state: &State, call: &Call) -> Response {
    let Ok(bundle) = serde_json::from_slice::<Value>(call.body) else {
        return state.error(
            StatusCode::BAD_REQUEST,
            "structure",
            "BAD_REQUEST",
            "The body is not valid JSON",
        );
    };
    let kind = bundle["type"].as_str().unwrap_or_default();
    if bundle["resourceType"] != "Bundle" || !matches!(kind, "transaction" | "batch") {
        return state.error(
            StatusCode::BAD_REQUEST,
            "invalid",
            "INVALID_RESOURCE",
            "POST to the base takes a transaction or batch Bundle",
        );
    }
    let entries: Vec<&Value> = bundle["entry"].as_array().into_iter().flatten().collect();
    let problems: Vec<Option<(StatusCode, String)>> =
        entries.iter().map(|e| entry_problem(state, e)).collect();
    let Ok(mut writes) = state.writes.lock() else {
        return state.store_unavailable();
    };
    let failed = problems.iter().position(Option::is_some);
    let all_or_nothing = kind == "transaction" || state.has(Fault::BatchAllOrNothing);
    if let (Some(index), true) = (failed, all_or_nothing) {
        if state.has(Fault::HalfAppliedTransaction) {
            // Applied in order until the failing entry, and never rolled back.
            for entry in &entries[..index] {
                let mut resource = entry["resource"].clone();
                store_new(&mut writes, &mut resource);
            }
        }
        let reason = problems[index]
            .as_ref()
            .map(|(_, why)| why.as_str())
            .unwrap_or_default();
        return state.error(
            StatusCode::BAD_REQUEST,
            "processing",
            "BAD_REQUEST",
            &format!("Entry {index} failed, so nothing was applied: {reason}"),
        );
    }
    let outcomes: Vec<Outcome> = entries
        .iter()
        .zip(problems)
        .map(|(entry, problem)| match problem {
            Some(failure) => Err(failure),
            None => {
                let mut resource = entry["resource"].clone();
                Ok(store_new(&mut writes, &mut resource))
            }
        })
        .collect();
    let response_entries: Vec<Value> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(id) => json!({
                "fullUrl": format!("{}/Observation/{id}", call.base),
                "response": {"status": "201 Created", "location": format!("Observation/{id}/_history/1"),
                    "etag": "W/\"1\"", "lastModified": data::LAST_UPDATED}
            }),
            Err((status, why)) => json!({"response": {
                "status": status.to_string(),
                "outcome": {"resourceType": "OperationOutcome", "issue": [
                    {"severity": "error", "code": "processing", "diagnostics": why}]}
            }}),
        })
        .collect();
    fhir(
        StatusCode::OK,
        &json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "type": format!("{kind}-response"),
            "entry": response_entries
        }),
    )
}

/// Why an entry cannot be applied, if it cannot: only `POST Observation` with a valid
/// Observation is taken.
fn entry_problem(state: &State, entry: &Value) -> Option<(StatusCode, String)> {
    let method = entry["request"]["method"].as_str().unwrap_or_default();
    let url = entry["request"]["url"].as_str().unwrap_or_default();
    if method != "POST" || url.split('?').next() != Some("Observation") {
        return Some((
            StatusCode::NOT_FOUND,
            format!("{method} {url} is not supported in a Bundle"),
        ));
    }
    observation_problem(state, &entry["resource"]).map(|p| (p.status, p.display))
}
