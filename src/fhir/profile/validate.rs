//! Validation of a resource against a profile's snapshot: cardinality, types and type choice,
//! fixed and pattern values, slicing (value, pattern, type, profile and exists discriminators;
//! open, closed and openAtEnd), extensions against their definitions, reference targets,
//! bindings (required is an error, extensible a warning, codes outside what can be expanded
//! offline are said to be unchecked) and invariants (FHIRPath, where the engine can evaluate
//! them; the others are counted and listed, never passed silently).
//!
//! Every issue carries a FHIRPath-like location, the profile and element id, the severity and,
//! for an invariant, its key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::snapshot::{self, SnapshotError};
use super::valueset::{Expansion, ValueSets};
use crate::fhir::definitions::Definitions;
use crate::fhir::fhirpath::Focus;

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

impl Compiled {
    fn new(url: &str, snapshot: &[Value]) -> Self {
        let mut elements: Vec<Element> = snapshot.iter().map(compile_element).collect();
        let ids: Vec<String> = elements.iter().map(|e| e.id.clone()).collect();
        let index: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        for (position, id) in ids.iter().enumerate() {
            let Some((parent, last)) = id.rsplit_once('.') else {
                continue;
            };
            if let Some((sliced, _)) = last.split_once(':') {
                // A slice: listed under the element it slices.
                if let Some(&sliced_index) = index.get(format!("{parent}.{sliced}").as_str()) {
                    elements[sliced_index].slices.push(position);
                }
            } else if let Some(&parent_index) = index.get(parent) {
                elements[parent_index].children.push(position);
            }
        }
        Self {
            url: url.to_owned(),
            elements,
        }
    }
}

