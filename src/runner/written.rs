//! What a run wrote on the target, read from its recorded exchanges in one place after the
//! scenarios (no step keeps its own list): every create the server answered with a new
//! resource, every entry of a transaction or batch response that made one, and every update or
//! patch that changed a resource in place.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::catalogue::RequirementId;
use crate::fhir::reference::{is_id, is_type_name as is_type};
use crate::http::{Exchange, ExchangeId, ExchangeKind};
use crate::report::{CleanupOutcome, ScenarioResult, WriteAction, WrittenResource};
use crate::steps::TEST_IDENTIFIER_SYSTEM;

/// Every resource the exchanges wrote, once per reference, in the order of the exchanges (which
/// are ordered by id, so the list does not depend on scheduling). A created resource starts as
/// `left` until the cleanup decides; a changed one is `changed`.
pub(crate) fn written_resources(
    base_url: &str,
    exchanges: &[Arc<Exchange>],
    scenarios: &[ScenarioResult],
) -> Vec<WrittenResource> {
    let senders = senders(scenarios);
    let mut seen = BTreeSet::new();
    let mut list = Vec::new();
    for exchange in exchanges {
        for (reference, action, identifier) in writes_of(base_url, exchange) {
            if !seen.insert(reference.clone()) {
                continue;
            }
            let sender = senders.get(&exchange.id);
            list.push(WrittenResource {
                reference,
                action,
                exchange: exchange.id.clone(),
                scenario: sender.map(|(location, _)| location.clone()),
                requirements: sender.map(|(_, ids)| ids.clone()).unwrap_or_default(),
                identifier,
                outcome: match action {
                    WriteAction::Created => CleanupOutcome::Left,
                    WriteAction::Changed => CleanupOutcome::Changed,
                },
                detail: match action {
                    WriteAction::Created => Some("not cleaned up".into()),
                    WriteAction::Changed => {
                        Some("changed in place; mts deletes only what it created".into())
                    }
                },
                cleanup_exchange: None,
            });
        }
    }
    list
}

/// Which scenario sent each exchange, and its requirements.
fn senders(scenarios: &[ScenarioResult]) -> BTreeMap<&ExchangeId, (String, Vec<RequirementId>)> {
    let mut map = BTreeMap::new();
    for scenario in scenarios {
        for id in &scenario.exchanges {
            map.entry(id)
                .or_insert_with(|| (scenario.location(), scenario.requirements.clone()));
        }
    }
    map
}

type Write = (String, WriteAction, Option<String>);

/// What one exchange wrote: nothing unless the target answered 2xx.
fn writes_of(base_url: &str, exchange: &Exchange) -> Vec<Write> {
    let Some(response) = &exchange.response else {
        return Vec::new();
    };
    if exchange.kind != ExchangeKind::Fhir || !(200..300).contains(&response.status) {
        return Vec::new();
    }
    let Some(path) = relative_path(base_url, &exchange.request.url) else {
        return Vec::new();
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let request_body = exchange
        .request
        .body
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok());
    match exchange.request.method.as_str() {
        "POST" => {
            if let Some(entries) = bundle_writes(response.resource(), request_body.as_ref()) {
                return entries;
            }
            let Some(reference) = response
                .header("location")
                .and_then(reference_in)
                .or_else(|| reference_of(response.resource()))
            else {
                return Vec::new();
            };
            let type_level = matches!(segments.as_slice(), [kind] if is_type(kind));
            let sent = test_identifier(request_body.as_ref());
            // A 201 made something. A 200 may name a resource that was already there (a
            // conditional create that matched, perhaps the supplier's own record): it counts
            // only when the answer carries the test identifier this very request sent.
            let ours = sent.is_some() && test_identifier(response.resource()) == sent;
            let made = response.status == 201
                || (type_level && reference.split('/').next() == segments.first().copied() && ours);
            if !made {
                return Vec::new();
            }
            // A POST to an instance that names that same instance changed it: a create never
            // lands on an id the client chose, and the test patient must never be deleted.
            let action = if segments.len() == 2 && reference == segments.join("/") {
                WriteAction::Changed
            } else {
                WriteAction::Created
            };
            vec![(reference, action, sent)]
        }
        "PUT" | "PATCH" => {
            let reference = match segments.as_slice() {
                [kind, id] if is_type(kind) && is_id(id) => Some(format!("{kind}/{id}")),
                _ => response
                    .header("location")
                    .and_then(reference_in)
                    .or_else(|| reference_of(response.resource())),
            };
            reference
                .map(|r| vec![(r, WriteAction::Changed, None)])
                .unwrap_or_default()
        }
        "GET" => found_by_test_identifier(&exchange.request.url, response.resource()),
        _ => Vec::new(),
    }
}

