//! Snapshot generation: a profile's full list of element definitions, from its differential
//! applied over its base's snapshot (FHIR R4 profiling.html, "Snapshot generation"). UK Core
//! publishes differentials only; the validator needs every element with every constraint.
//!
//! The differential's elements are applied in order. An element the base snapshot already has
//! is merged (the differential's properties replace the base's, its constraints add to them). A
//! slice (`Patient.identifier:nhsNumber`) is a copy of the sliced element and its children,
//! placed after the element's existing slices. A child the snapshot does not show yet (a data
//! type's element such as `Patient.identifier.system`, or a slice's child) is reached by
//! expanding its parent first: the sliced element's children for a slice, else the snapshot of
//! the parent's data type. R4's renamed choice (`Observation.valueQuantity`) is the type slice
//! `Observation.value[x]:valueQuantity`.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::fhir::definitions::Definitions;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    #[error("{0}: no such StructureDefinition")]
    Unknown(String),
    #[error("{0} has no snapshot and no differential")]
    Empty(String),
    #[error("{url}: its base definitions loop through {again}")]
    Cycle { url: String, again: String },
    #[error("{url}: differential element {id} has no place in the base ({why})")]
    Unplaced {
        url: String,
        id: String,
        why: String,
    },
}

/// The snapshot of the StructureDefinition at `url`: its own when it has one, else generated
/// from its differential over its base (recursively).
pub fn snapshot(definitions: &Definitions, url: &str) -> Result<Vec<Value>, SnapshotError> {
    snapshot_of(definitions, url, &mut HashSet::new())
}

fn snapshot_of(
    definitions: &Definitions,
    url: &str,
    visiting: &mut HashSet<String>,
) -> Result<Vec<Value>, SnapshotError> {
    let sd = definitions
        .structure(url)
        .ok_or_else(|| SnapshotError::Unknown(url.to_owned()))?;
    if let Some(elements) = sd["snapshot"]["element"].as_array() {
        return Ok(elements.clone());
    }
    if !visiting.insert(url.to_owned()) {
        return Err(SnapshotError::Cycle {
            url: url.to_owned(),
            again: url.to_owned(),
        });
    }
    let base_url = sd["baseDefinition"]
        .as_str()
        .ok_or_else(|| SnapshotError::Empty(url.to_owned()))?;
    let base = snapshot_of(definitions, base_url, visiting)?;
    let differential = sd["differential"]["element"]
        .as_array()
        .ok_or_else(|| SnapshotError::Empty(url.to_owned()))?;
    generate(definitions, url, base, differential)
}

/// Applies `differential` over `base` (the base's snapshot elements).
pub fn generate(
    definitions: &Definitions,
    url: &str,
    base: Vec<Value>,
    differential: &[Value],
) -> Result<Vec<Value>, SnapshotError> {
    let mut builder = Builder {
        definitions,
        url,
        elements: base,
        renames: Vec::new(),
        base_cardinality: HashMap::new(),
    };
    for element in differential {
        // An id and a path that name different elements: the differential is broken. (An id
        // of a renamed choice, `X.value[x]:valueQuantity` with path `X.valueQuantity`, is one
        // element written two ways: left alone.)
        let own_id = element_id(element);
        if let Some(path) = element["path"].as_str()
            && id_to_path(&own_id) != path
            && !own_id.contains("[x]:")
        {
            return Err(builder.unplaced(&own_id, format!("its path {path} names another element")));
        }
        let id = builder.renamed(&own_id);
        let index = builder.place(&id)?;
        let before = &builder.elements[index];
        if element.get("min").is_some() || element.get("max").is_some() {
            builder
                .base_cardinality
                .entry(id.clone())
                .or_insert_with(|| (before["min"].clone(), before["max"].clone()));
        }
        merge(&mut builder.elements[index], element);
        if let Some(map) = builder.elements[index].as_object_mut() {
            map.insert("id".into(), json!(id));
            map.insert("path".into(), json!(id_to_path(&id)));
        }
    }
    Ok(builder.elements)
}

