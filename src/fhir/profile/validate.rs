//! Validation of a resource against a profile's snapshot: cardinality, types and type choice,
//! fixed and pattern values, slicing (value, pattern, type, profile and exists discriminators;
//! open, closed and openAtEnd), extensions against their definitions, reference targets,
//! bindings (required is an error, extensible a warning, codes outside what can be expanded
//! offline are said to be unchecked) and invariants (FHIRPath, where the engine can evaluate
//! them; the others are counted and listed, never passed silently).
//!
//! Every issue carries a FHIRPath-like location, the profile and element id, the severity and,
//! for an invariant, its key.

mod by_type;
mod claims;
mod compile;
mod primitives;
mod rules;
mod slicing;
mod values;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::snapshot::{self, SnapshotError};
use super::valueset::ValueSets;
use crate::fhir::definitions::Definitions;
use crate::fhir::fhirpath::Focus;

pub use claims::{Expectations, ProfileValidation};

/// Nesting of elements and profiles followed at most (hostile input must not exhaust the stack).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Information,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub severity: Severity,
    /// `Patient.identifier[0].system`.
    pub location: String,
    /// The profile's canonical URL.
    pub profile: String,
    /// The element definition's id (`Patient.identifier:nhsNumber.system`).
    pub element: String,
    pub message: String,
    /// An invariant's key (`ele-1`), or a short code for the rule (`cardinality`, `binding`…).
    pub rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    Required,
    Extensible,
    Other,
}

#[derive(Debug, Clone)]
struct TypeRef {
    code: String,
    profiles: Vec<String>,
    target_profiles: Vec<String>,
}

#[derive(Debug, Clone)]
struct Discriminator {
    kind: String,
    path: String,
}

#[derive(Debug, Clone)]
struct Slicing {
    discriminators: Vec<Discriminator>,
    ordered: bool,
    rules: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    pub key: String,
    pub severity: Severity,
    pub human: String,
    pub expression: String,
}

#[derive(Debug, Clone)]
struct Element {
    id: String,
    /// The last segment of the path (`value[x]`, `identifier`).
    name: String,
    slice_name: Option<String>,
    min: u32,
    max: Option<u32>,
    types: Vec<TypeRef>,
    /// `fixedUri`… as (suffix type, value).
    fixed: Option<Value>,
    pattern: Option<Value>,
    binding: Option<(Strength, String)>,
    constraints: Vec<Constraint>,
    slicing: Option<Slicing>,
    /// Children, each followed by nothing: slices are listed by `slices` of the sliced child.
    children: Vec<usize>,
    slices: Vec<usize>,
}

/// A profile's snapshot, compiled for validation.
#[derive(Debug)]
pub struct Compiled {
    url: String,
    elements: Vec<Element>,
}

/// Evaluates invariants (expression, focus, resource, root resource); `None` when the expression uses FHIRPath
/// the engine does not evaluate (it is then listed as not evaluated). Plugged in by
/// `profile::validator` with the FHIRPath engine.
pub type InvariantEngine =
    dyn Fn(&str, Focus<'_>, &Value, &Value) -> Option<Result<bool, String>> + Send + Sync;

/// Validates resources against profiles; snapshots and value-set expansions are computed once.
pub struct Validator {
    definitions: Arc<Definitions>,
    compiled: Mutex<HashMap<String, Result<Arc<Compiled>, String>>>,
    value_sets: ValueSets,
    invariants: Option<Box<InvariantEngine>>,
    /// Each primitive type's lexical rule (the `regex` extension of its `value` element).
    /// Shared, not cloned: a cloned `Regex` starts a cache of its own on every use.
    primitive_rules: Mutex<HashMap<String, Option<Arc<regex::Regex>>>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator").finish_non_exhaustive()
    }
}

/// One value of the instance, with where it is and what type it has.
#[derive(Clone, Copy)]
struct Item<'a> {
    value: &'a Value,
    /// The `_name` companion of a primitive (its id and extensions).
    companion: Option<&'a Value>,
    type_name: Option<&'a str>,
}

impl Validator {
    pub fn new(definitions: Arc<Definitions>) -> Self {
        Self {
            definitions,
            compiled: Mutex::default(),
            value_sets: ValueSets::default(),
            invariants: None,
            primitive_rules: Mutex::default(),
        }
    }

