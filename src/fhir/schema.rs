//! Validation against the official FHIR R4 JSON schema (vendored in `standards/fhir-r4/`).
//!
//! Each resource is validated against its own definition, never the root 146-way `oneOf`, and
//! nested resources (`Bundle.entry.resource`, `contained`, `Parameters.parameter.resource`) are
//! cut out of their parent's schema and validated on their own. That keeps a 10,000-entry Bundle
//! linear, and every error is reported where it is, as a FHIRPath-like location.
//!
//! The schema is compiled into a table of rules for its own few keywords (`compiled`), with its
//! string patterns checked by hand-written matchers (`primitive`); the general `jsonschema`
//! validator stays as the fallback for a schema the rules cannot express, and as the reference
//! they are tested against.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

use jsonschema::{Draft, Registry, Validator, error::ValidationErrorKind};
use serde::Serialize;
use serde_json::{Value, json};

use super::compiled::{self, CompiledSchema, Problem};
use super::path::{JsonPath, TypeIndex};
use super::primitive;

const SCHEMA_TEXT: &str = include_str!("../../standards/fhir-r4/fhir.schema.json");
/// Where the schema sits in the validator's registry.
const SCHEMA_URI: &str = "urn:mts:fhir-r4";
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
    /// The whole schema, indexed once; each per-type validator is a `$ref` into it.
    registry: Registry<'static>,
    types: TypeIndex,
    resource_types: BTreeSet<String>,
    /// Where nested resources can sit.
    routes: ResourceRoutes,
    /// The schema as a rule table, when it uses only the keywords `compiled` knows.
    compiled: Option<CompiledSchema>,
    /// Otherwise one general validator per resource type, compiled on first need (about 3 ms
    /// each).
    per_type: RwLock<HashMap<String, Arc<Validator>>>,
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
        primitive::move_known_patterns(&mut document);
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
        let compiled = CompiledSchema::compile(&document).ok();
        let registry = Registry::new()
            .draft(Draft::Draft6)
            .add(SCHEMA_URI, document)
            .and_then(|builder| builder.prepare())
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        Ok(Self {
            registry,
            routes: ResourceRoutes::from_types(&types),
            types,
            resource_types,
            compiled,
            per_type: RwLock::default(),
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
            .read()
            .ok()
            .and_then(|m| m.get(resource_type).cloned())
        {
            return Ok(found);
        }
        let reference = json!({ "$ref": format!("{SCHEMA_URI}#/definitions/{resource_type}") });
        let validator = jsonschema::options()
            .with_draft(Draft::Draft6)
            .with_registry(&self.registry)
            .with_keyword(primitive::PATTERN_KEYWORD, |_, pattern, _| {
                primitive::PatternKeyword::new(pattern)
                    .map(|keyword| Box::new(keyword) as Box<dyn for<'i> jsonschema::Keyword<'i>>)
                    .ok_or_else(|| {
                        jsonschema::ValidationError::schema("not a FHIR pattern mts can check")
                    })
            })
            .build(&reference)
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        let validator = Arc::new(validator);
        if let Ok(mut map) = self.per_type.write() {
            map.insert(resource_type.to_owned(), validator.clone());
        }
        Ok(validator)
    }

    /// Validates a body that claims to be a FHIR resource, and every resource nested in it.
    pub fn validate(&self, body: &Value) -> Vec<SchemaIssue> {
        self.validate_with(body, Engine::Best)
    }

    /// As `validate`, with the general JSON Schema validator only: the reference the compiled
    /// rules are held to (a test and the `locator` fuzz target).
    pub fn validate_with_general_validator(&self, body: &Value) -> Vec<SchemaIssue> {
        self.validate_with(body, Engine::General)
    }

    fn validate_with(&self, body: &Value, engine: Engine) -> Vec<SchemaIssue> {
        let mut issues = Vec::new();
        self.validate_at(body, &JsonPath::resource_root(body), engine, &mut issues);
        issues
    }

    /// Whether the schema compiled into rules (else every check uses the general validator).
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }

    /// Fast yes/no over a resource and its nested resources.
    pub fn is_valid(&self, body: &Value) -> bool {
        let mut valid = true;
        self.visit_resources(body, &JsonPath::resource_root(body), &mut |resource, _| {
            valid &= resource
                .get("resourceType")
                .and_then(Value::as_str)
                .is_some_and(|t| self.is_resource_type(t))
                && self.is_valid_one(resource);
            valid
        });
        valid
    }

    fn is_valid_one(&self, resource: &Value) -> bool {
        let resource_type = resource["resourceType"].as_str().unwrap_or_default();
        if let Some(valid) = self
            .compiled
            .as_ref()
            .and_then(|c| c.is_valid(resource_type, resource))
        {
            return valid;
        }
        self.validator_for(resource_type)
            .is_ok_and(|validator| validator.is_valid(resource))
    }

    fn validate_at(
        &self,
        resource: &Value,
        path: &JsonPath,
        engine: Engine,
        issues: &mut Vec<SchemaIssue>,
    ) {
        self.visit_resources(resource, path, &mut |resource, path| {
            self.validate_one(resource, path, engine, issues);
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
            if let Some(kind) = resource.get("resourceType").and_then(Value::as_str) {
                self.routes.find(resource, kind, &path, &mut nested);
            }
            // Reverse keeps document order when popping.
            stack.extend(nested.into_iter().rev());
        }
    }

    fn validate_one(
        &self,
        resource: &Value,
        path: &JsonPath,
        engine: Engine,
        issues: &mut Vec<SchemaIssue>,
    ) {
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
        if let Some(violations) = self
            .compiled
            .as_ref()
            .filter(|_| engine == Engine::Best)
            .and_then(|c| c.violations(resource_type, resource))
        {
            for violation in violations {
                let pointer = compiled::pointer(&violation.at);
                self.push_issue(resource, path, &pointer, violation.problem, issues);
            }
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
            let pointer = error.instance_path().as_str();
            let problems = match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    vec![Problem::Missing(name.to_owned())]
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    unexpected.iter().cloned().map(Problem::Unknown).collect()
                }
                _ => vec![Problem::Other(error.to_string())],
            };
            for problem in problems {
                self.push_issue(resource, path, pointer, problem, issues);
            }
        }
    }

    /// One issue, located: `pointer` leads from `resource` (at `path`) to where it is.
    fn push_issue(
        &self,
        resource: &Value,
        path: &JsonPath,
        pointer: &str,
        problem: Problem,
        issues: &mut Vec<SchemaIssue>,
    ) {
        let at = path.follow(resource, pointer);
        let (at, message) = match problem {
            Problem::Missing(name) => (
                at.with_missing(&name),
                format!("required element `{name}` is missing"),
            ),
            Problem::Unknown(name) => (
                at.with_missing(&name),
                format!("`{}` is not an element of this type", shorten(&name)),
            ),
            Problem::Other(message) => (at, shorten(&message)),
        };
        issues.push(SchemaIssue {
            location: at.fhirpath_with(&self.types),
            pointer: at.pointer(),
            message,
        });
    }
}