struct Builder<'a> {
    definitions: &'a Definitions,
    url: &'a str,
    elements: Vec<Value>,
    /// Id prefixes the differential names by a renamed choice (`Observation.valueQuantity`) and
    /// the snapshot ids they stand for (`Observation.value[x]:valueQuantity`).
    renames: Vec<(String, String)>,
    /// The cardinality elements had before the differential changed it: a new slice starts
    /// from its sliced element as the base defines it, so `Extension.extension` constrained to
    /// min 2 (all slices together) does not make each slice required twice.
    base_cardinality: HashMap<String, (Value, Value)>,
}

/// An element's id, or one made from its path (R4 ids are optional in differentials).
fn element_id(element: &Value) -> String {
    if let Some(id) = element["id"].as_str() {
        return id.to_owned();
    }
    let path = element["path"].as_str().unwrap_or("");
    match element["sliceName"].as_str() {
        Some(slice) => format!("{path}:{slice}"),
        None => path.to_owned(),
    }
}

/// The id of an element's parent: the id without its last segment (`a.b:s.c` → `a.b:s`).
fn parent_id(id: &str) -> Option<&str> {
    id.rsplit_once('.').map(|(parent, _)| parent)
}

/// The path an id stands for: slice names dropped (`a.b:s.c` → `a.b.c`).
fn id_to_path(id: &str) -> String {
    id.split('.')
        .map(|segment| segment.split(':').next().unwrap_or(segment))
        .collect::<Vec<_>>()
        .join(".")
}

