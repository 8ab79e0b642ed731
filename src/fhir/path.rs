//! Locations inside a FHIR JSON body, rendered both as a JSON pointer (exact, for tools) and as
//! a FHIRPath-like expression (`Patient.name[0].given[1]`, for people).

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    /// Entering a nested resource (`entry[0].resource`, `contained[1]`).
    OfType(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    root: String,
    segments: Vec<Segment>,
}

impl JsonPath {
    /// The root of a body: named after its `resourceType` when it has one.
    pub fn resource_root(value: &Value) -> Self {
        let root = value
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("(body)");
        Self {
            root: root.to_owned(),
            segments: Vec::new(),
        }
    }

    pub fn named(root: &str) -> Self {
        Self {
            root: root.to_owned(),
            segments: Vec::new(),
        }
    }

    pub fn child(&self, key: &str, value: &Value) -> Self {
        let mut next = self.clone();
        next.segments.push(Segment::Key(key.to_owned()));
        next.enter_resource(value);
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.segments.push(Segment::Index(index));
        next
    }

    pub fn index_of(&self, index: usize, value: &Value) -> Self {
        let mut next = self.index(index);
        next.enter_resource(value);
        next
    }

    fn enter_resource(&mut self, value: &Value) {
        if let Some(kind) = value.get("resourceType").and_then(Value::as_str) {
            self.segments.push(Segment::OfType(kind.to_owned()));
        }
    }

    /// Follows a JSON pointer through `instance`, marking nested resources on the way.
    pub fn from_pointer(instance: &Value, pointer: &str) -> Self {
        Self::resource_root(instance).follow(instance, pointer)
    }

    /// Extends this path (which must point at `instance`) along a JSON pointer into `instance`.
    /// Builds the path in place: it runs once per schema error.
    pub fn follow(&self, instance: &Value, pointer: &str) -> Self {
        let mut path = self.clone();
        let mut here = Some(instance);
        for raw in pointer.split('/').skip(1) {
            let token = if raw.contains('~') {
                std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
            } else {
                std::borrow::Cow::Borrowed(raw)
            };
            let index = token.parse::<usize>().ok();
            here = match (here, index) {
                (Some(Value::Array(items)), Some(index)) => {
                    path.segments.push(Segment::Index(index));
                    items.get(index)
                }
                (Some(Value::Object(map)), _) => {
                    let next = map.get(token.as_ref());
                    path.segments.push(Segment::Key(token.into_owned()));
                    next
                }
                (_, Some(index)) => {
                    path.segments.push(Segment::Index(index));
                    None
                }
                (_, None) => {
                    path.segments.push(Segment::Key(token.into_owned()));
                    None
                }
            };
            if let Some(value) = here {
                path.enter_resource(value);
            }
        }
        path
    }

    /// Appends a property that does not exist in the instance (e.g. a missing required one).
    pub fn with_missing(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.segments.push(Segment::Key(key.to_owned()));
        next
    }

    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Key(key) => {
                    out.push('/');
                    out.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Segment::Index(index) => {
                    out.push('/');
                    out.push_str(&index.to_string());
                }
                Segment::OfType(_) => {}
            }
        }
        if out.is_empty() { "/".into() } else { out }
    }

    /// FHIRPath-like text without schema knowledge: `_given` is reported as `given`.
    pub fn fhirpath(&self) -> String {
        self.render(None)
    }

    /// FHIRPath-like text with choice elements resolved: `valueQuantity` → `value.ofType(Quantity)`.
    pub fn fhirpath_with(&self, types: &TypeIndex) -> String {
        self.render(Some(types))
    }

    fn render(&self, types: Option<&TypeIndex>) -> String {
        use std::fmt::Write as _;
        let mut out = self.root.clone();
        let mut definition: Option<&str> = Some(&self.root);
        for segment in &self.segments {
            match segment {
                Segment::Key(key) => {
                    let plain = key.strip_prefix('_').unwrap_or(key);
                    let property =
                        types.and_then(|t| definition.and_then(|d| t.property(d, plain)));
                    match property {
                        Some(info) => {
                            match &info.choice {
                                Some((base, kind)) => {
                                    let _ = write!(out, ".{base}.ofType({kind})");
                                }
                                None => {
                                    out.push('.');
                                    out.push_str(plain);
                                }
                            }
                            definition = info.target.as_deref();
                        }
                        None => {
                            out.push('.');
                            out.push_str(plain);
                            definition = None;
                        }
                    }
                }
                Segment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
                Segment::OfType(kind) => {
                    let _ = write!(out, ".ofType({kind})");
                    definition = Some(kind);
                }
            }
        }
        out
    }
}

/// What the schema says about one property of one definition.
#[derive(Debug, Clone)]
pub struct PropertyInfo {
    /// The definition the property's value (or array items) refers to.
    pub target: Option<String>,
    /// For choice elements (`value[x]`): the base name and the type.
    pub choice: Option<(String, String)>,
}

