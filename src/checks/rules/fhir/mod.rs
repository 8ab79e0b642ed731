//! FHIR R4 itself: schema validity and resource metadata (IOP-FHIR).

pub(super) mod meta;
pub(super) mod schema;