impl Builder<'_> {
    fn index(&self, id: &str) -> Option<usize> {
        self.elements.iter().position(|e| e["id"] == id)
    }

    fn unplaced(&self, id: &str, why: impl Into<String>) -> SnapshotError {
        SnapshotError::Unplaced {
            url: self.url.to_owned(),
            id: id.to_owned(),
            why: why.into(),
        }
    }

    /// The index of the element with `id`, creating it (and expanding its parent) if needed.
    fn place(&mut self, id: &str) -> Result<usize, SnapshotError> {
        if let Some(index) = self.index(id) {
            return Ok(index);
        }
        let Some(parent) = parent_id(id) else {
            return Err(self.unplaced(id, "it is not below the profiled type"));
        };
        let parent = parent.to_owned();
        let parent_index = self.place(&parent)?;
        let last = id.rsplit('.').next().unwrap_or(id);
        if let Some((name, slice)) = last.split_once(':') {
            // A new slice of `parent.name`.
            let sliced = format!("{parent}.{name}");
            let sliced_index = self.place(&sliced)?;
            return Ok(self.add_slice(sliced_index, &sliced, slice));
        }
        self.expand(parent_index, &parent)?;
        self.index(id)
            .ok_or_else(|| self.unplaced(id, "its parent's type has no such element"))
    }

    /// The snapshot id a differential id stands for. R4's renamed choice (`Observation.valueQuantity`,
    /// where the base has `Observation.value[x]`) restricts the choice to that type, as HL7's
    /// generator reads it: a closed type slice (`Observation.value[x]:valueQuantity`), except
    /// below a slice the profile makes, where it is the choice element itself. Ids below a
    /// renamed element follow it.
    fn renamed(&mut self, id: &str) -> String {
        for (from, to) in &self.renames {
            if id == from {
                return to.clone();
            }
            if let Some(rest) = id.strip_prefix(&format!("{from}.")) {
                return format!("{to}.{rest}");
            }
        }
        let Some((parent, last)) = id.rsplit_once('.') else {
            return id.to_owned();
        };
        if last.contains(':') || last.ends_with("[x]") || self.index(id).is_some() {
            return id.to_owned();
        }
        let parent = self.renamed(parent);
        for (split, _) in last.char_indices().skip(1) {
            let (stem, type_name) = last.split_at(split);
            if !type_name.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            let choice = format!("{parent}.{stem}[x]");
            let Some(choice_index) = self.index(&choice) else {
                continue;
            };
            let narrowed: Vec<Value> = self.elements[choice_index]["type"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| {
                    t["code"]
                        .as_str()
                        .is_some_and(|c| upper_first(c) == type_name)
                })
                .cloned()
                .collect();
            // `valueBla` names no type of `value[x]`: not a choice (placing it then fails).
            if narrowed.is_empty() {
                continue;
            }
            let to = if parent.contains(':') {
                self.elements[choice_index]["type"] = json!(narrowed);
                choice
            } else {
                let choice_element = &mut self.elements[choice_index];
                if choice_element.get("slicing").is_none() {
                    choice_element["slicing"] = json!({
                        "discriminator": [{"type": "type", "path": "$this"}],
                        "ordered": false,
                        "rules": "closed"
                    });
                    choice_element["type"] = json!([]);
                }
                if let Some(types) = choice_element["type"].as_array_mut() {
                    types.extend(narrowed);
                }
                format!("{choice}:{last}")
            };
            self.renames.push((format!("{parent}.{last}"), to.clone()));
            return to;
        }
        format!("{parent}.{last}")
    }

    /// A copy of the sliced element (without its slicing) and its children, named `slice`,
    /// after the element's existing slices. For a type slice of a choice (`valueQuantity`), the
    /// copy is narrowed to that type.
    fn add_slice(&mut self, sliced_index: usize, sliced_id: &str, slice: &str) -> usize {
        let slice_id = format!("{sliced_id}:{slice}");
        // Extensions are always sliced by url (FHIR R4 profiling.html); the others say how.
        let name = sliced_id.rsplit('.').next().unwrap_or(sliced_id);
        if matches!(name, "extension" | "modifierExtension")
            && self.elements[sliced_index].get("slicing").is_none()
        {
            self.elements[sliced_index]["slicing"] = json!({
                "discriminator": [{"type": "value", "path": "url"}],
                "ordered": false,
                "rules": "open"
            });
        }
        let mut copies = Vec::new();
        let mut head = self.elements[sliced_index].clone();
        if let Some(map) = head.as_object_mut() {
            map.remove("slicing");
            map.insert("id".into(), json!(slice_id));
            map.insert("sliceName".into(), json!(slice));
            if let Some((min, max)) = self.base_cardinality.get(sliced_id) {
                map.insert("min".into(), min.clone());
                map.insert("max".into(), max.clone());
            }
        }
        if let Some(type_name) = choice_slice_type(sliced_id, slice) {
            let narrowed: Vec<Value> = head["type"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| {
                    t["code"]
                        .as_str()
                        .is_some_and(|c| upper_first(c) == type_name)
                })
                .cloned()
                .collect();
            if !narrowed.is_empty() {
                head["type"] = json!(narrowed);
            }
        }
        copies.push(head);
        let child_prefix = format!("{sliced_id}.");
        for element in &self.elements[sliced_index + 1..] {
            let Some(id) = element["id"].as_str() else {
                continue;
            };
            if !id.starts_with(&child_prefix) {
                if id.starts_with(sliced_id) {
                    continue; // the element's other slices and their children
                }
                break;
            }
            let mut copy = element.clone();
            copy["id"] = json!(format!("{slice_id}.{}", &id[child_prefix.len()..]));
            copies.push(copy);
        }
        // After the last element that belongs to the sliced element (children, other slices).
        let mut at = sliced_index + 1;
        while at < self.elements.len()
            && self.elements[at]["id"].as_str().is_some_and(|id| {
                id.starts_with(&child_prefix) || id.starts_with(&format!("{sliced_id}:"))
            })
        {
            at += 1;
        }
        let inserted = at;
        for (offset, copy) in copies.into_iter().enumerate() {
            self.elements.insert(at + offset, copy);
        }
        inserted
    }

    /// Makes sure the element at `index` has its children in the snapshot: for a slice, the
    /// sliced element's children; else its data type's elements.
    fn expand(&mut self, index: usize, id: &str) -> Result<(), SnapshotError> {
        let child_prefix = format!("{id}.");
        if self
            .elements
            .get(index + 1)
            .and_then(|e| e["id"].as_str())
            .is_some_and(|next| next.starts_with(&child_prefix))
        {
            return Ok(());
        }
        let element = &self.elements[index];
        let path = element["path"].as_str().unwrap_or("").to_owned();
        let types: Vec<String> = element["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["code"].as_str().map(str::to_owned))
            .collect();
        // A slice's children are its sliced element's, when those are shown.
        let sliced = id.rsplit_once('.').and_then(|(parent, last)| {
            last.split_once(':')
                .map(|(name, _)| format!("{parent}.{name}"))
        });
        if let Some(sliced) = sliced.as_deref()
            && let Some(sliced_index) = self.index(sliced)
        {
            let sliced_prefix = format!("{sliced}.");
            let children: Vec<Value> = self.elements[sliced_index + 1..]
                .iter()
                .take_while(|e| {
                    e["id"].as_str().is_some_and(|i| {
                        i.starts_with(&sliced_prefix) || i.starts_with(&format!("{sliced}:"))
                    })
                })
                .filter(|e| {
                    e["id"]
                        .as_str()
                        .is_some_and(|i| i.starts_with(&sliced_prefix))
                })
                .cloned()
                .collect();
            if !children.is_empty() {
                let copies = children.into_iter().map(|mut child| {
                    let child_id = child["id"].as_str().unwrap_or("").to_owned();
                    child["id"] = json!(format!("{id}.{}", &child_id[sliced_prefix.len()..]));
                    child
                });
                self.insert_after(index, copies.collect());
                return Ok(());
            }
        }
        let [type_name] = types.as_slice() else {
            return Err(self.unplaced(
                &child_prefix,
                format!(
                    "{id} has {} types, so its children are not known",
                    types.len()
                ),
            ));
        };
        let type_name = type_name.clone();
        let type_snapshot = snapshot(self.definitions, &type_name)?;
        let copies: Vec<Value> = type_snapshot
            .iter()
            .skip(1)
            .filter_map(|child| {
                let child_path = child["path"].as_str()?;
                let child_id = child["id"].as_str().unwrap_or(child_path);
                let rest = child_id.strip_prefix(&format!("{type_name}."))?;
                let rest_path = child_path.strip_prefix(&format!("{type_name}."))?;
                let mut copy = child.clone();
                copy["id"] = json!(format!("{id}.{rest}"));
                copy["path"] = json!(format!("{path}.{rest_path}"));
                Some(copy)
            })
            .collect();
        self.insert_after(index, copies);
        Ok(())
    }

    fn insert_after(&mut self, index: usize, copies: Vec<Value>) {
        let at = index + 1;
        self.elements.splice(at..at, copies);
    }
}