    /// Evaluates invariants with `engine` (expression, focus, resource).
    pub fn with_invariants(mut self, engine: Box<InvariantEngine>) -> Self {
        self.invariants = Some(engine);
        self
    }

    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    fn compiled(&self, url: &str) -> Result<Arc<Compiled>, String> {
        let key = url.split('|').next().unwrap_or(url).to_owned();
        if let Some(found) = self.compiled.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return found;
        }
        let result = snapshot::snapshot(&self.definitions, &key)
            .map_err(|e: SnapshotError| e.to_string())
            .and_then(|elements| {
                // Every walk starts at element 0: a profile with none (a broken guide) is
                // unusable, not a panic.
                if elements.is_empty() {
                    Err(format!("{key} has no snapshot elements"))
                } else {
                    Ok(Arc::new(Compiled::new(&key, &elements)))
                }
            });
        if let Ok(mut cache) = self.compiled.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    /// Issues of `resource` against the profile at `url` (or a core type's name).
    pub fn validate(&self, resource: &Value, url: &str) -> Vec<Issue> {
        self.validate_inside(resource, url, resource)
    }

    /// Like `validate`, for a resource contained in `root`.
    fn validate_inside(&self, resource: &Value, url: &str, root: &Value) -> Vec<Issue> {
        let mut run = Run {
            validator: self,
            issues: Vec::new(),
            resource,
            root,
            unevaluated: Default::default(),
        };
        match self.compiled(url) {
            Ok(profile) => {
                let kind = resource["resourceType"].as_str().unwrap_or("Resource");
                run.check(
                    &profile,
                    0,
                    Item {
                        value: resource,
                        companion: None,
                        type_name: Some(kind),
                    },
                    kind,
                    0,
                );
            }
            Err(why) => run.issues.push(Issue {
                severity: Severity::Error,
                location: resource["resourceType"].as_str().unwrap_or("").to_owned(),
                profile: url.to_owned(),
                element: String::new(),
                message: format!("the profile cannot be used: {why}"),
                rule: "profile".into(),
            }),
        }
        if !run.unevaluated.is_empty() {
            let keys: Vec<&str> = run.unevaluated.iter().map(String::as_str).collect();
            run.issues.push(Issue {
                severity: Severity::Information,
                location: resource["resourceType"].as_str().unwrap_or("").to_owned(),
                profile: url.to_owned(),
                element: String::new(),
                message: format!(
                    "{} invariant(s) not evaluated (no FHIRPath engine in this build): {}",
                    keys.len(),
                    keys.join(", ")
                ),
                rule: "invariant".into(),
            });
        }
        // A value is judged by its element and again by its type's definition (an
        // Attachment's size rule): one finding is said once.
        said_once(&mut run.issues);
        run.issues
    }
}

/// Keeps the first of issues with the same location, rule and message.
fn said_once(issues: &mut Vec<Issue>) {
    let mut seen = std::collections::HashSet::new();
    issues.retain(|i| seen.insert((i.location.clone(), i.rule.clone(), i.message.clone())));
}

struct Run<'v, 'r> {
    validator: &'v Validator,
    issues: Vec<Issue>,
    resource: &'r Value,
    /// The resource that contains `resource` (itself, unless `resource` is contained):
    /// FHIRPath's `%rootResource`, where `#id` references point.
    root: &'r Value,
    /// Keys of invariants met while no FHIRPath engine is plugged in: said once, not passed.
    unevaluated: std::collections::BTreeSet<String>,
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl<'v, 'r> Run<'v, 'r> {
    fn issue(
        &mut self,
        severity: Severity,
        location: &str,
        profile: &Compiled,
        element: &Element,
        rule: &str,
        message: String,
    ) {
        self.issues.push(Issue {
            severity,
            location: location.to_owned(),
            profile: profile.url.clone(),
            element: element.id.clone(),
            message,
            rule: rule.to_owned(),
        });
    }

    /// Checks one instance value against element `index` of `profile`.
    fn check(
        &mut self,
        profile: &Compiled,
        index: usize,
        item: Item<'_>,
        location: &str,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let element = &profile.elements[index];
        self.check_primitive(profile, element, item, location);
        self.check_core_rules(profile, element, item, location);
        self.check_value_rules(profile, element, item, location);
        self.check_invariants(profile, element, item, location);
        let type_name = item
            .type_name
            .or_else(|| element.types.first().map(|t| t.code.as_str()));
        if element.children.is_empty() {
            // Not expanded in this snapshot: the type's own definition (or the profile the
            // element names for it) says the rest.
            self.check_by_type(profile, element, item, type_name, location, depth);
            return;
        }
        // An extension slice shows the generic Extension children (constrained, perhaps, by
        // the profile); the extension's own definition says which nested extensions it has.
        if type_name == Some("Extension")
            && element
                .types
                .iter()
                .any(|t| t.code == "Extension" && !t.profiles.is_empty())
        {
            self.check_by_type(profile, element, item, type_name, location, depth);
        }
        let object = match (item.value, item.companion) {
            (Value::Object(_), _) => Some(item.value),
            (_, Some(companion @ Value::Object(_))) => Some(companion),
            _ => None,
        };
        let Some(object) = object else {
            return;
        };
        for &child in &element.children {
            self.check_child(profile, child, object, location, depth);
        }
        self.check_unknown_properties(profile, element, object, location);
    }
}

#[cfg(test)]
mod tests;
