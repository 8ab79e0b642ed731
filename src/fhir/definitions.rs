//! FHIR R4 conformance resources: the core StructureDefinitions (with snapshots), ValueSets and
//! CodeSystems embedded in the binary (`standards/fhir-r4/definitions.json.gz`), and any others
//! added to them (an implementation guide). Loaded once, on first use, and looked up by canonical
//! URL or by type name; `element` answers what the XML reader and the validator ask of a path:
//! its cardinality, its types, where its definition lives.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

/// The embedded core definitions, gzipped.
const EMBEDDED: &[u8] = include_bytes!("../../standards/fhir-r4/definitions.json.gz");

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

const FHIR_TYPE_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

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
    structures: HashMap<String, Arc<Entry>>,
    /// Core types and resources by name (`Patient`): looked up for every value validated, so
    /// kept apart rather than made by prefixing the name each time.
    core_by_name: HashMap<String, Arc<Entry>>,
    value_sets: HashMap<String, Arc<Entry>>,
    code_systems: HashMap<String, Arc<Entry>>,
    /// Snapshot elements by path, per structure, built on first use: the XML reader asks for
    /// every element of every document, and a snapshot scan per element would dominate it.
    /// Shared by clones; `add` starts a new one.
    indexes: Arc<RwLock<HashMap<String, Arc<SnapshotIndex>>>>,
}

/// A conformance resource, parsed on first use: the embedded core package holds 3,036
/// resources and a run uses a few hundred, so the rest stay compact JSON text (a third of
/// their size as `Value`s, which kept peak memory over 200 MiB).
#[derive(Debug)]
struct Entry {
    raw: Option<Box<serde_json::value::RawValue>>,
    parsed: OnceLock<Arc<Value>>,
}

impl Entry {
    fn parsed(resource: Value) -> Self {
        Self {
            raw: None,
            parsed: OnceLock::from(Arc::new(resource)),
        }
    }

    fn get(&self) -> &Arc<Value> {
        self.parsed.get_or_init(|| {
            // The text was parsed once already, when it was read; it cannot fail now.
            Arc::new(
                self.raw
                    .as_ref()
                    .and_then(|raw| serde_json::from_str(raw.get()).ok())
                    .unwrap_or(Value::Null),
            )
        })
    }
}

/// Just what is needed to file an embedded resource without parsing it whole.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(rename = "resourceType")]
    kind: String,
    url: Option<String>,
}

/// One structure's snapshot elements (not slices), by path.
#[derive(Debug, Default)]
struct SnapshotIndex {
    by_path: HashMap<String, Arc<ElementInfo>>,
    /// The choice elements (`value[x]`) under each parent path, by stem (`value`).
    choices: HashMap<String, Vec<(String, Arc<ElementInfo>)>>,
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
    /// How the element is represented where not as an XML element (`xmlAttr` for `Element.id`,
    /// `Extension.url` and the primitives' `value`).
    pub representation: Vec<String>,
}

impl ElementInfo {
    /// Whether more than one may occur (a JSON array, repeated XML elements).
    pub fn repeats(&self) -> bool {
        self.max != Some(0) && self.max != Some(1)
    }

    /// Whether the XML form carries this element as an attribute of its parent.
    pub fn is_xml_attribute(&self) -> bool {
        self.representation.iter().any(|r| r == "xmlAttr")
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
        #[derive(serde::Deserialize)]
        struct Package {
            resources: Vec<Box<serde_json::value::RawValue>>,
        }
        let package: Package =
            serde_json::from_slice(&text).map_err(|e| DefinitionsError::Embedded(e.to_string()))?;
        drop(text);
        let mut definitions = Self::default();
        for raw in package.resources {
            let head: Head = serde_json::from_str(raw.get())
                .map_err(|e| DefinitionsError::Embedded(e.to_string()))?;
            let entry = Entry {
                raw: Some(raw),
                parsed: OnceLock::new(),
            };
            definitions.file(&head.kind, head.url, entry)?;
        }
        Ok(definitions)
    }

    /// Adds (or replaces) a conformance resource by its canonical URL.
    pub fn add(&mut self, resource: Value) -> Result<(), DefinitionsError> {
        let kind = resource["resourceType"].as_str().unwrap_or("").to_owned();
        let url = resource["url"].as_str().map(str::to_owned);
        self.file(&kind, url, Entry::parsed(resource))
    }

    fn file(
        &mut self,
        kind: &str,
        url: Option<String>,
        entry: Entry,
    ) -> Result<(), DefinitionsError> {
        let Some(url) = url else {
            return Err(DefinitionsError::NotConformance(format!(
                "a {kind} without a url"
            )));
        };
        let map = match kind {
            "StructureDefinition" => &mut self.structures,
            "ValueSet" => &mut self.value_sets,
            "CodeSystem" => &mut self.code_systems,
            _ => {
                return Err(DefinitionsError::NotConformance(format!("{kind} {url}")));
            }
        };
        let entry = Arc::new(entry);
        if kind == "StructureDefinition"
            && let Some(name) = url.strip_prefix(CORE_PREFIX)
        {
            self.core_by_name
                .insert(name.to_owned(), Arc::clone(&entry));
        }
        map.insert(url, entry);
        // Indexes already built may be of a structure just replaced.
        self.indexes = Arc::default();
        Ok(())
    }

