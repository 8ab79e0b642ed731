//! Token search on the clinical record: each type's code, category and status parameters, the
//! element each searches, and FHIR's matching of `[system|]code` against a code, a Coding or a
//! CodeableConcept.
//!
//! Faults applied here: token-search-ignored (the parameters are taken, claimed in the self
//! link, and not applied).

use serde_json::Value;

use super::{Call, Fault, State};

/// The token parameters of a clinical type the sandbox serves, and the element each searches.
pub(in crate::sandbox) fn token_parameters(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "AllergyIntolerance" => &[("code", "code"), ("clinical-status", "clinicalStatus")],
        "Condition" => &[
            ("code", "code"),
            ("category", "category"),
            ("clinical-status", "clinicalStatus"),
        ],
        "Encounter" => &[("type", "type"), ("class", "class"), ("status", "status")],
        "MedicationRequest" | "MedicationStatement" => {
            &[("code", "medicationCodeableConcept"), ("status", "status")]
        }
        "Procedure" => &[("code", "code"), ("status", "status")],
        _ => &[],
    }
}

/// Whether `value` (a code, Coding, CodeableConcept or a list of them) holds `code` from
/// `system` (any system when `None`).
fn holds(value: &Value, system: Option<&str>, code: &str) -> bool {
    match value {
        Value::String(held) => system.is_none() && held == code,
        Value::Array(items) => items.iter().any(|v| holds(v, system, code)),
        Value::Object(map) => match map.get("coding") {
            Some(codings) => holds(codings, system, code),
            None => {
                map.get("code").and_then(Value::as_str) == Some(code)
                    && system.is_none_or(|s| map.get("system").and_then(Value::as_str) == Some(s))
            }
        },
        _ => false,
    }
}

/// Whether `resource` holds a token of every token parameter in the query (a comma-separated
/// value is any of its tokens).
pub(super) fn satisfies(state: &State, call: &Call, kind: &str, resource: &Value) -> bool {
    if state.has(Fault::TokenSearchIgnored) {
        return true;
    }
    token_parameters(kind).iter().all(|(param, element)| {
        call.params(param).iter().all(|text| {
            text.split(',').any(|token| {
                let (system, code) = match token.split_once('|') {
                    Some((system, code)) => (Some(system), code),
                    None => (None, token),
                };
                holds(&resource[*element], system, code)
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_codings_and_concepts_match_their_tokens() {
        let concept =
            json!({"coding": [{"system": "http://snomed.info/sct", "code": "195967001"}]});
        assert!(holds(&concept, Some("http://snomed.info/sct"), "195967001"));
        assert!(holds(&concept, None, "195967001"));
        assert!(!holds(&concept, Some("http://loinc.org"), "195967001"));
        assert!(holds(&json!("active"), None, "active"));
        assert!(!holds(&json!("active"), None, "completed"));
        assert!(holds(&json!([concept]), None, "195967001"));
    }
}
