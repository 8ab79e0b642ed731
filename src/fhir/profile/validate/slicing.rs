//! An element's values in an object: choice types, cardinality and slicing.

use serde_json::Value;

use super::values::contains_pattern;
use super::{Compiled, Element, Item, MAX_DEPTH, Run, Severity, Slicing, upper_first};

impl<'v, 'r> Run<'v, 'r> {
    /// The values of one child element in `object`, their cardinality and their slices.
    pub(super) fn check_child(
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
