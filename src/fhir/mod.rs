//! FHIR knowledge the checks share: the R4 JSON schema, FHIRPath-like locations, NHS numbers,
//! OperationOutcome and Bundle helpers. Pure functions, unit-tested without a network.

pub mod compiled;
pub mod definitions;
pub mod fhirpath;
pub mod ig;
pub mod nhs_number;
pub mod ods;
pub mod outcome;
pub mod path;
pub mod primitive;
pub mod profile;
pub mod reference;
pub mod schema;
pub mod terminology;
pub mod walk;
pub mod xml;

/// The NHS number identifier system (UK Core `nhsNumber` slice).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// The HL7 v3 Confidentiality code system of `meta.security` labels.
pub const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// Confidentiality codes that mark a record restricted: R (restricted), V (very restricted).
pub const RESTRICTED_CODES: &[&str] = &["R", "V"];

/// Whether `resource` carries a restricted confidentiality label in `meta.security`.
pub fn is_restricted(resource: &serde_json::Value) -> bool {
    resource
        .pointer("/meta/security")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|labels| {
            labels.iter().any(|label| {
                label["system"] == CONFIDENTIALITY_SYSTEM
                    && label["code"]
                        .as_str()
                        .is_some_and(|code| RESTRICTED_CODES.contains(&code))
            })
        })
}