/// Which validator checks a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// The compiled rules when the schema compiled, else the general validator.
    Best,
    General,
}

/// Where the schema lets a resource sit inside another: per definition, the properties holding
/// a resource (`ResourceList`: `contained`, `Bundle_Entry.resource`,
/// `Parameters_Parameter.resource`…) or leading to one (`Bundle.entry`). Following only these
/// routes finds every nested resource without walking the whole body; a resource anywhere else
/// is already an error of its parent (`resourceType` is not an element there).
#[derive(Debug, Default)]
struct ResourceRoutes(HashMap<String, Vec<(String, Route)>>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// The property holds a resource (or an array of them).
    Resource,
    /// The property holds this definition, which leads further to a resource.
    Through(String),
}

impl ResourceRoutes {
    fn from_types(types: &TypeIndex) -> Self {
        const RESOURCE: &str = "ResourceList";
        // Definitions that lead to a resource, to a fixpoint (Parameters_Parameter.part recurses).
        let mut leading: BTreeSet<&str> = BTreeSet::new();
        loop {
            let before = leading.len();
            for (name, properties) in types.definitions() {
                let leads = properties.values().any(|p| {
                    p.target
                        .as_deref()
                        .is_some_and(|t| t == RESOURCE || leading.contains(t))
                });
                if leads {
                    leading.insert(name);
                }
            }
            if leading.len() == before {
                break;
            }
        }
        let mut routes = HashMap::new();
        for (name, properties) in types.definitions() {
            let mut from_here: Vec<(String, Route)> = properties
                .iter()
                .filter_map(|(property, info)| {
                    let target = info.target.as_deref()?;
                    let route = if target == RESOURCE {
                        Route::Resource
                    } else if leading.contains(target) {
                        Route::Through(target.to_owned())
                    } else {
                        return None;
                    };
                    Some((property.clone(), route))
                })
                .collect();
            if !from_here.is_empty() {
                // A stable order keeps the order of issues stable.
                from_here.sort_by(|a, b| a.0.cmp(&b.0));
                routes.insert(name.to_owned(), from_here);
            }
        }
        Self(routes)
    }

    /// The resources nested in `value` (of schema definition `definition`) along the routes,
    /// not looking inside the resources found.
    fn find<'a>(
        &self,
        value: &'a Value,
        definition: &str,
        path: &JsonPath,
        out: &mut Vec<(&'a Value, JsonPath)>,
    ) {
        let (Some(routes), Some(object)) = (self.0.get(definition), value.as_object()) else {
            return;
        };
        for (property, route) in routes {
            let Some(child) = object.get(property) else {
                continue;
            };
            let items: Vec<(&Value, JsonPath)> = match child {
                Value::Array(items) => {
                    let list = path.child(property, child);
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| (item, list.index_of(index, item)))
                        .collect()
                }
                item => vec![(item, path.child(property, item))],
            };
            for (item, at) in items {
                match route {
                    // Only objects: anything else is the parent's own type error.
                    Route::Resource if item.is_object() => out.push((item, at)),
                    Route::Resource => {}
                    Route::Through(next) => self.find(item, next, &at, out),
                }
            }
        }
    }
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
mod tests;
