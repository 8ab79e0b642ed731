//! The target model: what the API under test declares it offers (resource types, interactions,
//! search parameters and the combinations it requires, patch formats), merged from its
//! CapabilityStatement, its OpenAPI document and `mts.toml`. Discovery fills it before planning;
//! the planner matches scenarios' needs against it and the steps derive their requests from it.

pub mod capability;
pub mod config;
pub mod derive;
mod model;
pub mod need;
pub mod openapi;

pub use model::{Declaration, Interaction, Offer, PatchStyle, ResourceModel, Source, TargetModel};
pub use need::Need;

/// Whether the supplier declares the generic `application/json` media type for FHIR content: in
/// its CapabilityStatement's formats, or for a response of a FHIR path (a resource type, or
/// `metadata`) of its OpenAPI document.
pub fn declares_json(
    model: Option<&TargetModel>,
    openapi: Option<&crate::checks::openapi::OpenApi>,
) -> bool {
    let fhir_path = |path: &str| {
        path.trim_end_matches('/').ends_with("/metadata")
            || path.split('/').any(openapi::is_type_segment)
    };
    model.is_some_and(|m| m.formats.iter().any(|f| f == "application/json"))
        || openapi.is_some_and(|o| o.declares_response_media("application/json", fhir_path))
}