/// For a slice of a choice element named after a type (`value[x]` sliced as `valueQuantity`),
/// the type's name (`Quantity`).
fn choice_slice_type<'s>(sliced_id: &str, slice: &'s str) -> Option<&'s str> {
    let stem = sliced_id.rsplit('.').next()?.strip_suffix("[x]")?;
    slice
        .strip_prefix(stem)
        .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The differential's properties over the snapshot element's: replaced, except constraints,
/// which add to the base's (FHIR profiling.html: a profile can only add invariants).
fn merge(target: &mut Value, differential: &Value) {
    let Some(source) = differential.as_object() else {
        return;
    };
    for (key, value) in source {
        match key.as_str() {
            "id" | "path" => {}
            "constraint" => {
                let list = target
                    .as_object_mut()
                    .map(|t| t.entry("constraint").or_insert_with(|| json!([])));
                if let Some(Value::Array(existing)) = list {
                    for constraint in value.as_array().into_iter().flatten() {
                        if !existing.iter().any(|c| c["key"] == constraint["key"]) {
                            existing.push(constraint.clone());
                        }
                    }
                }
            }
            _ => {
                if let Some(map) = target.as_object_mut() {
                    map.insert(key.clone(), value.clone());
                }
            }
        }
    }
    if let Some(map) = target.as_object_mut()
        && let Some(id) = map.get("id").and_then(Value::as_str).map(str::to_owned)
    {
        map.insert("path".into(), json!(id_to_path(&id)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a snapshot element says, for comparing ours with HL7's.
    fn summary(element: &Value) -> Value {
        let types: Vec<&str> = element["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["code"].as_str())
            .collect();
        let fixed: Vec<(&String, &Value)> = element
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("fixed") || k.starts_with("pattern"))
            .collect();
        json!({
            "min": element["min"],
            "max": element["max"],
            "types": types,
            "fixed": format!("{fixed:?}"),
            "binding": element["binding"],
            "slicing": element["slicing"]["discriminator"],
            "sliceName": element["sliceName"],
        })
    }

    /// HL7's own snapshots of the core profiles (vitalsigns, bp, …): ours, generated from each
    /// differential over its base, must agree on every element the differential touches and on
    /// every element HL7 shows at all.
    #[test]
    fn generated_snapshots_agree_with_hl7s_for_the_core_profiles() {
        let core = Definitions::core().unwrap();
        let profiles: Vec<&std::sync::Arc<Value>> = core
            .structures()
            .filter(|sd| sd["derivation"] == "constraint" && sd["type"] != "Extension")
            .filter(|sd| sd["differential"]["element"].is_array())
            .filter(|sd| sd["snapshot"]["element"].is_array())
            .collect();
        assert!(profiles.len() >= 40, "{} core profiles", profiles.len());
        let mut problems = Vec::new();
        let mut compared = 0;
        // Where HL7's published snapshot is not what its differential says, or expands what no
        // constraint touches; each read by hand.
        let known = [
            // The differential binds Provenance.agent:Author.type to provenance-history-agent-type;
            // the published snapshot kept the base's provenance-agent-type. Ours follows the
            // differential.
            "http://hl7.org/fhir/StructureDefinition/provenance-relevant-history: Provenance.agent:Author.type",
            // HL7 shows the Extension data type's children under two profiled extension slices
            // the differential does not constrain; they add no constraint.
            "http://hl7.org/fhir/StructureDefinition/elementdefinition-de: ElementDefinition.extension:",
        ];
        for sd in profiles {
            let url = sd["url"].as_str().unwrap();
            let base = match snapshot(&core, sd["baseDefinition"].as_str().unwrap()) {
                Ok(base) => base,
                Err(e) => {
                    problems.push(format!("{url}: base: {e}"));
                    continue;
                }
            };
            let ours = match generate(
                &core,
                url,
                base,
                sd["differential"]["element"].as_array().unwrap(),
            ) {
                Ok(ours) => ours,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            let theirs = sd["snapshot"]["element"].as_array().unwrap();
            for element in theirs {
                let id = element["id"].as_str().unwrap();
                compared += 1;
                if known.iter().any(|k| format!("{url}: {id}").starts_with(k)) {
                    continue;
                }
                match ours.iter().find(|e| e["id"] == id) {
                    None => problems.push(format!("{url}: {id} missing")),
                    Some(mine) if summary(mine) != summary(element) => problems.push(format!(
                        "{url}: {id}: ours {} / HL7 {}",
                        summary(mine),
                        summary(element)
                    )),
                    Some(_) => {}
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{} of {compared} elements differ:\n{}",
            problems.len(),
            problems
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn ids_and_paths() {
        assert_eq!(
            parent_id("Observation.component:Sys.code"),
            Some("Observation.component:Sys")
        );
        assert_eq!(
            id_to_path("Observation.component:Sys.code.coding:x.system"),
            "Observation.component.code.coding.system"
        );
        assert_eq!(
            choice_slice_type("Observation.value[x]", "valueQuantity"),
            Some("Quantity")
        );
        assert_eq!(
            choice_slice_type("Observation.component", "SystolicBP"),
            None
        );
    }
}
