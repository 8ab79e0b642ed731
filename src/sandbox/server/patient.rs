//! Patient read and search, the clinical resources read and searched by patient
//! (AllergyIntolerance, MedicationStatement: `read_in`, `search_by_patient`), and the searchset
//! Bundle every search answers with (`searchset`: paging, fullUrls, the self link; Observation
//! search uses it too).
//!
//! Faults applied here: invalid-nhs-number-404, reflects-input, wrong-patient-id, etag-mismatch,
//! unknown-param-in-self-link, strict-handling-ignored, lenient-tokens,
//! imprecise-identifier-search, identifier-or, date-prefix-ignored,
//! clinical-search-ignores-patient, dangling-reference (also in `data.rs`, which makes the
//! dangling resource), empty-search-404, paging-duplicates, relative-full-url,
//! bundle-id-not-trace-id.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::data;
use super::response::{fhir, with_etag};
use super::{Call, Fault, State};
use crate::fhir::{NHS_NUMBER_SYSTEM, nhs_number};

impl State {
    pub(super) fn patient(&self, nhs_number: &str) -> Option<&Value> {
        self.patients
            .iter()
            .find(|(n, _)| n == nhs_number)
            .map(|(_, p)| p)
    }

    /// The clinical records of `kind` the sandbox serves, and the field naming their patient.
    pub(super) fn records_of(&self, kind: &str) -> Option<(&[Value], &'static str)> {
        match kind {
            "AllergyIntolerance" => Some((&self.allergies, "patient")),
            "MedicationStatement" => Some((&self.medications, "subject")),
            _ => self
                .records
                .get(kind)
                .map(|list| (list.as_slice(), "subject")),
        }
    }
}

/// What a searchset brings beside its matches (`search.mode` include).
enum Include<'a> {
    Nothing,
    /// The patients the page's matches refer to through this field (`_include`).
    Patients(&'a str),
    /// Records that refer to the matches (`_revinclude`).
    Records(Vec<Value>),
}

/// The records of each `_revinclude=<kind>:<param>` that refer to one of `patients`: `param`
/// is `patient`, or the field the kind names its patient by; `Err` with a value the sandbox
/// does not take. Under `revinclude-leaks` every record of the kind comes.
fn revincluded(state: &State, call: &Call, patients: &[Value]) -> Result<Vec<Value>, String> {
    let mut found = Vec::new();
    for value in call.params("_revinclude") {
        let (kind, param) = value.split_once(':').unwrap_or((value, ""));
        let Some((records, field)) = state
            .records_of(kind)
            .filter(|(_, field)| param == "patient" || param == *field)
        else {
            return Err(value.to_owned());
        };
        for record in records {
            let owner = record[field]["reference"].as_str().unwrap_or_default();
            let theirs = patients.iter().any(|p| {
                p["id"]
                    .as_str()
                    .is_some_and(|id| owner == format!("Patient/{id}"))
            });
            if theirs || state.has(Fault::RevincludeLeaks) {
                found.push(record.clone());
            }
        }
    }
    Ok(found)
}

pub(super) fn read_patient(state: &State, id: &str) -> Response {
    if !nhs_number::is_valid(id) {
        if state.has(Fault::InvalidNhsNumber404) {
            return state.not_found();
        }
        let display = if state.has(Fault::ReflectsInput) {
            format!("Resource Id {id} is invalid")
        } else {
            "Resource Id is invalid".to_owned()
        };
        return state.error(
            StatusCode::BAD_REQUEST,
            "value",
            "INVALID_RESOURCE_ID",
            &display,
        );
    }
    let Some(patient) = state.patient(id) else {
        return state.not_found();
    };
    let patient = if state.has(Fault::WrongPatientId) {
        state
            .patients
            .iter()
            .find(|(n, _)| n != id)
            .map_or(patient, |(_, p)| p)
    } else {
        patient
    };
    with_etag(
        fhir(StatusCode::OK, patient),
        patient,
        state.has(Fault::EtagMismatch),
    )
}

pub(super) fn read_in(state: &State, list: &[Value], id: &str) -> Response {
    match list.iter().find(|r| r["id"] == id) {
        Some(resource) => with_etag(fhir(StatusCode::OK, resource), resource, false),
        None => state.not_found(),
    }
}