/// Per-definition property facts from the FHIR JSON schema, for rendering locations.
#[derive(Debug, Default)]
pub struct TypeIndex {
    definitions: HashMap<String, HashMap<String, PropertyInfo>>,
}

impl TypeIndex {
    pub fn from_schema(schema: &Value) -> Self {
        let mut index = Self::default();
        let Some(definitions) = schema.get("definitions").and_then(Value::as_object) else {
            return index;
        };
        let type_names: Vec<String> = definitions
            .keys()
            .filter(|k| !k.contains('_'))
            .map(|k| {
                let mut chars = k.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        for (name, definition) in definitions {
            let Some(properties) = definition.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let names: Vec<&String> = properties.keys().filter(|p| !p.starts_with('_')).collect();
            let mut infos = HashMap::new();
            for property in &names {
                let spec = &properties[property.as_str()];
                let reference = spec
                    .get("$ref")
                    .or_else(|| spec.get("items").and_then(|i| i.get("$ref")))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                    .map(str::to_owned);
                let choice = type_names.iter().find_map(|kind| {
                    let base = property.strip_suffix(kind.as_str())?;
                    let ends_lower = base
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                    let siblings = names
                        .iter()
                        .filter(|other| {
                            other.len() > base.len()
                                && other.starts_with(base)
                                && type_names.iter().any(|t| t == &other[base.len()..])
                        })
                        .count();
                    (ends_lower && siblings >= 2).then(|| (base.to_owned(), kind.clone()))
                });
                infos.insert(
                    (*property).clone(),
                    PropertyInfo {
                        target: reference,
                        choice,
                    },
                );
            }
            index.definitions.insert(name.clone(), infos);
        }
        index
    }

    pub fn property(&self, definition: &str, property: &str) -> Option<&PropertyInfo> {
        self.definitions.get(definition)?.get(property)
    }

    /// Every definition with its properties.
    pub fn definitions(&self) -> impl Iterator<Item = (&str, &HashMap<String, PropertyInfo>)> {
        self.definitions
            .iter()
            .map(|(name, properties)| (name.as_str(), properties))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_become_fhirpath() {
        let patient = json!({"resourceType": "Patient", "name": [{"given": ["a", null]}], "_birthDate": {"extension": [{"url": 5}]}});
        assert_eq!(
            JsonPath::from_pointer(&patient, "/name/0/given/1").fhirpath(),
            "Patient.name[0].given[1]"
        );
        assert_eq!(
            JsonPath::from_pointer(&patient, "/_birthDate/extension/0/url").fhirpath(),
            "Patient.birthDate.extension[0].url"
        );
        assert_eq!(
            JsonPath::from_pointer(&patient, "/name/0/given/1").pointer(),
            "/name/0/given/1"
        );
        assert_eq!(JsonPath::from_pointer(&patient, "").fhirpath(), "Patient");
    }

    #[test]
    fn nested_resources_are_typed() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "contained": [{"resourceType": "Organization"}]}}]});
        let path = JsonPath::from_pointer(&bundle, "/entry/0/resource/contained/0/name");
        assert_eq!(
            path.fhirpath(),
            "Bundle.entry[0].resource.ofType(Patient).contained[0].ofType(Organization).name"
        );
        assert_eq!(path.pointer(), "/entry/0/resource/contained/0/name");
    }

    #[test]
    fn choice_types_need_the_schema_and_only_apply_to_real_choices() {
        let schema = json!({"definitions": {
            "Observation": {"properties": {
                "valueQuantity": {"$ref": "#/definitions/Quantity"},
                "valueString": {"$ref": "#/definitions/string"},
                "_valueString": {"$ref": "#/definitions/Element"}
            }},
            "Immunization": {"properties": {"doseQuantity": {"$ref": "#/definitions/Quantity"}}},
            "Quantity": {"properties": {"value": {"$ref": "#/definitions/decimal"}}},
            "string": {}, "decimal": {}, "Element": {}
        }});
        let types = TypeIndex::from_schema(&schema);
        let observation = json!({"resourceType": "Observation", "valueQuantity": {"value": "7.2"}});
        let path = JsonPath::from_pointer(&observation, "/valueQuantity/value");
        assert_eq!(
            path.fhirpath_with(&types),
            "Observation.value.ofType(Quantity).value"
        );
        assert_eq!(path.fhirpath(), "Observation.valueQuantity.value");
        let immunization = json!({"resourceType": "Immunization", "doseQuantity": {"value": 1}});
        let path = JsonPath::from_pointer(&immunization, "/doseQuantity/value");
        assert_eq!(
            path.fhirpath_with(&types),
            "Immunization.doseQuantity.value",
            "a lone element is not a choice"
        );
    }
}
