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

/// Whether the supplier's CapabilityStatement declares the generic `application/json` format
/// (its OpenAPI document declares media types per response: see `OpenApi::declares_response_media`).
pub fn declares_json(model: Option<&TargetModel>) -> bool {
    model.is_some_and(|m| m.formats.iter().any(|f| f == "application/json"))
}

/// The profile the target declares every resource of each type conforms to (type → URL).
pub fn declared_profiles(
    model: Option<&TargetModel>,
) -> std::collections::BTreeMap<String, String> {
    model
        .into_iter()
        .flat_map(|m| &m.resources)
        .filter_map(|(kind, resource)| Some((kind.clone(), resource.base_profile.clone()?)))
        .collect()
}
