//! Rules beyond the snapshot's structure: R4's prose rules, unknown properties, invariants.

use serde_json::Value;

use super::{Compiled, Element, Item, Run, Severity};
use crate::fhir::fhirpath::Focus;

impl<'v, 'r> Run<'v, 'r> {
    /// Rules R4 states in prose rather than as invariants: a Coding's system is an absolute URI
    /// naming a code system (not a value set); an Attachment's size is the size of its data; a
    /// Bundle entry's fullUrl is absolute.
    pub(super) fn check_core_rules(
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

    /// Properties no child element defines (`unknownElement`): FHIR JSON allows none.
    pub(super) fn check_unknown_properties(
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

    pub(super) fn check_invariants(
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
}