/// What a search by an mts test identifier found carrying it: what the run wrote, whatever
/// answered its write (a transaction refused yet half applied, a create whose answer was lost).
fn found_by_test_identifier(url: &str, body: Option<&Value>) -> Vec<Write> {
    let Some(query) = url.split_once('?').map(|(_, q)| q) else {
        return Vec::new();
    };
    let wanted: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, value)| {
            name == "identifier" && value.starts_with(&format!("{TEST_IDENTIFIER_SYSTEM}|"))
        })
        .map(|(_, value)| value.into_owned())
        .collect();
    let Some(bundle) = body.filter(|b| b["resourceType"] == "Bundle" && !wanted.is_empty()) else {
        return Vec::new();
    };
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let resource = entry.get("resource")?;
            let identifier = test_identifier(Some(resource)).filter(|i| wanted.contains(i))?;
            Some((
                reference_of(Some(resource))?,
                WriteAction::Created,
                Some(identifier),
            ))
        })
        .collect()
}

/// The entries of a transaction or batch response that made a resource (`201` with a
/// location); `None` when the body is no such Bundle.
fn bundle_writes(body: Option<&Value>, request: Option<&Value>) -> Option<Vec<Write>> {
    let body = body.filter(|b| b["resourceType"] == "Bundle")?;
    if !matches!(
        body["type"].as_str(),
        Some("transaction-response" | "batch-response")
    ) {
        return None;
    }
    let sent = request.and_then(|r| r["entry"].as_array());
    let entries = body["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    Some(
        entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| {
                entry["response"]["status"]
                    .as_str()
                    .is_some_and(|status| status.trim_start().starts_with("201"))
            })
            .filter_map(|(index, entry)| {
                let reference = entry["response"]["location"]
                    .as_str()
                    .and_then(reference_in)?;
                // Entries of a response answer the request's entries in order.
                let identifier =
                    test_identifier(sent.and_then(|s| s.get(index)).map(|e| &e["resource"]));
                Some((reference, WriteAction::Created, identifier))
            })
            .collect(),
    )
}

/// The request's path below the FHIR base, without its query; `None` for another origin.
fn relative_path<'a>(base_url: &str, url: &'a str) -> Option<&'a str> {
    let rest = url.strip_prefix(base_url.trim_end_matches('/'))?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    Some(rest)
}

/// `Observation/123` from a Location (absolute or relative, with or without `_history`).
pub(crate) fn reference_in(location: &str) -> Option<String> {
    crate::fhir::reference::type_and_id(location)
}

/// `resourceType/id` of a returned resource.
fn reference_of(resource: Option<&Value>) -> Option<String> {
    let resource = resource?;
    let kind = resource["resourceType"].as_str().filter(|k| is_type(k))?;
    let id = resource["id"].as_str().filter(|i| is_id(i))?;
    (kind != "OperationOutcome" && kind != "Bundle").then(|| format!("{kind}/{id}"))
}

/// The mts test identifier a create carried, as `system|value`.
fn test_identifier(resource: Option<&Value>) -> Option<String> {
    crate::steps::test_identifier(resource?)
        .map(|value| format!("{TEST_IDENTIFIER_SYSTEM}|{value}"))
}

#[cfg(test)]
mod tests;
