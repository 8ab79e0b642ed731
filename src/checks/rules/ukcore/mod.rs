//! UK Core: profiles, NHS numbers, ODS codes, identifier systems (IOP-UKC).

pub(super) mod identifier_systems;
pub(super) mod nhs_number_checksum;
pub(super) mod nhs_number_identifier;
pub(super) mod ods_codes;
pub(super) mod profiles;
pub(super) mod verification_status;
