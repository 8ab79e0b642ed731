//! The patient compartment: `Patient/{id}/$everything`, the patient and every record that
//! refers to them.
//!
//! Faults applied here: everything-leaks.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::data;
use super::response::fhir;
use super::{Call, Fault, State};

pub(super) fn everything(state: &State, call: &Call, id: &str) -> Response {
    let Some(patient) = state.patient(id) else {
        return state.not_found();
    };
    let reference = format!("Patient/{id}");
    let leaks = state.has(Fault::EverythingLeaks);
    let belongs = |record: &Value| {
        leaks
            || record["patient"]["reference"] == reference.as_str()
            || record["subject"]["reference"] == reference.as_str()
    };
    let records = state
        .allergies
        .iter()
        .chain(&state.medications)
        .chain(state.records.values().flatten())
        .filter(|r| belongs(r));
    let entries: Vec<Value> = std::iter::once(patient)
        .chain(records)
        .map(|resource| {
            let full_url = format!(
                "{}/{}/{}",
                call.base,
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": data::LAST_UPDATED},
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{}/Patient/{id}/$everything", call.base)}],
        "entry": entries
    });
    fhir(StatusCode::OK, &bundle)
}