    /// A StructureDefinition by canonical URL (a `|version` suffix is ignored), or a core type or
    /// resource by name (`HumanName`, `Patient`).
    pub fn structure(&self, url_or_type: &str) -> Option<&Arc<Value>> {
        let url = url_or_type.split('|').next().unwrap_or(url_or_type);
        self.structures
            .get(url)
            .or_else(|| self.core_by_name.get(url))
            .map(|entry| entry.get())
    }

    pub fn value_set(&self, url: &str) -> Option<&Arc<Value>> {
        self.value_sets
            .get(url.split('|').next().unwrap_or(url))
            .map(|entry| entry.get())
    }

    pub fn code_system(&self, url: &str) -> Option<&Arc<Value>> {
        self.code_systems
            .get(url.split('|').next().unwrap_or(url))
            .map(|entry| entry.get())
    }

    /// The canonical URLs of the StructureDefinitions held, without parsing any.
    pub fn structure_urls(&self) -> impl Iterator<Item = &str> {
        self.structures.keys().map(String::as_str)
    }

    /// Every StructureDefinition (each parsed, if it was not yet).
    pub fn structures(&self) -> impl Iterator<Item = &Arc<Value>> {
        self.structures.values().map(|entry| entry.get())
    }

    /// Whether a type derives, at any depth, from another (`Age` from `Quantity`, `Patient` from
    /// `DomainResource`), by the base definitions of the structures held.
    pub fn derives_from(&self, type_name: &str, ancestor: &str) -> bool {
        let mut current = type_name.to_owned();
        // Core's deepest chain is five; the bound stops a loop in a broken guide.
        for _ in 0..12 {
            let Some(base) = self
                .structure(&current)
                .and_then(|sd| sd["baseDefinition"].as_str())
                .and_then(|url| url.rsplit('/').next())
            else {
                return false;
            };
            if base == ancestor {
                return true;
            }
            current = base.to_owned();
        }
        false
    }

    /// Whether `name` is a core resource type.
    pub fn is_resource_type(&self, name: &str) -> bool {
        self.structure(name)
            .is_some_and(|sd| sd["kind"] == "resource" && sd["derivation"] == "specialization")
    }

    /// Whether `code` names a primitive type (`string`, `boolean`, `decimal`): one whose XML
    /// form is a `value` attribute and whose JSON form is a JSON primitive.
    pub fn is_primitive_type(&self, code: &str) -> bool {
        self.structure(code)
            .is_some_and(|sd| sd["kind"] == "primitive-type")
    }

    /// The element at `path` below a type (`Patient`, `contact.name.given`), following data
    /// types, backbone elements, `contentReference`s and choice types (`valueQuantity` is
    /// `value[x]` with type Quantity). `None` when the type has no such element.
    pub fn element(&self, type_name: &str, path: &str) -> Option<ElementInfo> {
        let mut found = self.type_root(type_name)?;
        for name in path.split('.').filter(|s| !s.is_empty()) {
            found = self.child_element(&found, name)?;
        }
        Some(ElementInfo::clone(&found))
    }

    /// The root element of a type or resource (`Patient`, `HumanName`): the parent to give
    /// `child_element` for the type's own elements.
    pub fn type_root(&self, type_name: &str) -> Option<Arc<ElementInfo>> {
        self.index(type_name)?.by_path.get(type_name).cloned()
    }

    /// The child `name` of an element found by `type_root` or an earlier `child_element`: an
    /// element of its backbone, or of its data type when it has one. A `contentReference` is
    /// followed (the cardinality stays the referring element's); a choice name (`valueQuantity`)
    /// gives the `value[x]` element with that one type.
    pub fn child_element(&self, parent: &ElementInfo, name: &str) -> Option<Arc<ElementInfo>> {
        // A name is one step: `contact.name` must not reach Patient.contact.name from Patient.
        if name.is_empty() || name.contains('.') {
            return None;
        }
        let (owner, prefix) = match parent.types.as_slice() {
            [single] if single != "BackboneElement" && single != "Element" => {
                (single.as_str(), single.as_str())
            }
            _ => {
                let path = parent.path.as_str();
                (path.split('.').next().unwrap_or(path), path)
            }
        };
        let index = self.index(owner)?;
        let found = match index.by_path.get(&format!("{prefix}.{name}")) {
            Some(info) => Arc::clone(info),
            None => Arc::new(choice_element(&index, prefix, name)?),
        };
        // A contentReference points at the definition to use for the children.
        let Some(target) = found.path.strip_prefix('#') else {
            return Some(found);
        };
        let (target_owner, _) = target.split_once('.').unwrap_or((target, ""));
        let mut resolved = ElementInfo::clone(self.index(target_owner)?.by_path.get(target)?);
        resolved.min = found.min;
        resolved.max = found.max;
        Some(Arc::new(resolved))
    }

