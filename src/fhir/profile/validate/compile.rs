//! A profile's snapshot compiled for validation: its elements, linked to children and slices.

use std::collections::HashMap;

use serde_json::Value;

use super::{Compiled, Constraint, Discriminator, Element, Severity, Slicing, Strength, TypeRef};

impl Compiled {
    pub(super) fn new(url: &str, snapshot: &[Value]) -> Self {
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
