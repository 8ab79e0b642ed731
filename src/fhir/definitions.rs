//! FHIR R4 conformance resources: the core StructureDefinitions (with snapshots), ValueSets and
//! CodeSystems embedded in the binary (`standards/fhir-r4/definitions.json.gz`), and any others
//! added to them (an implementation guide). Loaded once, on first use, and looked up by canonical
//! URL or by type name; `element` answers what the XML reader and the validator ask of a path:
//! its cardinality, its types, where its definition lives.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// The embedded core definitions, gzipped.
const EMBEDDED: &[u8] = include_bytes!("../../standards/fhir-r4/definitions.json.gz");

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

#[derive(Debug, thiserror::Error)]
pub enum DefinitionsError {
    #[error("the embedded FHIR definitions cannot be read: {0}")]
    Embedded(String),
    #[error("{0} is not a FHIR conformance resource")]
    NotConformance(String),
}

/// Conformance resources by canonical URL.
#[derive(Debug, Default, Clone)]
pub struct Definitions {
    structures: HashMap<String, Arc<Value>>,
    value_sets: HashMap<String, Arc<Value>>,
    code_systems: HashMap<String, Arc<Value>>,
}

/// What a path of a type is, as its snapshot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementInfo {
    /// The element definition's path in the type that defines it (`HumanName.given`).
    pub path: String,
    pub min: u32,
    /// `None` for `*`.
    pub max: Option<u32>,
    /// The type codes (`string`, `HumanName`, `BackboneElement`; several for `value[x]`).
    pub types: Vec<String>,
}

impl ElementInfo {
    /// Whether more than one may occur (a JSON array, repeated XML elements).
    pub fn repeats(&self) -> bool {
        self.max != Some(0) && self.max != Some(1)
    }
}

