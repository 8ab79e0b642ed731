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
