//! Profiles: snapshot generation from differentials, and validation of resources against the
//! profiles they claim (UK Core, or any implementation guide loaded into the definitions).

pub mod snapshot;
pub mod validate;
pub mod valueset;
