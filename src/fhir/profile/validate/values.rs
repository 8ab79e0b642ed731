//! One value's fixed and pattern values, binding and reference targets.

use serde_json::Value;

use super::{Compiled, Element, Item, Run, Severity, Strength};
use crate::fhir::profile::valueset::Expansion;

impl<'v, 'r> Run<'v, 'r> {
    /// Fixed, pattern, binding and reference target of one value.
    pub(super) fn check_value_rules(
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
}

/// `Patient/123` → `Patient` (absolute URLs too); `#contained` and `urn:` references name no type.
pub(super) fn reference_type(reference: &str) -> Option<&str> {
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

/// Whether `value` contains everything `pattern` says (FHIR pattern[x] semantics): objects by
/// their pattern's keys, arrays by each pattern item matching some value item, primitives equal.
pub(super) fn contains_pattern(value: &Value, pattern: &Value) -> bool {
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
