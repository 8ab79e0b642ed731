//! Primitive values: their JSON form and their type's lexical rule.

use std::sync::Arc;

use super::{Compiled, Element, Item, Run, Severity, Validator};

impl Validator {
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
}

impl<'v, 'r> Run<'v, 'r> {
    /// A primitive's JSON form (string, number or boolean) and its type's lexical rule; a
    /// resource's own id by the `id` rule (R4's snapshots type it as a plain string).
    pub(super) fn check_primitive(
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
}