/// `[prefix]YYYY[-MM[-DD]]` → (prefix, lower bound, upper bound) as comparable strings.
pub(super) fn date_range(text: &str) -> Option<(&str, String, String)> {
    let (prefix, date) = match text.get(..2) {
        Some(p @ ("eq" | "ne" | "gt" | "lt" | "ge" | "le")) => (p, &text[2..]),
        _ => ("eq", text),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let numeric = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    let (low, high) = match parts.as_slice() {
        [y] if numeric(y, 4) => (format!("{y}-01-01"), format!("{y}-12-31")),
        [y, m] if numeric(y, 4) && numeric(m, 2) && ("01"..="12").contains(m) => {
            (format!("{y}-{m}-01"), format!("{y}-{m}-31"))
        }
        [y, m, d]
            if numeric(y, 4)
                && numeric(m, 2)
                && numeric(d, 2)
                && ("01"..="12").contains(m)
                && ("01"..="31").contains(d) =>
        {
            (date.to_owned(), date.to_owned())
        }
        _ => return None,
    };
    Some((prefix, low, high))
}

pub(super) fn date_matches(value: &str, prefix: &str, low: &str, high: &str) -> bool {
    match prefix {
        "eq" => value >= low && value <= high,
        "ne" => value < low || value > high,
        "gt" => value > high,
        "lt" => value < low,
        "ge" => value >= low,
        "le" => value <= high,
        _ => false,
    }
}

pub(super) fn search_patients(state: &State, call: &Call) -> Response {
    const KNOWN: &[&str] = &[
        "identifier",
        "family",
        "given",
        "gender",
        "birthdate",
        "_id",
        "_revinclude",
        "_count",
        "_offset",
        "_format",
    ];
    let strict = call
        .header("prefer")
        .is_some_and(|p| p.replace(' ', "").contains("handling=strict"));
    // FHIR's default is to ignore unknown parameters (strict only on request); the sandbox,
    // like PDS, rejects them. The faults switch to lenient handling.
    let lenient = (state.has(Fault::UnknownParamInSelfLink) && !strict)
        || state.has(Fault::StrictHandlingIgnored);
    for (name, _) in &call.query {
        if !KNOWN.contains(&name.as_str()) && !lenient {
            return state.error(
                StatusCode::BAD_REQUEST,
                "structure",
                "ADDITIONAL_PROPERTIES",
                "Unsupported search parameter",
            );
        }
    }
    let mut matches: Vec<&Value> = state.patients.iter().map(|(_, p)| p).collect();
    let mut criteria = 0;
    let mut identifiers: Vec<&str> = Vec::new();
    for identifier in call.params("identifier") {
        criteria += 1;
        let (system, value) = match identifier.split_once('|') {
            Some((system, value)) => (Some(system), value),
            None => (None, identifier),
        };
        if !state.has(Fault::LenientTokens) {
            if system.is_some_and(|s| s != NHS_NUMBER_SYSTEM) {
                return state.error(
                    StatusCode::BAD_REQUEST,
                    "value",
                    "INVALID_IDENTIFIER_SYSTEM",
                    "Invalid identifier system",
                );
            }
            if !nhs_number::is_valid(value) {
                if state.has(Fault::InvalidNhsNumber404) {
                    return state.not_found();
                }
                return state.error(
                    StatusCode::BAD_REQUEST,
                    "value",
                    "INVALID_IDENTIFIER_VALUE",
                    "Invalid NHS number",
                );
            }
        }
        identifiers.push(value);
    }
    // Repeated identifiers are ANDed (FHIR R4); the faults search imprecisely or OR them.
    if !identifiers.is_empty() && !state.has(Fault::ImpreciseIdentifierSearch) {
        if state.has(Fault::IdentifierOr) {
            matches.retain(|p| identifiers.iter().any(|v| p["id"] == *v));
        } else {
            for value in &identifiers {
                matches.retain(|p| p["id"] == *value);
            }
        }
    }
    for id in call.params("_id") {
        criteria += 1;
        matches.retain(|p| p["id"] == id);
    }
    for family in call.params("family") {
        criteria += 1;
        let family = family.to_lowercase();
        matches.retain(|p| {
            p.pointer("/name/0/family")
                .and_then(Value::as_str)
                .is_some_and(|f| f.to_lowercase().starts_with(&family))
        });
    }
    for given in call.params("given") {
        criteria += 1;
        let given = given.to_lowercase();
        matches.retain(|p| {
            p.pointer("/name/0/given/0")
                .and_then(Value::as_str)
                .is_some_and(|g| g.to_lowercase().starts_with(&given))
        });
    }
    for gender in call.params("gender") {
        criteria += 1;
        matches.retain(|p| p["gender"] == gender);
    }
    for birthdate in call.params("birthdate") {
        criteria += 1;
        let Some((prefix, low, high)) = date_range(birthdate) else {
            return state.error(
                StatusCode::BAD_REQUEST,
                "value",
                "INVALID_SEARCH_DATA",
                "Invalid birthdate",
            );
        };
        let prefix = if state.has(Fault::DatePrefixIgnored) {
            "eq"
        } else {
            prefix
        };
        matches.retain(|p| {
            p["birthDate"]
                .as_str()
                .is_some_and(|b| date_matches(b, prefix, &low, &high))
        });
    }
    if criteria == 0 {
        return state.error(
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "A search needs at least one criterion",
        );
    }
    let resources: Vec<Value> = matches.into_iter().cloned().collect();
    let records = match revincluded(state, call, &resources) {
        Ok(records) => records,
        Err(value) => {
            let display = if state.has(Fault::ReflectsInput) {
                format!("Unsupported _revinclude {value}")
            } else {
                "Unsupported _revinclude".to_owned()
            };
            return state.error(
                StatusCode::BAD_REQUEST,
                "not-supported",
                "INVALID_SEARCH_DATA",
                &display,
            );
        }
    };
    searchset_including(
        state,
        call,
        "Patient",
        resources,
        if state.has(Fault::UnknownParamInSelfLink) {
            None
        } else {
            Some(KNOWN)
        },
        Include::Records(records),
    )
}

pub(super) fn search_by_patient(
    state: &State,
    call: &Call,
    list: &[Value],
    field: &str,
) -> Response {
    const KNOWN: &[&str] = &[
        "patient",
        "_include",
        "_lastUpdated",
        "_count",
        "_offset",
        "_format",
    ];
    let kind = list
        .first()
        .and_then(|r| r["resourceType"].as_str())
        .unwrap_or("Resource")
        .to_owned();
    let date_param = super::dates::date_parameter(&kind).map(|(param, _)| param);
    let tokens = super::tokens::token_parameters(&kind);
    let is_token = |name: &str| tokens.iter().any(|(param, _)| *param == name);
    if call.query.iter().any(|(n, _)| {
        !KNOWN.contains(&n.as_str()) && Some(n.as_str()) != date_param && !is_token(n)
    }) {
        return state.error(
            StatusCode::BAD_REQUEST,
            "structure",
            "ADDITIONAL_PROPERTIES",
            "Unsupported search parameter",
        );
    }
    let Some(patient) = call
        .params("patient")
        .first()
        .map(|p| p.trim_start_matches("Patient/").to_owned())
    else {
        return state.error(
            StatusCode::BAD_REQUEST,
            "required",
            "MISSING_VALUE",
            "Search by patient is required",
        );
    };
    let reference = format!("Patient/{patient}");
    let resources: Vec<Value> = list
        .iter()
        .filter(|r| {
            state.has(Fault::ClinicalSearchIgnoresPatient)
                || r[field]["reference"] == reference.as_str()
                || (state.has(Fault::DanglingReference)
                    && patient == "9000000009"
                    && r[field]["reference"] == "Patient/9999999999")
        })
        .cloned()
        .collect();
    let mut dated = Vec::with_capacity(resources.len());
    for resource in resources {
        let within = super::dates::satisfies(state, call, &kind, &resource).and_then(|dated| {
            Ok(dated && super::dates::last_updated_satisfies(state, call, &resource)?)
        });
        match within {
            Ok(true) => dated.push(resource),
            Ok(false) => {}
            Err(text) => {
                let display = if state.has(Fault::ReflectsInput) {
                    format!("Invalid date {text}")
                } else {
                    "Invalid date".to_owned()
                };
                return state.error(
                    StatusCode::BAD_REQUEST,
                    "value",
                    "INVALID_SEARCH_DATA",
                    &display,
                );
            }
        }
    }
    let resources: Vec<Value> = dated
        .into_iter()
        .filter(|r| super::tokens::satisfies(state, call, &kind, r))
        .collect();
    let honoured: Vec<&str> = KNOWN
        .iter()
        .copied()
        .chain(date_param)
        .chain(tokens.iter().map(|(param, _)| *param))
        .collect();
    // The one `_include` declared: `<kind>:patient`, the patient each record refers to.
    let include = if call
        .params("_include")
        .iter()
        .any(|i| *i == format!("{kind}:patient"))
    {
        Include::Patients(field)
    } else {
        Include::Nothing
    };
    searchset_including(state, call, &kind, resources, Some(&honoured), include)
}

/// A searchset Bundle with paging (`_count`, `_offset`), absolute fullUrls and a self link that
/// lists only the parameters honoured.
pub(super) fn searchset(
    state: &State,
    call: &Call,
    kind: &str,
    resources: Vec<Value>,
    honoured: Option<&[&str]>,
) -> Response {
    searchset_including(state, call, kind, resources, honoured, Include::Nothing)
}

/// A searchset that also holds, marked `include`, what `include` brings: the patients the
/// page's matches refer to (`broken-include` leaves them out), or the records referring to them.
fn searchset_including(
    state: &State,
    call: &Call,
    kind: &str,
    resources: Vec<Value>,
    honoured: Option<&[&str]>,
    include: Include<'_>,
) -> Response {
    if resources.is_empty() && state.has(Fault::EmptySearch404) {
        return state.error(
            StatusCode::NOT_FOUND,
            "not-found",
            "RESOURCE_NOT_FOUND",
            "No match",
        );
    }
    let total = resources.len();
    let count = call
        .params("_count")
        .first()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 50);
    let offset = call
        .params("_offset")
        .first()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let offset = if state.has(Fault::PagingDuplicates) {
        0
    } else {
        offset
    };
    let page: Vec<&Value> = resources.iter().skip(offset).take(count).collect();
    let params: Vec<(String, String)> = call
        .query
        .iter()
        .filter(|(n, _)| n != "_offset" && honoured.is_none_or(|known| known.contains(&n.as_str())))
        .cloned()
        .collect();
    let link = |offset: usize| {
        let mut query: Vec<String> = params
            .iter()
            .map(|(n, v)| format!("{n}={}", encode(state, v)))
            .collect();
        if offset > 0 {
            query.push(format!("_offset={offset}"));
        }
        format!("{}/{kind}?{}", call.base, query.join("&"))
    };
    let mut links = vec![json!({"relation": "self", "url": link(offset)})];
    if offset + count < total
        || (state.has(Fault::PagingDuplicates)
            && count < total
            && call.params("_offset").is_empty())
    {
        links.push(json!({"relation": "next", "url": link(offset + count)}));
    }
    let relative = state.has(Fault::RelativeFullUrl);
    let mut included: Vec<Value> = Vec::new();
    match include {
        Include::Patients(field) if !state.has(Fault::BrokenInclude) => {
            for resource in &page {
                let reference = resource[field]["reference"].as_str().unwrap_or_default();
                if let Some(patient) = reference
                    .strip_prefix("Patient/")
                    .and_then(|id| state.patient(id))
                    && !included.iter().any(|p| p["id"] == patient["id"])
                {
                    included.push(patient.clone());
                }
            }
        }
        Include::Records(records) => included = records,
        Include::Patients(_) | Include::Nothing => {}
    }
    let included: Vec<Value> = included
        .into_iter()
        .map(|resource| {
            let url = format!(
                "{}/{}/{}",
                call.base,
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": url, "resource": resource, "search": {"mode": "include"}})
        })
        .collect();
    let mut entries: Vec<Value> = page
        .iter()
        .map(|resource| {
            let id = resource["id"].as_str().unwrap_or_default();
            let full_url = if relative {
                format!("{kind}/{id}")
            } else {
                format!("{}/{kind}/{id}", call.base)
            };
            let mut entry = json!({"fullUrl": full_url, "resource": resource});
            if !relative {
                entry["search"] = json!({"mode": "match"});
            }
            entry
        })
        .collect();
    entries.extend(included);
    let id = match call.header("ssp-traceid") {
        Some(trace) if !state.has(Fault::BundleIdNotTraceId) => trace.to_owned(),
        _ => uuid::Uuid::new_v4().to_string(),
    };
    let bundle = json!({
        "resourceType": "Bundle",
        "id": id,
        "meta": {"lastUpdated": data::LAST_UPDATED},
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries
    });
    fhir(StatusCode::OK, &bundle)
}

fn encode(state: &State, value: &str) -> String {
    if state.has(Fault::ReflectsInput) {
        return value.to_owned();
    }
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace("%7C", "|")
}
