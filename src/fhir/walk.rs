//! Finding things anywhere in a FHIR body: resources (root and nested), codings, identifiers.

use serde_json::Value;

use super::path::JsonPath;

/// The root resource and every resource nested in it, wherever it sits, with where it is.
pub fn resources(body: &Value) -> Vec<(JsonPath, &Value)> {
    let mut out = Vec::new();
    let root = JsonPath::resource_root(body);
    if body.get("resourceType").and_then(Value::as_str).is_some() {
        out.push((root.clone(), body));
    }
    nested(body, &root, true, &mut Vec::new(), &mut out);
    out
}

/// One step down a JSON tree, borrowed: a path is only built for what is found, so walking a
/// large body allocates nothing per node.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str, &'a Value),
    Index(usize, &'a Value),
}

fn nested<'a>(
    value: &'a Value,
    start: &JsonPath,
    is_root: bool,
    steps: &mut Vec<Step<'a>>,
    out: &mut Vec<(JsonPath, &'a Value)>,
) {
    match value {
        Value::Object(map) => {
            if !is_root && map.get("resourceType").and_then(Value::as_str).is_some() {
                out.push((path_along(start, steps), value));
            }
            for (key, child) in map {
                if child.is_object() || child.is_array() {
                    steps.push(Step::Key(key, child));
                    nested(child, start, false, steps, out);
                    steps.pop();
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                if child.is_object() || child.is_array() {
                    steps.push(Step::Index(index, child));
                    nested(child, start, false, steps, out);
                    steps.pop();
                }
            }
        }
        _ => {}
    }
}

fn path_along(start: &JsonPath, steps: &[Step<'_>]) -> JsonPath {
    steps.iter().fold(start.clone(), |path, step| match *step {
        Step::Key(key, value) => path.child(key, value),
        Step::Index(index, value) => path.index_of(index, value),
    })
}

/// A `Coding` found in a body.
#[derive(Debug, Clone)]
pub struct FoundCoding<'a> {
    pub path: JsonPath,
    pub system: Option<&'a str>,
    pub code: Option<&'a str>,
    pub display: Option<&'a str>,
    /// `CodeableConcept.text` of the concept holding the coding, if any.
    pub concept_text: Option<&'a str>,
    /// The property holding the concept (`code`, `medicationCodeableConcept`…).
    pub element: String,
    /// The type of the nearest enclosing resource.
    pub resource_type: String,
}

/// Every coding (inside `CodeableConcept.coding`, or a bare `Coding` with system and code).
pub fn codings(body: &Value) -> Vec<FoundCoding<'_>> {
    let mut out = Vec::new();
    let root_type = body
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    walk_codings(
        body,
        &JsonPath::resource_root(body),
        "",
        &root_type,
        &mut out,
    );
    out
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn walk_codings<'a>(
    value: &'a Value,
    path: &JsonPath,
    element: &str,
    resource_type: &str,
    out: &mut Vec<FoundCoding<'a>>,
) {
    match value {
        Value::Object(map) => {
            let resource_type = map
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or(resource_type);
            if let Some(items) = map.get("coding").and_then(Value::as_array) {
                for (index, coding) in items.iter().enumerate() {
                    out.push(FoundCoding {
                        path: path.child("coding", &Value::Null).index(index),
                        system: text(coding, "system"),
                        code: text(coding, "code"),
                        display: text(coding, "display").filter(|d| !d.trim().is_empty()),
                        concept_text: text(value, "text").filter(|t| !t.trim().is_empty()),
                        element: element.to_owned(),
                        resource_type: resource_type.to_owned(),
                    });
                }
            } else if text(value, "system").is_some()
                && text(value, "code").is_some()
                && !map.contains_key("value")
            {
                out.push(FoundCoding {
                    path: path.clone(),
                    system: text(value, "system"),
                    code: text(value, "code"),
                    display: text(value, "display").filter(|d| !d.trim().is_empty()),
                    concept_text: None,
                    element: element.to_owned(),
                    resource_type: resource_type.to_owned(),
                });
            }
            for (key, child) in map {
                if key != "coding" && (child.is_object() || child.is_array()) {
                    walk_codings(child, &path.child(key, child), key, resource_type, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_codings(
                    child,
                    &path.index_of(index, child),
                    element,
                    resource_type,
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Every `Identifier`-shaped object (`system` and `value`), with the enclosing resource type and
/// the property holding it.
pub fn identifiers(body: &Value) -> Vec<(JsonPath, String, String, &Value)> {
    let mut out = Vec::new();
    let root_type = body
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    walk_identifiers(
        body,
        &JsonPath::resource_root(body),
        "",
        &root_type,
        &mut out,
    );
    out
}

fn walk_identifiers<'a>(
    value: &'a Value,
    path: &JsonPath,
    element: &str,
    resource_type: &str,
    out: &mut Vec<(JsonPath, String, String, &'a Value)>,
) {
    match value {
        Value::Object(map) => {
            let resource_type = map
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or(resource_type);
            if text(value, "system").is_some()
                && map.contains_key("value")
                && !map.contains_key("code")
            {
                out.push((
                    path.clone(),
                    resource_type.to_owned(),
                    element.to_owned(),
                    value,
                ));
            }
            for (key, child) in map {
                if child.is_object() || child.is_array() {
                    walk_identifiers(child, &path.child(key, child), key, resource_type, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_identifiers(
                    child,
                    &path.index_of(index, child),
                    element,
                    resource_type,
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Every string value of a `system` key anywhere in the body.
pub fn systems(body: &Value) -> Vec<(JsonPath, &str)> {
    let mut out = Vec::new();
    walk_systems(body, &JsonPath::resource_root(body), &mut out);
    out
}

fn walk_systems<'a>(value: &'a Value, path: &JsonPath, out: &mut Vec<(JsonPath, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child {
                    Value::String(system) if key == "system" => {
                        out.push((path.child(key, child), system))
                    }
                    Value::Object(_) | Value::Array(_) => {
                        walk_systems(child, &path.child(key, child), out)
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_systems(child, &path.index_of(index, child), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn codings_carry_their_context() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MedicationStatement",
            "medicationCodeableConcept": {"text": "Paracetamol", "coding": [{"system": "https://dmd.nhs.uk", "code": "322236009"}]},
            "meta": {"security": [{"system": "http://x", "code": "R"}]}}}]});
        let found = codings(&bundle);
        assert_eq!(found.len(), 2);
        let medication = found
            .iter()
            .find(|c| c.element == "medicationCodeableConcept")
            .unwrap();
        assert_eq!(medication.resource_type, "MedicationStatement");
        assert_eq!(medication.concept_text, Some("Paracetamol"));
        assert_eq!(
            medication.path.fhirpath(),
            "Bundle.entry[0].resource.ofType(MedicationStatement).medicationCodeableConcept.coding[0]"
        );
        assert_eq!(resources(&bundle).len(), 2);
    }

    #[test]
    fn identifiers_and_systems_are_found() {
        let patient = json!({"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}],
            "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"}}]});
        let found = identifiers(&patient);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].2, "identifier");
        assert_eq!(systems(&patient).len(), 2);
    }
}
