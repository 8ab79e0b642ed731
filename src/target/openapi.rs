//! What an OpenAPI document declares, read into the target model: FHIR interactions from the
//! shape of each path (`/Patient` GET is search-type, `/Patient/{id}` PATCH is patch), search
//! parameters from the query parameters, JSON Patch media types and required If-Match headers.

use super::model::{Interaction, PatchStyle, ResourceModel, Source, TargetModel};
use crate::openapi::{DeclaredOperation, OpenApi};

/// A path segment that names a FHIR resource type: capitalised and with lower-case letters
/// (`Patient`, `AllergyIntolerance`; not `FHIR` or `R4`).
fn is_type_segment(segment: &str) -> bool {
    segment
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && segment.chars().all(|c| c.is_ascii_alphabetic())
        && segment.chars().any(|c| c.is_ascii_lowercase())
}

fn is_variable(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The resource type and the interaction a path and method stand for; operations (`$name`)
/// come back as `Err(name)` with their type (`None` at system level).
#[derive(Debug, PartialEq, Eq)]
enum Meaning {
    Interaction(String, Interaction),
    Operation(Option<String>, String),
}

fn meaning(method: &str, path: &str) -> Option<Meaning> {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(last) = segments.last()
        && let Some(name) = last.strip_prefix('$')
    {
        let kind = segments
            .iter()
            .rev()
            .skip(1)
            .find(|s| is_type_segment(s))
            .map(|s| (*s).to_owned());
        return Some(Meaning::Operation(kind, name.to_owned()));
    }
    // The type is the last type-like segment; what follows it says which interaction.
    let position = segments.iter().rposition(|s| is_type_segment(s))?;
    // `/Patient/{id}/RelatedPerson` is a compartment search, not a type-level interaction.
    // (`/fhir/{tenant}/Patient` is not: the variable must follow a type.)
    if position >= 2
        && is_variable(segments[position - 1])
        && is_type_segment(segments[position - 2])
    {
        return None;
    }
    let kind = segments[position].to_owned();
    let rest = &segments[position + 1..];
    let interaction = match (method, rest) {
        ("GET", []) => Interaction::SearchType,
        ("POST", ["_search"]) => Interaction::SearchType,
        ("POST", []) => Interaction::Create,
        ("GET", [id]) if is_variable(id) => Interaction::Read,
        ("PUT", [id]) if is_variable(id) => Interaction::Update,
        ("PATCH", [id]) if is_variable(id) => Interaction::Patch,
        ("DELETE", [id]) if is_variable(id) => Interaction::Delete,
        ("GET", [id, "_history"]) if is_variable(id) => Interaction::HistoryInstance,
        ("GET", [id, "_history", version]) if is_variable(id) && is_variable(version) => {
            Interaction::Vread
        }
        ("GET", ["_history"]) => Interaction::HistoryType,
        _ => return None,
    };
    Some(Meaning::Interaction(kind, interaction))
}

/// Adds every resource type the document's paths declare.
pub fn add(model: &mut TargetModel, document: &OpenApi) {
    for operation in document.declared_operations() {
        match meaning(&operation.method, &operation.path) {
            Some(Meaning::Interaction(kind, interaction)) => {
                model.add(
                    &kind,
                    resource_model(interaction, &operation),
                    Source::Openapi,
                );
            }
            Some(Meaning::Operation(Some(kind), name)) => {
                let mut declared = ResourceModel::default();
                declared.operations.insert(name);
                model.add(&kind, declared, Source::Openapi);
            }
            Some(Meaning::Operation(None, name)) => {
                model.system_operations.insert(name);
            }
            None if operation.method.eq_ignore_ascii_case("POST")
                && operation.path.trim_matches('/').is_empty() =>
            {
                model.bundles_at_base = true;
            }
            None => {}
        }
    }
}

fn resource_model(interaction: Interaction, operation: &DeclaredOperation) -> ResourceModel {
    let mut declared = ResourceModel::default();
    declared.interactions.insert(interaction);
    match interaction {
        Interaction::SearchType => {
            for (name, _) in &operation.query {
                declared.search_params.insert(name.clone(), String::new());
            }
            // An OpenAPI parameter names no include values: any include is declared.
            if declared.search_params.contains_key("_include") {
                declared.search_include.insert("*".into());
            }
            if declared.search_params.contains_key("_revinclude") {
                declared.search_revinclude.insert("*".into());
            }
            declared.params_complete = true;
            let required: Vec<String> = operation
                .query
                .iter()
                .filter(|(_, required)| *required)
                .map(|(name, _)| name.clone())
                .collect();
            if !required.is_empty() {
                declared.required_search.push(required);
            }
        }
        Interaction::Patch => {
            let media = operation
                .request_media
                .iter()
                .find(|m| m.contains("json-patch"))
                .or(operation.request_media.first());
            declared.patch = Some(PatchStyle {
                media_type: media
                    .cloned()
                    .unwrap_or_else(|| "application/json-patch+json".into()),
                envelope: operation.request_envelope.clone(),
            });
        }
        _ => {}
    }
    if matches!(interaction, Interaction::Update | Interaction::Patch) {
        declared.if_match_required = operation
            .headers
            .iter()
            .any(|(name, required)| *required && name.eq_ignore_ascii_case("if-match"));
    }
    declared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_interactions() {
        let cases = [
            (
                "GET",
                "/Patient",
                Some(("Patient", Interaction::SearchType)),
            ),
            (
                "GET",
                "/FHIR/R4/Patient/{id}",
                Some(("Patient", Interaction::Read)),
            ),
            (
                "PATCH",
                "/Patient/{id}",
                Some(("Patient", Interaction::Patch)),
            ),
            (
                "POST",
                "/Observation",
                Some(("Observation", Interaction::Create)),
            ),
            (
                "PUT",
                "/Observation/{id}",
                Some(("Observation", Interaction::Update)),
            ),
            (
                "GET",
                "/Patient/{id}/_history/{vid}",
                Some(("Patient", Interaction::Vread)),
            ),
            ("GET", "/Patient/{id}/RelatedPerson", None),
            ("GET", "/_ping", None),
            ("GET", "/metadata", None),
        ];
        for (method, path, expected) in cases {
            let expected = expected.map(|(k, i)| Meaning::Interaction(k.to_owned(), i));
            assert_eq!(meaning(method, path), expected, "{method} {path}");
        }
        assert_eq!(
            meaning("GET", "/Patient/{id}/$everything"),
            Some(Meaning::Operation(
                Some("Patient".into()),
                "everything".into()
            ))
        );
    }

    #[test]
    fn a_pds_style_document_declares_search_read_and_an_enveloped_patch() {
        let document = OpenApi::parse(
            r#"
openapi: 3.0.0
info: {title: PDS, version: "1"}
paths:
  /Patient:
    parameters:
      - {name: X-Request-ID, in: header, required: true}
    get:
      parameters:
        - $ref: '#/components/parameters/Family'
        - {name: birthdate, in: query}
        - {name: _max-results, in: query}
      responses: {"200": {description: ok}}
  /Patient/{id}:
    get:
      responses: {"200": {description: ok}}
    patch:
      parameters:
        - {name: If-Match, in: header, required: true}
      requestBody:
        content:
          application/json-patch+json:
            schema:
              type: object
              required: [patches]
              properties: {patches: {$ref: 'components/schemas/JsonPatch.yaml'}}
      responses: {"200": {description: ok}}
components:
  parameters:
    Family: {name: family, in: query, required: false}
"#,
        )
        .unwrap();
        let mut model = TargetModel::default();
        add(&mut model, &document);
        let patient = model.resource("Patient").unwrap();
        assert!(patient.offers(Interaction::Read));
        assert!(patient.offers(Interaction::SearchType));
        assert!(patient.offers_param("family"));
        assert!(!patient.offers_param("identifier"));
        assert!(!patient.offers_param("_count"), "the list is complete");
        assert!(patient.if_match_required);
        assert_eq!(
            patient.patch,
            Some(PatchStyle {
                media_type: "application/json-patch+json".into(),
                envelope: Some("patches".into())
            })
        );
        assert!(patient.required_search.is_empty());
        assert!(!model.bundles_at_base);
        assert!(matches!(
            model.offers_system("transaction"),
            crate::target::Offer::NotDeclared(_)
        ));
    }

    #[test]
    fn a_post_to_the_base_leaves_transactions_and_batches_open() {
        let document = OpenApi::parse(
            r#"
openapi: 3.0.0
info: {title: T, version: "1"}
paths:
  /:
    post:
      responses: {"200": {description: ok}}
  /Observation:
    post:
      responses: {"201": {description: created}}
"#,
        )
        .unwrap();
        let mut model = TargetModel::default();
        add(&mut model, &document);
        assert!(model.bundles_at_base);
        assert!(matches!(
            model.offers_system("batch"),
            crate::target::Offer::Unknown
        ));
    }

    #[test]
    fn a_tenant_variable_before_the_type_is_no_compartment() {
        assert_eq!(
            meaning("GET", "/fhir/{tenant}/Patient"),
            Some(Meaning::Interaction(
                "Patient".into(),
                Interaction::SearchType
            ))
        );
        assert_eq!(meaning("GET", "/Patient/{id}/Observation"), None);
    }
}