impl Definitions {
    /// The core definitions, decompressed and parsed once per process.
    pub fn core() -> Result<Arc<Definitions>, String> {
        static CORE: OnceLock<Result<Arc<Definitions>, String>> = OnceLock::new();
        CORE.get_or_init(|| {
            Self::from_gzip(EMBEDDED)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
    }

    fn from_gzip(bytes: &[u8]) -> Result<Self, DefinitionsError> {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut text)
            .map_err(|e| DefinitionsError::Embedded(e.to_string()))?;
        let document: Value =
            serde_json::from_slice(&text).map_err(|e| DefinitionsError::Embedded(e.to_string()))?;
        let mut definitions = Self::default();
        for resource in document["resources"].as_array().into_iter().flatten() {
            definitions.add(resource.clone())?;
        }
        Ok(definitions)
    }

    /// Adds (or replaces) a conformance resource by its canonical URL.
    pub fn add(&mut self, resource: Value) -> Result<(), DefinitionsError> {
        let kind = resource["resourceType"].as_str().unwrap_or("").to_owned();
        let Some(url) = resource["url"].as_str().map(str::to_owned) else {
            return Err(DefinitionsError::NotConformance(format!(
                "a {kind} without a url"
            )));
        };
        let map = match kind.as_str() {
            "StructureDefinition" => &mut self.structures,
            "ValueSet" => &mut self.value_sets,
            "CodeSystem" => &mut self.code_systems,
            _ => {
                return Err(DefinitionsError::NotConformance(format!("{kind} {url}")));
            }
        };
        map.insert(url, Arc::new(resource));
        Ok(())
    }

    /// A StructureDefinition by canonical URL (a `|version` suffix is ignored), or a core type or
    /// resource by name (`HumanName`, `Patient`).
    pub fn structure(&self, url_or_type: &str) -> Option<&Arc<Value>> {
        let url = url_or_type.split('|').next().unwrap_or(url_or_type);
        self.structures
            .get(url)
            .or_else(|| self.structures.get(&format!("{CORE_PREFIX}{url}")))
    }

    pub fn value_set(&self, url: &str) -> Option<&Arc<Value>> {
        self.value_sets.get(url.split('|').next().unwrap_or(url))
    }

    pub fn code_system(&self, url: &str) -> Option<&Arc<Value>> {
        self.code_systems.get(url.split('|').next().unwrap_or(url))
    }

    pub fn structures(&self) -> impl Iterator<Item = &Arc<Value>> {
        self.structures.values()
    }

    /// Whether `name` is a core resource type.
    pub fn is_resource_type(&self, name: &str) -> bool {
        self.structure(name)
            .is_some_and(|sd| sd["kind"] == "resource" && sd["derivation"] == "specialization")
    }

    /// The element at `path` below a type (`Patient`, `contact.name.given`), following data
    /// types, backbone elements, `contentReference`s and choice types (`valueQuantity` is
    /// `value[x]` with type Quantity). `None` when the type has no such element.
    pub fn element(&self, type_name: &str, path: &str) -> Option<ElementInfo> {
        let mut owner = type_name.to_owned();
        let mut prefix = type_name.to_owned();
        let mut found: Option<ElementInfo> = None;
        for name in path.split('.').filter(|s| !s.is_empty()) {
            if let Some(info) = &found {
                // Step into the type of the element reached so far.
                match info.types.as_slice() {
                    [single] if single != "BackboneElement" && single != "Element" => {
                        owner = single.clone();
                        prefix = single.clone();
                    }
                    _ => prefix = info.path.clone(),
                }
            }
            found = Some(self.child(&owner, &prefix, name)?);
            if let Some(info) = &found {
                // A contentReference points at the definition to use for the children.
                if let Some(target) = info.path.strip_prefix('#') {
                    let (target_owner, _) = target.split_once('.').unwrap_or((target, ""));
                    owner = target_owner.to_owned();
                    let mut resolved = self.element_by_path(&owner, target)?;
                    resolved.min = info.min;
                    resolved.max = info.max;
                    found = Some(resolved);
                }
            }
        }
        found
    }

    /// The child `name` of the element at `parent_path` in the snapshot of `owner`.
    fn child(&self, owner: &str, parent_path: &str, name: &str) -> Option<ElementInfo> {
        let exact = format!("{parent_path}.{name}");
        if let Some(info) = self.element_by_path(owner, &exact) {
            return Some(info);
        }
        // A choice type: `valueQuantity` is `value[x]` of type Quantity.
        let elements = self.snapshot(owner)?;
        for element in elements {
            let Some(path) = element["path"].as_str() else {
                continue;
            };
            let Some(stem) = path
                .strip_prefix(parent_path)
                .and_then(|p| p.strip_prefix('.'))
                .and_then(|p| p.strip_suffix("[x]"))
            else {
                continue;
            };
            if stem.contains('.') {
                continue;
            }
            if let Some(suffix) = name.strip_prefix(stem) {
                let mut info = element_info(element);
                let chosen = info
                    .types
                    .iter()
                    .find(|t| upper_first(t) == suffix)
                    .cloned()?;
                info.types = vec![chosen];
                return Some(info);
            }
        }
        None
    }

    fn snapshot(&self, owner: &str) -> Option<&Vec<Value>> {
        self.structure(owner)?["snapshot"]["element"].as_array()
    }

    fn element_by_path(&self, owner: &str, path: &str) -> Option<ElementInfo> {
        self.snapshot(owner)?
            .iter()
            .find(|e| e["path"] == path && e.get("sliceName").is_none())
            .map(element_info)
    }
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn element_info(element: &Value) -> ElementInfo {
    let path = match element["contentReference"].as_str() {
        Some(reference) => reference.to_owned(),
        None => element["path"].as_str().unwrap_or("").to_owned(),
    };
    let max = match element["max"].as_str() {
        Some("*") | None => None,
        Some(number) => number.parse().ok(),
    };
    ElementInfo {
        path,
        min: element["min"]
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(0),
        max,
        types: element["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["code"].as_str())
            .map(|code| {
                // FHIRPath system types stand for the primitives' values (`id` of Element).
                code.strip_prefix("http://hl7.org/fhirpath/System.")
                    .map_or_else(|| code.to_owned(), |s| s.to_ascii_lowercase())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_definitions_load_and_answer_paths() {
        let core = Definitions::core().unwrap();
        assert!(core.is_resource_type("Patient"));
        assert!(!core.is_resource_type("HumanName"));
        let given = core.element("Patient", "name.given").unwrap();
        assert_eq!(given.path, "HumanName.given");
        assert!(given.repeats());
        assert_eq!(given.types, ["string"]);
        let gender = core.element("Patient", "gender").unwrap();
        assert!(!gender.repeats());
        assert_eq!(gender.types, ["code"]);
        let contact_name = core.element("Patient", "contact.name").unwrap();
        assert_eq!(contact_name.path, "Patient.contact.name");
        assert!(!contact_name.repeats());
        let quantity = core.element("Observation", "valueQuantity.value").unwrap();
        assert_eq!(quantity.path, "Quantity.value");
        assert_eq!(quantity.types, ["decimal"]);
        // A contentReference: Questionnaire.item.item is defined as Questionnaire.item.
        let nested = core.element("Questionnaire", "item.item.linkId").unwrap();
        assert_eq!(nested.path, "Questionnaire.item.linkId");
        assert!(core.element("Patient", "colour").is_none());
        assert!(
            core.value_set("http://hl7.org/fhir/ValueSet/administrative-gender")
                .is_some()
        );
        assert!(
            core.code_system("http://hl7.org/fhir/administrative-gender")
                .is_some()
        );
    }
}
