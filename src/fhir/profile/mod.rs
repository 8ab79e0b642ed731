//! Profiles: snapshot generation from differentials, and validation of resources against the
//! profiles they claim (UK Core, or any implementation guide loaded into the definitions).

pub mod snapshot;
pub mod validate;
pub mod valueset;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::fhir::definitions::Definitions;
use crate::fhir::{fhirpath, ig};

/// A validator over R4 core and UK Core, and UK Core's profile per resource type, built once
/// per process: the suite's passive check (IOP-UKC-008) judges every response with it.
pub struct UkCore {
    pub validator: validate::Validator,
    pub by_type: BTreeMap<String, String>,
}

pub fn uk_core() -> Result<&'static UkCore, String> {
    static BUILT: OnceLock<Result<UkCore, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let definitions = ig::uk_core()?;
            Ok(UkCore {
                by_type: uk_core_type_profiles(&definitions),
                validator: validator(definitions),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// UK Core's profile for each resource type it profiles (`Patient` → `…/UKCore-Patient`).
pub fn uk_core_type_profiles(definitions: &Definitions) -> BTreeMap<String, String> {
    ig::type_profiles(definitions, &format!("{}UKCore-", ig::UK_CORE_PREFIX))
}

/// A validator over `definitions`, with every rule mts can evaluate, invariants included.
pub fn validator(definitions: Arc<Definitions>) -> validate::Validator {
    let engine = fhirpath::Engine::new(Arc::clone(&definitions));
    validate::Validator::new(definitions).with_invariants(Box::new(
        move |expression: &str,
              focus: fhirpath::Focus<'_>,
              resource: &serde_json::Value,
              root: &serde_json::Value| { engine.check(expression, focus, resource, root) },
    ))
}
