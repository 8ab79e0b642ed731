//! The requirement catalogue: every NHS requirement with a stable id, level, source and status.
//!
//! The catalogue is data (`standards/*.toml`), embedded in the binary and loaded without any I/O
//! beyond reading those files, so `mts list` and `mts explain` stay cheap.

mod framework;
mod load;
mod model;

pub use framework::{Clause, ClauseRef, Framework, Testability};
pub use load::{CatalogueError, load_dir, load_embedded, load_with_requirement_files};
pub use model::{
    Area, Catalogue, Level, Need, Profile, Requirement, RequirementCode, RequirementId, Source,
    SourceRef, Status, Strength,
};
