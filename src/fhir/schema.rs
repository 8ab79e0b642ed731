//! Validation against the official FHIR R4 JSON schema (vendored in `standards/fhir-r4/`).
//!
//! Each resource is validated against its own definition, never the root 146-way `oneOf`, and
//! nested resources (`Bundle.entry.resource`, `contained`, `Parameters.parameter.resource`) are
//! cut out of their parent's schema and validated on their own. That keeps a 10,000-entry Bundle
//! linear, and every error is reported where it is, as a FHIRPath-like location.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator, error::ValidationErrorKind};
use serde::Serialize;
use serde_json::{Value, json};

use super::path::{JsonPath, TypeIndex};

const SCHEMA_TEXT: &str = include_str!("../../standards/fhir-r4/fhir.schema.json");
/// Longest message kept for one schema error (values in messages can be enormous).
const MESSAGE_LIMIT: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the FHIR schema is not valid JSON")]
    Parse(#[source] serde_json::Error),
    #[error("the FHIR schema does not compile: {0}")]
    Compile(String),
}

/// One way a resource breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaIssue {
    /// FHIRPath-like location, e.g. `Bundle.entry[0].resource.ofType(Patient).gender`.
    pub location: String,
    /// JSON pointer into the body, e.g. `/entry/0/resource/gender`.
    pub pointer: String,
    pub message: String,
}

pub struct FhirSchema {
    document: Value,
    types: TypeIndex,
    resource_types: BTreeSet<String>,
    /// Validates any resource (root `oneOf`, dispatched on `resourceType`): the fast yes/no.
    any_resource: Validator,
    /// One validator per resource type, compiled on first need, for precise errors.
    per_type: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for FhirSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirSchema")
            .field("resource_types", &self.resource_types.len())
            .finish()
    }
}

static EMBEDDED: OnceLock<Result<Arc<FhirSchema>, String>> = OnceLock::new();