fn compile_element(element: &Value) -> Element {
    let path = element["path"].as_str().unwrap_or("");
    let value_of = |prefix: &str| {
        element.as_object().and_then(|map| {
            map.iter()
                .find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
                .map(|(_, v)| v.clone())
        })
    };
    let strength = |s: &str| match s {
        "required" => Strength::Required,
        "extensible" => Strength::Extensible,
        _ => Strength::Other,
    };
    Element {
        id: element["id"].as_str().unwrap_or(path).to_owned(),
        name: path.rsplit('.').next().unwrap_or(path).to_owned(),
        slice_name: element["sliceName"].as_str().map(str::to_owned),
        min: element["min"]
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(0),
        max: match element["max"].as_str() {
            Some("*") | None => None,
            Some(n) => n.parse().ok(),
        },
        types: element["type"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| TypeRef {
                code: t["code"].as_str().unwrap_or("").to_owned(),
                profiles: strings(&t["profile"]),
                target_profiles: strings(&t["targetProfile"]),
            })
            .collect(),
        fixed: value_of("fixed"),
        pattern: value_of("pattern"),
        binding: element["binding"]["valueSet"].as_str().map(|vs| {
            (
                strength(element["binding"]["strength"].as_str().unwrap_or("")),
                vs.to_owned(),
            )
        }),
        constraints: element["constraint"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some(Constraint {
                    key: c["key"].as_str()?.to_owned(),
                    severity: if c["severity"] == "warning" {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    human: c["human"].as_str().unwrap_or("").to_owned(),
                    expression: c["expression"].as_str()?.to_owned(),
                })
            })
            .collect(),
        slicing: element.get("slicing").map(|s| Slicing {
            discriminators: s["discriminator"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| Discriminator {
                    kind: d["type"].as_str().unwrap_or("").to_owned(),
                    path: d["path"].as_str().unwrap_or("").to_owned(),
                })
                .collect(),
            ordered: s["ordered"] == true,
            rules: s["rules"].as_str().unwrap_or("open").to_owned(),
        }),
        children: Vec::new(),
        slices: Vec::new(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
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

    /// The lexical rule of a primitive type, anchored, from its definition; `None` for a type
    /// with none (or not a primitive).
    fn primitive_rule(&self, type_name: &str) -> Option<Arc<regex::Regex>> {
        if let Some(found) = self
            .primitive_rules
            .lock()
            .ok()
            .and_then(|rules| rules.get(type_name).cloned())
        {
            return found;
        }
        let rule = self
            .definitions
            .structure(type_name)
            .and_then(|sd| {
                sd["snapshot"]["element"]
                    .as_array()?
                    .iter()
                    .find(|e| e["id"].as_str() == Some(&format!("{type_name}.value")))
                    .cloned()
            })
            .and_then(|value| {
                value["type"][0]["extension"]
                    .as_array()?
                    .iter()
                    .find(|e| e["url"] == "http://hl7.org/fhir/StructureDefinition/regex")
                    .and_then(|e| e["valueString"].as_str())
                    .map(str::to_owned)
            })
            .and_then(|pattern| {
                // The patterns are Java's: `\s` and `\S` are ASCII there, Unicode here (a
                // no-break space is `\s` to Rust and not to Java, and R4's string rule
                // `[ \r\n\t\S]+` would refuse "O\u{a0}Brien"). HL7's validator reads the
                // string rule as "anything, not empty"; the others get ASCII classes.
                let pattern = if pattern == "[ \\r\\n\\t\\S]+" {
                    "(?s:.+)".to_owned()
                } else {
                    pattern
                        .replace("\\S", "[^ \\t\\n\\r\\f\\x0B]")
                        .replace("\\s", "[ \\t\\n\\r\\f\\x0B]")
                };
                regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(1 << 22)
                    .build()
                    .ok()
                    .map(Arc::new)
            });
        if let Ok(mut rules) = self.primitive_rules.lock() {
            rules.insert(type_name.to_owned(), rule.clone());
        }
        rule
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

    /// Issues of `resource` against its core type and every profile it claims in
    /// `meta.profile`; unknown claimed profiles are warned about.
    pub fn validate_claims(&self, resource: &Value) -> Vec<Issue> {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        self.validate_claims_nested(resource, kind, resource, 0)
    }
}

/// Keeps the first of issues with the same location, rule and message.
fn said_once(issues: &mut Vec<Issue>) {
    let mut seen = std::collections::HashSet::new();
    issues.retain(|i| seen.insert((i.location.clone(), i.rule.clone(), i.message.clone())));
}

/// What, beyond its core type and the profiles it claims, a resource is held to.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// A profile per resource type (`Patient` → UK Core's Patient): the one a guide or the API
    /// declares for resources of that type.
    pub by_type: std::collections::BTreeMap<String, String>,
    /// Profiles every top-level resource is validated against.
    pub always: Vec<String>,
    /// A second profile per resource type: the one the API itself declares (its
    /// CapabilityStatement's `rest.resource.profile`), held to besides `by_type`.
    pub declared: std::collections::BTreeMap<String, String>,
}

/// What holding resources to profiles found: the issues, and how many (resource, profile)
/// pairs were judged (none: there was nothing to hold them to).
#[derive(Debug, Default)]
pub struct ProfileValidation {
    pub judged: usize,
    pub issues: Vec<Issue>,
}

impl Validator {
    /// Issues of `resource` against its core type, the profiles it claims, the profile its type
    /// is expected to meet and `always`; each resource a Bundle holds is held to its claims and
    /// its type's profile too (its core type is already judged inside the Bundle's). Locations
    /// of entries read `Bundle.entry[2].resource.ofType(Patient).name`.
    pub fn validate_with(&self, resource: &Value, expected: &Expectations) -> Vec<Issue> {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        let mut issues = self.validate(resource, kind);
        issues.extend(self.validate_profiles(resource, expected).issues);
        if kind == "StructureDefinition" {
            issues.extend(self.check_differential(resource));
        }
        // An extension is held to its definition, and an inherited invariant evaluated, under
        // the core type and again under each profile: the same finding is said once, under the
        // first profile that found it.
        said_once(&mut issues);
        issues
    }

    /// A StructureDefinition published with a differential only: its snapshot must be
    /// generable over its base (a broken guide otherwise validates nothing).
    fn check_differential(&self, sd: &Value) -> Vec<Issue> {
        let Some(url) = sd["url"].as_str() else {
            return Vec::new();
        };
        if !sd["differential"]["element"].is_array() || sd["snapshot"]["element"].is_array() {
            return Vec::new();
        }
        let mut definitions = Definitions::clone(&self.definitions);
        if definitions.add(sd.clone()).is_err() {
            return Vec::new();
        }
        match snapshot::snapshot(&definitions, url) {
            Ok(_) => Vec::new(),
            Err(error) => vec![Issue {
                // A base definition not held here is mts's limit, not the guide's fault.
                severity: if matches!(error, SnapshotError::Unknown(_)) {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                location: "StructureDefinition.differential".into(),
                profile: "StructureDefinition".into(),
                element: "StructureDefinition.differential".into(),
                message: format!("no snapshot can be generated: {error}"),
                rule: "snapshot".into(),
            }],
        }
    }

    /// Like `validate_with`, without the core types: only the profiles claimed, expected for
    /// the type, and `always`. A claimed profile not known here is a warning.
    pub fn validate_profiles(
        &self,
        resource: &Value,
        expected: &Expectations,
    ) -> ProfileValidation {
        let mut found = ProfileValidation::default();
        let kind = resource["resourceType"].as_str().unwrap_or("");
        let mut urls = self.profiles_for(resource, expected);
        for url in &expected.always {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        self.hold(resource, kind, &urls, None, &mut found);
        if kind == "Bundle" {
            for (index, entry) in resource["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let inner = &entry["resource"];
                let Some(inner_kind) = inner["resourceType"].as_str() else {
                    continue;
                };
                let urls = self.profiles_for(inner, expected);
                let prefix = format!("Bundle.entry[{index}].resource.ofType({inner_kind})");
                self.hold(inner, inner_kind, &urls, Some(&prefix), &mut found);
            }
        }
        found
    }

    /// The profiles `resource` claims, then the one expected of its type.
    fn profiles_for(&self, resource: &Value, expected: &Expectations) -> Vec<String> {
        let mut urls = claimed_profiles(resource);
        let kind = resource["resourceType"].as_str().unwrap_or("");
        for url in [expected.by_type.get(kind), expected.declared.get(kind)]
            .into_iter()
            .flatten()
        {
            // `…/UKCore-Patient|2.0.2` and `…/UKCore-Patient` are one profile, held to once.
            let bare = |u: &str| u.split('|').next().unwrap_or(u).to_owned();
            if !urls.iter().any(|held| bare(held) == bare(url)) {
                urls.push(url.clone());
            }
        }
        urls
    }

    fn hold(
        &self,
        resource: &Value,
        kind: &str,
        urls: &[String],
        prefix: Option<&str>,
        found: &mut ProfileValidation,
    ) {
        for url in urls {
            let issues = if self.definitions.structure(url).is_some() {
                found.judged += 1;
                self.validate(resource, url)
            } else {
                vec![unknown_profile(kind, url)]
            };
            found.issues.extend(issues.into_iter().map(|mut issue| {
                if let Some(prefix) = prefix {
                    let rest = issue.location.strip_prefix(kind).unwrap_or("");
                    issue.location = format!("{prefix}{rest}");
                }
                issue
            }));
        }
    }
}

fn claimed_profiles(resource: &Value) -> Vec<String> {
    resource["meta"]["profile"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|url| url.split('|').next().unwrap_or(url).to_owned())
        .collect()
}

fn unknown_profile(kind: &str, url: &str) -> Issue {
    Issue {
        severity: Severity::Warning,
        location: format!("{kind}.meta.profile"),
        profile: url.to_owned(),
        element: String::new(),
        message: format!(
            "claims the profile {url}, which is not known here: not validated against it"
        ),
        rule: "profile".into(),
    }
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

/// Whether a type code is a FHIR primitive (lower-case first letter, or a FHIRPath system type).
fn is_primitive(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        || code.starts_with("http://hl7.org/fhirpath/")
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

    /// Rules R4 states in prose rather than as invariants: a Coding's system is an absolute URI
    /// naming a code system (not a value set); an Attachment's size is the size of its data; a
    /// Bundle entry's fullUrl is absolute.
    fn check_core_rules(
        &mut self,
        profile: &Compiled,
        element: &Element,
        item: Item<'_>,
        location: &str,
    ) {
        let mut found = Vec::new();
        match item.type_name {
            Some("Coding") => {
                if let Some(system) = item.value["system"].as_str() {
                    if !system.contains(':') {
                        found.push(format!(
                            "Coding.system must be an absolute URI, not {system:?}"
                        ));
                    } else if self.validator.definitions.value_set(system).is_some()
                        && self.validator.definitions.code_system(system).is_none()
                    {
                        found.push(format!(
                            "Coding.system names a value set, not a code system: {system}"
                        ));
                    }
                }
            }
            Some("Attachment") => {
                if let (Some(data), Some(size)) =
                    (item.value["data"].as_str(), item.value["size"].as_u64())
                {
                    use base64::Engine as _;
                    let compact: String = data.split_whitespace().collect();
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact)
                        && bytes.len() as u64 != size
                    {
                        found.push(format!(
                            "the stated size {size} is not the size of the data ({} bytes)",
                            bytes.len()
                        ));
                    }
                }
            }
            _ => {}
        }
        if element.id == "Bundle.entry"
            && let Some(full_url) = item.value["fullUrl"].as_str()
            && !full_url.contains(':')
        {
            found.push(format!("fullUrl must be an absolute URL, not {full_url:?}"));
        }
        for message in found {
            self.issue(Severity::Error, location, profile, element, "rule", message);
        }
    }

    /// An extension is used where its definition's contexts allow. Judged only where the place
    /// is known: on a resource's element, or on a complex type (whose path in the resource the
    /// walk does not carry, so any context of that type is taken); never on a primitive.
    fn check_extension_context(
        &mut self,
        profile: &Compiled,
        element: &Element,
        url: &str,
        location: &str,
    ) {
        // HL7's own R4 snapshots carry its tooling extensions (structuredefinition-fhir-type
        // on ElementDefinition.type) outside their declared contexts, and HL7's validator
        // accepts that: those are not judged.
        if url.starts_with("http://hl7.org/fhir/StructureDefinition/structuredefinition-") {
            return;
        }
        let definitions = &self.validator.definitions;
        let Some(contexts) = definitions
            .structure(url)
            .and_then(|sd| sd["context"].as_array().cloned())
        else {
            return;
        };
        let path: Vec<&str> = element
            .id
            .split('.')
            .map(|step| step.split(':').next().unwrap_or(step))
            .collect();
        let Some((last, parent)) = path.split_last() else {
            return;
        };
        if !matches!(*last, "extension" | "modifierExtension") || parent.is_empty() {
            return;
        }
        if parent[0].starts_with(|c: char| c.is_ascii_lowercase()) {
            return;
        }
        let parent_path = parent.join(".");
        // The element types a context expression (`HumanName.family`, `Patient`) names.
        // `None` when the expression names nothing mts can resolve (a slice, an R5 path, a
        // guide's own form): then the place cannot be judged against it.
        let types_of = |expression: &str| -> Option<Vec<String>> {
            let (root, rest) = expression.split_once('.').unwrap_or((expression, ""));
            if rest.is_empty() {
                return definitions.structure(root).map(|_| vec![root.to_owned()]);
            }
            definitions.element(root, rest).map(|info| info.types)
        };
        let Some(parent_types) = (if parent.len() == 1 {
            Some(vec![parent[0].to_owned()])
        } else {
            types_of(&parent_path)
        }) else {
            return;
        };
        let allowed = contexts.iter().any(|context| {
            let Some(expression) = context["expression"].as_str() else {
                return true;
            };
            if context["type"] != "element" {
                return true;
            }
            if matches!(
                expression,
                "Element" | "Resource" | "DomainResource" | "BackboneElement"
            ) || expression == parent_path
            {
                return true;
            }
            let Some(context_types) = types_of(expression) else {
                return true;
            };
            parent_types.iter().any(|parent_type| {
                context_types.contains(parent_type)
                    || (parent.len() == 1 && expression == parent_type)
                    || definitions.derives_from(parent_type, expression)
            })
        });
        if !allowed {
            let names: Vec<&str> = contexts
                .iter()
                .filter_map(|c| c["expression"].as_str())
                .collect();
            self.issue(
                Severity::Error,
                location,
                profile,
                element,
                "extension",
                format!(
                    "the extension {url} is not allowed on {parent_path}: its contexts are {}",
                    names.join(", ")
                ),
            );
        }
    }

    /// Properties no child element defines (`unknownElement`): FHIR JSON allows none.
    fn check_unknown_properties(
        &mut self,
        profile: &Compiled,
        element: &Element,
        object: &Value,
        location: &str,
    ) {
        let Some(map) = object.as_object() else {
            return;
        };
        let names: Vec<&str> = element
            .children
            .iter()
            .map(|&c| profile.elements[c].name.as_str())
            .collect();
        for key in map.keys() {
            let name = key.strip_prefix('_').unwrap_or(key);
            let known = name == "resourceType"
                || name == "fhir_comments"
                || names.contains(&name)
                || names.iter().any(|n| {
                    n.strip_suffix("[x]").is_some_and(|stem| {
                        name.strip_prefix(stem)
                            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
                    })
                });
            if !known {
                self.issue(
                    Severity::Error,
                    &format!("{location}.{key}"),
                    profile,
                    element,
                    "structure",
                    format!("{key} is not an element of {}", element.id),
                );
            }
        }
    }

    /// A primitive's JSON form (string, number or boolean) and its type's lexical rule; a
    /// resource's own id by the `id` rule (R4's snapshots type it as a plain string).
    fn check_primitive(
        &mut self,
        profile: &Compiled,
        element: &Element,
        item: Item<'_>,
        location: &str,
    ) {
        let Some(type_name) = item
            .type_name
            .or_else(|| element.types.first().map(|t| t.code.as_str()))
        else {
            return;
        };
        if item.value.is_null() || item.value.is_object() || item.value.is_array() {
            return;
        }
        let resource_id = element.id.strip_suffix(".id").is_some_and(|root| {
            !root.contains('.') && self.validator.definitions.is_resource_type(root)
        });
        let type_name = if resource_id {
            "id"
        } else {
            type_name
                .strip_prefix("http://hl7.org/fhirpath/System.")
                .map_or(type_name, |_| "string")
        };
        if !self.validator.definitions.is_primitive_type(type_name) {
            return;
        }
        let kind_ok = match type_name {
            "boolean" => item.value.is_boolean(),
            "integer" | "positiveInt" | "unsignedInt" | "decimal" | "integer64" => {
                item.value.is_number()
            }
            _ => item.value.is_string(),
        };
        if !kind_ok {
            self.issue(
                Severity::Error,
                location,
                profile,
                element,
                "type",
                format!("a {type_name} cannot be the JSON value {}", item.value),
            );
            return;
        }
        let Some(text) = item.value.as_str() else {
            return;
        };
        if let Some(rule) = self.validator.primitive_rule(type_name)
            && !rule.is_match(text)
        {
            let shown: String = text.chars().take(64).collect();
            self.issue(
                Severity::Error,
                location,
                profile,
                element,
                "format",
                format!("{shown:?} is not a valid {type_name}"),
            );
        }
    }

    /// The values of one child element in `object`, their cardinality and their slices.
    fn check_child(
        &mut self,
        profile: &Compiled,
        child: usize,
        object: &Value,
        location: &str,
        depth: usize,
    ) {
        let element = &profile.elements[child];
        let items = values_of(object, element);
        // Declared types of a choice: a value of another type is not allowed by the profile.
        if element.name.ends_with("[x]") {
            for (item, key) in &items {
                let allowed = item.type_name.is_some_and(|t| {
                    element
                        .types
                        .iter()
                        .any(|a| upper_first(&a.code) == upper_first(t))
                });
                if !allowed {
                    let names: Vec<&str> = element.types.iter().map(|t| t.code.as_str()).collect();
                    self.issue(
                        Severity::Error,
                        &format!("{location}.{key}"),
                        profile,
                        element,
                        "type",
                        format!(
                            "{key} is not allowed here: the profile allows {}",
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        let count = items.len() as u32;
        let name = element.name.trim_end_matches("[x]");
        if count < element.min {
            self.issue(
                Severity::Error,
                &format!("{location}.{name}"),
                profile,
                element,
                "cardinality",
                format!(
                    "{} is required at least {} time(s) and occurs {count} time(s)",
                    name, element.min
                ),
            );
        }
        if let Some(max) = element.max
            && count > max
        {
            self.issue(
                Severity::Error,
                &format!("{location}.{name}"),
                profile,
                element,
                "cardinality",
                format!("{name} may occur at most {max} time(s) and occurs {count} time(s)"),
            );
        }
        let repeats = element.max != Some(1) && element.max != Some(0);
        let located = |position: usize, key: &str| -> String {
            if repeats {
                format!("{location}.{key}[{position}]")
            } else {
                format!("{location}.{key}")
            }
        };
        if element.slicing.is_none() || element.slices.is_empty() {
            for (position, (item, key)) in items.iter().enumerate() {
                let at = located(position, key);
                self.check(profile, child, *item, &at, depth + 1);
            }
            return;
        }
        let Some(slicing) = element.slicing.clone() else {
            return;
        };
        let mut per_slice = vec![0u32; element.slices.len()];
        let mut last_slice = 0usize;
        for (position, (item, key)) in items.iter().enumerate() {
            let at = located(position, key);
            let matched = element
                .slices
                .iter()
                .position(|&slice| self.matches_slice(profile, slice, &slicing, *item, depth));
            match matched {
                Some(which) => {
                    per_slice[which] += 1;
                    if slicing.ordered && which < last_slice {
                        self.issue(Severity::Error, &at, profile, element, "slicing",
                            format!("slices of {name} are ordered, and this one comes after a later slice"));
                    }
                    last_slice = which;
                    self.check(profile, element.slices[which], *item, &at, depth + 1);
                }
                None => {
                    match slicing.rules.as_str() {
                        "closed" => self.issue(Severity::Error, &at, profile, element, "slicing",
                            format!("{name} is closed to values outside its slices, and this one matches none ({})",
                                element.slices.iter().filter_map(|&s| profile.elements[s].slice_name.clone()).collect::<Vec<_>>().join(", "))),
                        "openAtEnd" if per_slice.iter().any(|&n| n > 0) && position + 1 < items.len()
                            && items[position + 1..].iter().any(|(next, _)| element.slices.iter().any(|&s| self.matches_slice(profile, s, &slicing, *next, depth))) =>
                            self.issue(Severity::Error, &at, profile, element, "slicing",
                                format!("{name} allows values outside its slices only at the end")),
                        _ => {}
                    }
                    self.check(profile, child, *item, &at, depth + 1);
                }
            }
        }
        for (which, &slice) in element.slices.iter().enumerate() {
            let slice_element = &profile.elements[slice];
            let count = per_slice[which];
            let label = slice_element.slice_name.clone().unwrap_or_default();
            if count < slice_element.min {
                self.issue(Severity::Error, &format!("{location}.{name}"), profile, slice_element, "cardinality",
                    format!("the slice {name}:{label} is required at least {} time(s) and occurs {count} time(s)", slice_element.min));
            }
            if let Some(max) = slice_element.max
                && count > max
            {
                self.issue(Severity::Error, &format!("{location}.{name}"), profile, slice_element, "cardinality",
                    format!("the slice {name}:{label} may occur at most {max} time(s) and occurs {count} time(s)"));
            }
        }
    }

    /// Whether a value belongs to a slice, by every discriminator of the slicing.
    fn matches_slice(
        &self,
        profile: &Compiled,
        slice: usize,
        slicing: &Slicing,
        item: Item<'_>,
        depth: usize,
    ) -> bool {
        let slice_element = &profile.elements[slice];
        slicing
            .discriminators
            .iter()
            .all(|discriminator| match discriminator.kind.as_str() {
                "value" | "pattern" => {
                    let Some(expected) = self.expected_at(profile, slice, &discriminator.path)
                    else {
                        return false;
                    };
                    let actual = at_path(item.value, &discriminator.path);
                    actual.iter().any(|a| {
                        if discriminator.kind == "value" {
                            *a == &expected || contains_pattern(a, &expected)
                        } else {
                            contains_pattern(a, &expected)
                        }
                    })
                }
                "type" => {
                    let actual = item.type_name.map(upper_first);
                    slice_element
                        .types
                        .iter()
                        .any(|t| Some(upper_first(&t.code)) == actual)
                }
                "exists" => {
                    let present = !at_path(item.value, &discriminator.path).is_empty();
                    let required = self
                        .element_at(profile, slice, &discriminator.path)
                        .is_some_and(|e| profile.elements[e].min > 0);
                    present == required
                }
                "profile" => {
                    let profiles: Vec<String> = slice_element
                        .types
                        .iter()
                        .flat_map(|t| t.profiles.clone())
                        .collect();
                    profiles.iter().any(|url| {
                        depth < MAX_DEPTH
                            && self
                                .validator
                                .validate(item.value, url)
                                .iter()
                                .all(|i| i.severity != Severity::Error)
                    })
                }
                _ => false,
            })
    }

    /// The element below `from` at a dotted path, in this snapshot.
    fn element_at(&self, profile: &Compiled, from: usize, path: &str) -> Option<usize> {
        self.elements_at(profile, from, path).first().copied()
    }

    /// The elements below `from` at a dotted path: where the path crosses a sliced element, its
    /// slices too (the bp profile's `code.coding.code` is fixed in the slice `coding:SBPCode`).
    fn elements_at(&self, profile: &Compiled, from: usize, path: &str) -> Vec<usize> {
        if path == "$this" {
            return vec![from];
        }
        let mut current = vec![from];
        for segment in path.split('.') {
            let mut next = Vec::new();
            for &at in &current {
                for &child in &profile.elements[at].children {
                    let name = &profile.elements[child].name;
                    let named = name == segment
                        || name
                            .strip_suffix("[x]")
                            .is_some_and(|stem| segment.starts_with(stem));
                    if named {
                        next.push(child);
                        next.extend(profile.elements[child].slices.iter().copied());
                    }
                }
            }
            if next.is_empty() {
                return next;
            }
            current = next;
        }
        current
    }

    /// The fixed or pattern value a slice gives at a discriminator path: in this snapshot, or in
    /// the profile its type names (an extension's url).
    fn expected_at(&self, profile: &Compiled, slice: usize, path: &str) -> Option<Value> {
        for at in self.elements_at(profile, slice, path) {
            let element = &profile.elements[at];
            if let Some(found) = element.fixed.clone().or_else(|| element.pattern.clone()) {
                return Some(found);
            }
        }
        let slice_element = &profile.elements[slice];
        for type_ref in &slice_element.types {
            for url in &type_ref.profiles {
                // An extension's url is its definition's canonical URL.
                if path == "url" && type_ref.code == "Extension" {
                    return Some(Value::String(
                        url.split('|').next().unwrap_or(url).to_owned(),
                    ));
                }
                if let Ok(other) = self.validator.compiled(url)
                    && let Some(at) = self.element_at(&other, 0, path)
                {
                    let element = &other.elements[at];
                    if let Some(found) = element.fixed.clone().or_else(|| element.pattern.clone()) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// Fixed, pattern, binding and reference target of one value.
    fn check_value_rules(
        &mut self,
        profile: &Compiled,
        element: &Element,
        item: Item<'_>,
        location: &str,
    ) {
        if let Some(fixed) = &element.fixed
            && item.value != fixed
        {
            self.issue(
                Severity::Error,
                location,
                profile,
                element,
                "fixed",
                format!("must be exactly {fixed}, and is {}", shorten(item.value)),
            );
        }
        if let Some(pattern) = &element.pattern
            && !contains_pattern(item.value, pattern)
        {
            self.issue(
                Severity::Error,
                location,
                profile,
                element,
                "pattern",
                format!(
                    "must match the pattern {pattern}, and is {}",
                    shorten(item.value)
                ),
            );
        }
        if let Some((strength, value_set)) = &element.binding
            && *strength != Strength::Other
        {
            self.check_binding(profile, element, *strength, value_set, item, location);
        }
        let targets: Vec<&String> = element
            .types
            .iter()
            .filter(|t| t.code == "Reference")
            .flat_map(|t| t.target_profiles.iter())
            .collect();
        if !targets.is_empty()
            && let Some(reference) = item.value["reference"].as_str()
            && let Some(kind) = reference_type(reference)
        {
            let allowed: Vec<String> = targets
                .iter()
                .filter_map(|url| self.profile_type(url))
                .collect();
            if !allowed.is_empty() && !allowed.iter().any(|a| a == "Resource" || *a == kind) {
                self.issue(
                    Severity::Error,
                    location,
                    profile,
                    element,
                    "reference",
                    format!(
                        "refers to a {kind}, and may refer only to {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    /// The resource type a profile (or core type URL) constrains.
    fn profile_type(&self, url: &str) -> Option<String> {
        self.validator
            .definitions
            .structure(url)
            .and_then(|sd| sd["type"].as_str())
            .map(str::to_owned)
    }

    fn check_binding(
        &mut self,
        profile: &Compiled,
        element: &Element,
        strength: Strength,
        value_set: &str,
        item: Item<'_>,
        location: &str,
    ) {
        let codings: Vec<(Option<&str>, &str)> = match item.value {
            Value::String(code) => vec![(None, code.as_str())],
            Value::Object(map) => {
                if let Some(code) = map.get("code").and_then(Value::as_str) {
                    vec![(map.get("system").and_then(Value::as_str), code)]
                } else {
                    map.get("coding")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|c| Some((c["system"].as_str(), c["code"].as_str()?)))
                        .collect()
                }
            }
            _ => Vec::new(),
        };
        if codings.is_empty() {
            // A CodeableConcept with text only: extensible bindings allow it, required ones do not.
            if strength == Strength::Required && item.value.get("text").is_some() {
                self.issue(
                    Severity::Error,
                    location,
                    profile,
                    element,
                    "binding",
                    format!("has text but no code from the required value set {value_set}"),
                );
            }
            return;
        }
        let expansion = self
            .validator
            .value_sets
            .expand(&self.validator.definitions, value_set);
        let inside = codings
            .iter()
            .map(|(system, code)| expansion.contains(*system, code))
            .collect::<Vec<_>>();
        match &*expansion {
            Expansion::NotOffline(why) => self.issue(
                Severity::Information,
                location,
                profile,
                element,
                "binding",
                format!("the binding to {value_set} is not checked offline: {why}"),
            ),
            Expansion::Codes(_) => {
                if !inside.contains(&Some(true)) {
                    let shown: Vec<String> = codings
                        .iter()
                        .map(|(s, c)| {
                            format!("{}{c}", s.map(|s| format!("{s}|")).unwrap_or_default())
                        })
                        .collect();
                    let (severity, word) = if strength == Strength::Required {
                        (Severity::Error, "required")
                    } else {
                        (Severity::Warning, "extensible")
                    };
                    self.issue(
                        severity,
                        location,
                        profile,
                        element,
                        "binding",
                        format!(
                            "{} is not in the {word} value set {value_set}",
                            shown.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn check_invariants(
        &mut self,
        profile: &Compiled,
        element: &Element,
        item: Item<'_>,
        location: &str,
    ) {
        let Some(engine) = &self.validator.invariants else {
            self.unevaluated
                .extend(element.constraints.iter().map(|c| c.key.clone()));
            return;
        };
        let focus = Focus {
            value: item.value,
            companion: item.companion,
            type_name: item.type_name,
            path: Some(&element.id),
        };
        let mut found = Vec::new();
        let contained = !std::ptr::eq(self.resource, self.root);
        for constraint in &element.constraints {
            // dom-6 (narrative, a best practice) is for the resource exchanged, not for the
            // resources it contains, as HL7's validator reads it.
            if contained && constraint.key == "dom-6" {
                continue;
            }
            match engine(&constraint.expression, focus, self.resource, self.root) {
                Some(Ok(true)) => {}
                Some(Ok(false)) => found.push((
                    constraint.severity,
                    constraint.key.clone(),
                    format!("breaks {}: {}", constraint.key, constraint.human),
                )),
                Some(Err(why)) => found.push((
                    Severity::Information,
                    constraint.key.clone(),
                    format!(
                        "the invariant {} could not be evaluated: {why}",
                        constraint.key
                    ),
                )),
                None => found.push((
                    Severity::Information,
                    constraint.key.clone(),
                    format!(
                        "the invariant {} is not evaluated (unsupported FHIRPath): {}",
                        constraint.key, constraint.expression
                    ),
                )),
            }
        }
        for (severity, key, message) in found {
            self.issue(severity, location, profile, element, &key, message);
        }
    }

    /// A value whose element the snapshot does not expand: checked against the profile its type
    /// names, or an extension against its definition, or a complex type against the core type, or
    /// a contained resource against its own type.
    fn check_by_type(
        &mut self,
        profile: &Compiled,
        element: &Element,
        item: Item<'_>,
        type_name: Option<&str>,
        location: &str,
        depth: usize,
    ) {
        let Some(type_name) = type_name else {
            return;
        };
        let declared = element
            .types
            .iter()
            .find(|t| upper_first(&t.code) == upper_first(type_name));
        let mut urls: Vec<String> = declared.map(|t| t.profiles.clone()).unwrap_or_default();
        if type_name == "Extension"
            && urls.is_empty()
            && let Some(url) = item.value["url"].as_str()
        {
            if self.validator.definitions.structure(url).is_some() {
                self.check_extension_context(profile, element, url, location);
                urls.push(url.to_owned());
            } else if !url.contains(':') {
                // A nested extension of a complex one (`url` = "level"): its enclosing
                // extension's definition judges it.
                return;
            } else {
                self.issue(
                    Severity::Information,
                    location,
                    profile,
                    element,
                    "extension",
                    format!("the extension {url} is not known here: not validated"),
                );
                return;
            }
        }
        if matches!(type_name, "Resource" | "DomainResource") {
            if let Some(kind) = item.value["resourceType"].as_str() {
                // A contained resource's `#id` references point into its container; a Bundle
                // entry is its own root.
                let root = if element.name == "contained" {
                    self.root
                } else {
                    item.value
                };
                let nested = self
                    .validator
                    .validate_claims_nested(item.value, kind, root, depth);
                for mut issue in nested {
                    issue.location = format!(
                        "{location}{}",
                        issue.location.strip_prefix(kind).unwrap_or(&issue.location)
                    );
                    self.issues.push(issue);
                }
            }
            return;
        }
        if urls.is_empty() && !is_primitive(type_name) {
            urls.push(type_name.to_owned());
        }
        for url in urls {
            match self.validator.compiled(&url) {
                Ok(other) => self.check(
                    &other,
                    0,
                    Item {
                        type_name: Some(type_name),
                        ..item
                    },
                    location,
                    depth + 1,
                ),
                Err(why) => self.issue(
                    Severity::Warning,
                    location,
                    profile,
                    element,
                    "profile",
                    format!("{url} cannot be used to validate this value: {why}"),
                ),
            }
        }
    }
}

impl Validator {
    /// A resource, perhaps inside another (`root`: contained, a Bundle entry): its type and
    /// claimed profiles.
    fn validate_claims_nested(
        &self,
        resource: &Value,
        kind: &str,
        root: &Value,
        depth: usize,
    ) -> Vec<Issue> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let mut issues = self.validate_inside(resource, kind, root);
        for claimed in resource["meta"]["profile"].as_array().into_iter().flatten() {
            let Some(url) = claimed.as_str() else {
                continue;
            };
            if self.definitions.structure(url).is_none() {
                issues.push(unknown_profile(kind, url));
                continue;
            }
            issues.extend(self.validate_inside(resource, url, root));
        }
        issues
    }
}

/// `Patient/123` → `Patient` (absolute URLs too); `#contained` and `urn:` references name no type.
fn reference_type(reference: &str) -> Option<&str> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let parts: Vec<&str> = reference.trim_end_matches('/').split('/').collect();
    let position = parts
        .iter()
        .position(|p| *p == "_history")
        .unwrap_or(parts.len());
    if position < 2 {
        return None;
    }
    let kind = parts[position - 2];
    kind.starts_with(|c: char| c.is_ascii_uppercase())
        .then_some(kind)
}

/// The values of one element in an object: a plain key, or a choice's `stem` + Type keys,
/// arrays flattened, primitives with their `_` companions.
fn values_of<'a>(object: &'a Value, element: &'a Element) -> Vec<(Item<'a>, String)> {
    let Some(map) = object.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |key: &str, type_name: Option<&'a str>| {
        let value = map.get(key);
        let companion = map.get(&format!("_{key}"));
        match (value, companion) {
            (Some(Value::Array(values)), _) => {
                let companions = companion.and_then(Value::as_array);
                for (i, v) in values.iter().enumerate() {
                    out.push((
                        Item {
                            value: v,
                            companion: companions.and_then(|c| c.get(i)),
                            type_name,
                        },
                        key.to_owned(),
                    ));
                }
            }
            (Some(v), _) => out.push((
                Item {
                    value: v,
                    companion,
                    type_name,
                },
                key.to_owned(),
            )),
            (None, Some(Value::Array(companions))) => {
                for c in companions {
                    out.push((
                        Item {
                            value: &Value::Null,
                            companion: Some(c),
                            type_name,
                        },
                        key.to_owned(),
                    ));
                }
            }
            (None, Some(c)) => out.push((
                Item {
                    value: &Value::Null,
                    companion: Some(c),
                    type_name,
                },
                key.to_owned(),
            )),
            (None, None) => {}
        }
    };
    match element.name.strip_suffix("[x]") {
        Some(stem) => {
            for key in map.keys() {
                let bare = key.strip_prefix('_').unwrap_or(key);
                if bare != key && map.contains_key(bare) {
                    continue;
                }
                if let Some(suffix) = bare.strip_prefix(stem)
                    && suffix.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    // `valueDateTime` is of type `dateTime`: the declared code, where there is
                    // one, names the type (primitives start lower-case).
                    let declared = element
                        .types
                        .iter()
                        .map(|t| t.code.as_str())
                        .find(|code| upper_first(code) == suffix);
                    push(bare, Some(declared.unwrap_or(suffix)));
                }
            }
        }
        None => {
            let single_type = match element.types.as_slice() {
                [only] => Some(only.code.as_str()),
                _ => None,
            };
            push(&element.name, single_type);
        }
    }
    out
}

/// Values at a dotted path below a value (arrays flattened at each step).
fn at_path<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    if path == "$this" {
        return vec![value];
    }
    let mut current = vec![value];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for node in current {
            match node.get(segment) {
                Some(Value::Array(items)) => next.extend(items.iter()),
                Some(found) => next.push(found),
                None => {}
            }
        }
        current = next;
    }
    current
}

/// Whether `value` contains everything `pattern` says (FHIR pattern[x] semantics): objects by
/// their pattern's keys, arrays by each pattern item matching some value item, primitives equal.
fn contains_pattern(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| contains_pattern(vv, pv))),
        (Value::Array(v), Value::Array(p)) => p
            .iter()
            .all(|pv| v.iter().any(|vv| contains_pattern(vv, pv))),
        (Value::Array(v), p) => v.iter().any(|vv| contains_pattern(vv, p)),
        (v, p) => v == p,
    }
}

fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
