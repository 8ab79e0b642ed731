//! Terminology: SNOMED CT, dm+d and displays (IOP-TERM).

pub(super) mod display;
pub(super) mod dmd;
pub(super) mod snomed;
