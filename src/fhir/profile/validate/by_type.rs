//! Values judged by their type: its profile, extensions and their contexts, contained resources.

use super::{Compiled, Element, Item, Run, Severity, upper_first};

impl<'v, 'r> Run<'v, 'r> {
    /// A value whose element the snapshot does not expand: checked against the profile its type
    /// names, or an extension against its definition, or a complex type against the core type, or
    /// a contained resource against its own type.
    pub(super) fn check_by_type(
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
}

/// Whether a type code is a FHIR primitive (lower-case first letter, or a FHIRPath system type).
fn is_primitive(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        || code.starts_with("http://hl7.org/fhirpath/")
}