impl FhirSchema {
    /// The schema compiled into the binary, compiled once per process on first use.
    pub fn embedded() -> Result<Arc<FhirSchema>, String> {
        EMBEDDED
            .get_or_init(|| {
                FhirSchema::from_text(SCHEMA_TEXT)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    pub fn from_text(text: &str) -> Result<Self, SchemaError> {
        let mut document: Value = serde_json::from_str(text).map_err(SchemaError::Parse)?;
        let types = TypeIndex::from_schema(&document);
        let resource_types: BTreeSet<String> = document
            .pointer("/definitions/ResourceList/oneOf")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r.get("$ref").and_then(Value::as_str))
                    .filter_map(|r| r.strip_prefix("#/definitions/"))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        // Nested resources are validated on their own (see module docs): inside a parent they
        // only need to be objects.
        if let Some(definitions) = document
            .get_mut("definitions")
            .and_then(Value::as_object_mut)
        {
            definitions.insert("ResourceList".into(), json!({"type": "object"}));
        }
        let any_resource = compile(&document)?;
        Ok(Self {
            document,
            types,
            resource_types,
            any_resource,
            per_type: Mutex::default(),
        })
    }

    pub fn is_resource_type(&self, name: &str) -> bool {
        self.resource_types.contains(name)
    }

    pub fn type_index(&self) -> &TypeIndex {
        &self.types
    }

    fn validator_for(&self, resource_type: &str) -> Result<Arc<Validator>, SchemaError> {
        if let Some(found) = self
            .per_type
            .lock()
            .ok()
            .and_then(|m| m.get(resource_type).cloned())
        {
            return Ok(found);
        }
        let mut document = json!({ "$ref": format!("#/definitions/{resource_type}") });
        document["definitions"] = self.document["definitions"].clone();
        let validator = Arc::new(compile(&document)?);
        if let Ok(mut map) = self.per_type.lock() {
            map.insert(resource_type.to_owned(), validator.clone());
        }
        Ok(validator)
    }

    /// Validates a body that claims to be a FHIR resource, and every resource nested in it.
    pub fn validate(&self, body: &Value) -> Vec<SchemaIssue> {
        let mut issues = Vec::new();
        self.validate_at(body, &JsonPath::resource_root(body), &mut issues);
        issues
    }

    /// Fast yes/no over a resource and its nested resources.
    pub fn is_valid(&self, body: &Value) -> bool {
        let mut valid = true;
        self.visit_resources(body, &JsonPath::resource_root(body), &mut |resource, _| {
            valid &= resource
                .get("resourceType")
                .and_then(Value::as_str)
                .is_some_and(|t| self.is_resource_type(t))
                && self.any_resource.is_valid(resource);
            valid
        });
        valid
    }

    fn validate_at(&self, resource: &Value, path: &JsonPath, issues: &mut Vec<SchemaIssue>) {
        self.visit_resources(resource, path, &mut |resource, path| {
            self.validate_one(resource, path, issues);
            true
        });
    }

    /// Calls `visit` on `resource` and on every resource nested in it, until `visit` says stop.
    fn visit_resources(
        &self,
        resource: &Value,
        path: &JsonPath,
        visit: &mut dyn FnMut(&Value, &JsonPath) -> bool,
    ) {
        let mut stack = vec![(resource, path.clone())];
        while let Some((resource, path)) = stack.pop() {
            if !visit(resource, &path) {
                return;
            }
            let mut nested = Vec::new();
            collect_nested(resource, &path, true, &mut nested);
            // Reverse keeps document order when popping.
            stack.extend(nested.into_iter().rev());
        }
    }

    fn validate_one(&self, resource: &Value, path: &JsonPath, issues: &mut Vec<SchemaIssue>) {
        let issue = |message: String| SchemaIssue {
            location: path.fhirpath(),
            pointer: path.pointer(),
            message,
        };
        let Some(object) = resource.as_object() else {
            issues.push(issue(format!(
                "a resource must be a JSON object, found {}",
                kind_of(resource)
            )));
            return;
        };
        let resource_type = match object.get("resourceType") {
            Some(Value::String(name)) => name.as_str(),
            Some(other) => {
                issues.push(issue(format!(
                    "resourceType must be a string, found {}",
                    kind_of(other)
                )));
                return;
            }
            None => {
                issues.push(issue(
                    "resourceType is missing, so this is not a FHIR resource".into(),
                ));
                return;
            }
        };
        if !self.is_resource_type(resource_type) {
            issues.push(issue(format!(
                "`{}` is not a FHIR R4 resource type",
                shorten(resource_type)
            )));
            return;
        }
        if self.any_resource.is_valid(resource) {
            return;
        }
        let validator = match self.validator_for(resource_type) {
            Ok(validator) => validator,
            Err(error) => {
                issues.push(issue(format!(
                    "could not check against the schema: {error}"
                )));
                return;
            }
        };
        for error in validator.iter_errors(resource) {
            let at = path.follow(resource, error.instance_path().as_str());
            let message = shorten(&error.to_string());
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    let at = at.with_missing(name);
                    issues.push(SchemaIssue {
                        location: at.fhirpath_with(&self.types),
                        pointer: at.pointer(),
                        message: format!("required element `{name}` is missing"),
                    });
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for name in unexpected {
                        let at = at.with_missing(name);
                        issues.push(SchemaIssue {
                            location: at.fhirpath_with(&self.types),
                            pointer: at.pointer(),
                            message: format!("`{}` is not an element of this type", shorten(name)),
                        });
                    }
                }
                _ => issues.push(SchemaIssue {
                    location: at.fhirpath_with(&self.types),
                    pointer: at.pointer(),
                    message,
                }),
            }
        }
    }
}

