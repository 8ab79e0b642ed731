//! The Gherkin step vocabulary. Steps are thin: they build requests, send them through the
//! shared client, and call the assertion functions in `checks`, which hold the logic.
//!
//! Steps are registered explicitly (no linker-section magic), so the library can list and lint
//! them, and a step that fails stops its scenario with a typed `Halt` the runner reads back.

mod auth;
mod compartment;
mod context;
mod fhir;
mod http;
mod input;
mod library;
mod load;
mod mtls;
mod search;
mod server;
mod tls;
mod transaction;
mod world;
mod writes;

pub use context::{KitShortfall, LoadSettings, MutualTls, RunContext};
pub use library::{StepKind, StepLibrary};
pub use world::{MtsWorld, expand_placeholders};
pub use writes::TEST_IDENTIFIER_SYSTEM;
pub(crate) use writes::test_identifier;