    /// The snapshot index of a structure (by URL or core type name), built on first use.
    fn index(&self, owner: &str) -> Option<Arc<SnapshotIndex>> {
        if let Some(index) = self.indexes.read().ok()?.get(owner) {
            return Some(Arc::clone(index));
        }
        let elements = self.structure(owner)?["snapshot"]["element"].as_array()?;
        let mut index = SnapshotIndex::default();
        for element in elements.iter().filter(|e| e.get("sliceName").is_none()) {
            let Some(path) = element["path"].as_str() else {
                continue;
            };
            let info = Arc::new(element_info(element));
            if let Some((parent, last)) = path.rsplit_once('.')
                && let Some(stem) = last.strip_suffix("[x]")
            {
                index
                    .choices
                    .entry(parent.to_owned())
                    .or_default()
                    .push((stem.to_owned(), Arc::clone(&info)));
            }
            // The first element of a path is its definition; later ones would be re-slicings.
            index.by_path.entry(path.to_owned()).or_insert(info);
        }
        let index = Arc::new(index);
        self.indexes
            .write()
            .ok()?
            .insert(owner.to_owned(), Arc::clone(&index));
        Some(index)
    }
}

/// A choice type: `valueQuantity` is `value[x]` of type Quantity.
fn choice_element(index: &SnapshotIndex, parent_path: &str, name: &str) -> Option<ElementInfo> {
    index
        .choices
        .get(parent_path)?
        .iter()
        .find_map(|(stem, info)| {
            let suffix = name.strip_prefix(stem.as_str())?;
            let chosen = info.types.iter().find(|t| upper_first(t) == suffix)?;
            let mut narrowed = ElementInfo::clone(info);
            narrowed.types = vec![chosen.clone()];
            Some(narrowed)
        })
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The FHIR type code of an element type. FHIRPath system types stand for the primitives' values
/// and a few ids (`Element.id`, `Resource.id`); their `structuredefinition-fhir-type` extension
/// names the FHIR type (`string`, `uri`, `boolean`).
fn type_code(element_type: &Value) -> Option<String> {
    let code = element_type["code"].as_str()?;
    let Some(system) = code.strip_prefix("http://hl7.org/fhirpath/System.") else {
        return Some(code.to_owned());
    };
    let fhir_type = element_type["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"] == FHIR_TYPE_EXTENSION)
        .and_then(|e| e["valueUrl"].as_str());
    Some(fhir_type.map_or_else(|| system.to_ascii_lowercase(), str::to_owned))
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
            .filter_map(type_code)
            .collect(),
        representation: element["representation"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
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
        assert!(core.element("Patient", "contact.name.given").is_some());
        let root = core.type_root("Patient").unwrap();
        assert!(core.child_element(&root, "contact.name").is_none());
        assert!(
            core.value_set("http://hl7.org/fhir/ValueSet/administrative-gender")
                .is_some()
        );
        assert!(
            core.code_system("http://hl7.org/fhir/administrative-gender")
                .is_some()
        );
    }

    #[test]
    fn xml_attributes_primitives_and_system_types_come_from_the_snapshots() {
        let core = Definitions::core().unwrap();
        let id = core.element("Patient", "name.id").unwrap();
        assert!(id.is_xml_attribute());
        assert_eq!(id.types, ["string"]);
        let url = core.element("Patient", "extension.url").unwrap();
        assert!(url.is_xml_attribute());
        assert_eq!(url.types, ["uri"]);
        // A resource's id is an element, not an attribute.
        let resource_id = core.element("Patient", "id").unwrap();
        assert!(!resource_id.is_xml_attribute());
        assert_eq!(resource_id.types, ["string"]);
        let value = core.element("decimal", "value").unwrap();
        assert!(value.is_xml_attribute());
        assert_eq!(value.types, ["decimal"]);
        assert!(core.is_primitive_type("positiveInt"));
        assert!(core.is_primitive_type("xhtml"));
        assert!(!core.is_primitive_type("HumanName"));
        assert!(!core.is_primitive_type("Patient"));
        // Timing.repeat is typed Element: its children are inline in Timing.
        let bounds = core.element("Timing", "repeat.boundsDuration").unwrap();
        assert_eq!(bounds.path, "Timing.repeat.bounds[x]");
        assert_eq!(bounds.types, ["Duration"]);
    }

    #[test]
    fn an_added_structure_replaces_the_indexed_one() {
        let mut definitions = Definitions::core().unwrap().as_ref().clone();
        assert!(definitions.element("Patient", "gender").is_some());
        definitions
            .add(serde_json::json!({
                "resourceType": "StructureDefinition",
                "url": "http://hl7.org/fhir/StructureDefinition/Patient",
                "kind": "resource",
                "snapshot": {"element": [{"path": "Patient", "min": 0, "max": "*"}]}
            }))
            .unwrap();
        assert!(definitions.element("Patient", "gender").is_none());
        assert!(
            Definitions::core()
                .unwrap()
                .element("Patient", "gender")
                .is_some()
        );
    }
}