/// Finds the resources nested directly inside `value` (not inside those nested resources).
fn collect_nested<'a>(
    value: &'a Value,
    path: &JsonPath,
    is_root: bool,
    out: &mut Vec<(&'a Value, JsonPath)>,
) {
    match value {
        Value::Object(map) => {
            if !is_root && map.contains_key("resourceType") {
                out.push((value, path.clone()));
                return;
            }
            for (key, child) in map {
                if child.is_object() || child.is_array() {
                    collect_nested(child, &path.child(key, child), false, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                if child.is_object() || child.is_array() {
                    collect_nested(child, &path.index_of(index, child), false, out);
                }
            }
        }
        _ => {}
    }
}

fn compile(document: &Value) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft6)
        .build(document)
        .map_err(|e| SchemaError::Compile(e.to_string()))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Cuts long text to a readable length, on a character boundary.
pub fn shorten(text: &str) -> String {
    if text.len() <= MESSAGE_LIMIT {
        return text.to_owned();
    }
    let mut end = MESSAGE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Arc<FhirSchema> {
        FhirSchema::embedded().unwrap()
    }

    #[test]
    fn a_valid_patient_passes() {
        let patient = json!({"resourceType": "Patient", "id": "9000000009", "gender": "female", "birthDate": "2010-10-22"});
        assert!(schema().is_valid(&patient));
        assert_eq!(schema().validate(&patient), vec![]);
    }

    #[test]
    fn errors_are_located_as_fhirpath() {
        let patient = json!({"resourceType": "Patient", "gender": "F", "birthDate": "2010/10/22", "name": [{"given": [5]}], "colour": "red"});
        let issues = schema().validate(&patient);
        let locations: BTreeSet<&str> = issues.iter().map(|i| i.location.as_str()).collect();
        assert_eq!(
            locations,
            BTreeSet::from([
                "Patient.gender",
                "Patient.birthDate",
                "Patient.name[0].given[0]",
                "Patient.colour"
            ]),
            "{issues:#?}"
        );
        assert!(!schema().is_valid(&patient));
    }

    #[test]
    fn bundle_entries_are_validated_where_they_are() {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": "https://x/Patient/1", "resource": {"resourceType": "Patient", "id": "1"}},
            {"fullUrl": "https://x/Patient/2", "resource": {"resourceType": "Patient", "id": "2", "gender": "M"}},
            {"resource": {"resourceType": "Nonsense"}}
        ]});
        let issues = schema().validate(&bundle);
        assert_eq!(issues.len(), 2, "{issues:#?}");
        assert_eq!(
            issues[0].location,
            "Bundle.entry[1].resource.ofType(Patient).gender"
        );
        assert_eq!(issues[0].pointer, "/entry/1/resource/gender");
        assert!(issues[1].message.contains("Nonsense"), "{issues:#?}");
        assert_eq!(
            issues[1].location,
            "Bundle.entry[2].resource.ofType(Nonsense)"
        );
    }

    #[test]
    fn choice_types_and_missing_elements_are_named() {
        let observation = json!({"resourceType": "Observation", "status": "final", "valueQuantity": {"value": "7.2"}});
        let issues = schema().validate(&observation);
        let locations: Vec<&str> = issues.iter().map(|i| i.location.as_str()).collect();
        assert!(
            locations.contains(&"Observation.value.ofType(Quantity).value"),
            "{issues:#?}"
        );
        assert!(locations.contains(&"Observation.code"), "{issues:#?}");
    }

    #[test]
    fn r4_capability_statements_declaring_4_0_1_are_valid() {
        let statement = json!({"resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-21",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"]});
        assert_eq!(schema().validate(&statement), vec![]);
    }

    #[test]
    fn non_resources_are_reported_not_crashed_on() {
        assert_eq!(
            schema().validate(&json!([1, 2]))[0].message,
            "a resource must be a JSON object, found an array"
        );
        assert!(
            schema().validate(&json!({"id": "x"}))[0]
                .message
                .contains("resourceType is missing")
        );
        let long_type = "X".repeat(10_000);
        let issue = &schema().validate(&json!({"resourceType": long_type}))[0];
        assert!(issue.message.len() < 400, "{}", issue.message.len());
    }

    #[test]
    fn long_messages_are_shortened_on_char_boundaries() {
        let text = "é".repeat(400);
        let short = shorten(&text);
        assert!(short.len() < text.len());
        assert!(short.ends_with("bytes)"));
    }
}
