//! The passive-check registry: one rule per file under `<area>/`, the way ruff keeps its rules.
//! Each file holds its rule's doc, its registry entry (`CHECK`: id, requirement, summary, judge)
//! and its own tests over canned exchanges. To add a rule: write its file, list its module in
//! the area's `mod.rs` and its `CHECK` below (the report's order); the invariant tests below and
//! `mts lint` hold the registry to the catalogue.

mod api;
mod fhir;
mod openapi;
pub(crate) mod prelude;
mod security;
mod terminology;
mod ukcore;

use super::content::Judgement;
use super::passive::{Judged, PassiveCheck};
use crate::http::Exchange;

/// Every passive check, in the order reports list them.
pub static PASSIVE_CHECKS: &[PassiveCheck] = &[
    fhir::schema::CHECK,
    fhir::meta::CHECK,
    ukcore::profiles::CHECK,
    ukcore::nhs_number_checksum::CHECK,
    ukcore::nhs_number_identifier::CHECK,
    ukcore::verification_status::CHECK,
    ukcore::ods_codes::CHECK,
    ukcore::identifier_systems::CHECK,
    terminology::snomed::CHECK,
    terminology::dmd::CHECK,
    terminology::display::CHECK,
    api::error_operation_outcome::CHECK,
    api::error_issues::CHECK,
    api::spine_error_code::CHECK,
    api::status_matches_code::CHECK,
    api::request_id_echo::CHECK,
    api::etag_version::CHECK,
    security::hsts::CHECK,
    security::no_store::CHECK,
    security::nosniff::CHECK,
    security::version_disclosure::CHECK,
    security::content_type::CHECK,
    security::cors_credentials::CHECK,
    security::error_disclosure::CHECK,
    openapi::response_conformance::CHECK,
];

/// A rule over the resource a response carries: `rule` lists its problems, or `None` when the
/// resource holds nothing the rule is about.
pub(crate) fn content_rule(
    exchange: &Exchange,
    rule: fn(&serde_json::Value) -> Judgement,
    what: &str,
    expected: &str,
) -> Option<Judged> {
    let body = exchange.response.as_ref()?.resource()?;
    let problems = rule(body)?;
    Some(Judged::from_problems(exchange, what, expected, problems))
}

#[cfg(test)]
pub(crate) mod testing {
    use super::prelude::*;
    use crate::catalogue::Profile;
    use crate::fhir::schema::FhirSchema;

    /// The context a rule sees in a run against `http://127.0.0.1:1/FHIR/R4` under apim.
    pub(crate) fn context() -> PassiveContext {
        PassiveContext {
            schema: FhirSchema::embedded().unwrap(),
            profile: Profile::Apim,
            base_url: "http://127.0.0.1:1/FHIR/R4".into(),
            openapi: None,
            json_declared: false,
            declared_profiles: Default::default(),
        }
    }

    /// What `check` makes of one exchange: `None` when it is not about it.
    pub(crate) fn verdict(
        check: &PassiveCheck,
        exchange: &Exchange,
    ) -> Option<Result<(), Failure>> {
        (check.judge)(exchange, &context()).map(|judged| judged.result)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Ids are unique and name their area (`area.rule`, lower-case words), and every summary
    /// says something. That each requirement exists and is automated is `mts lint`'s to say.
    #[test]
    fn the_registry_is_well_formed() {
        let mut ids = BTreeSet::new();
        for check in PASSIVE_CHECKS {
            assert!(ids.insert(check.id), "{} listed twice", check.id);
            let (area, rule) = check.id.split_once('.').expect("area.rule");
            assert!(
                [
                    "fhir",
                    "ukcore",
                    "terminology",
                    "api",
                    "security",
                    "openapi"
                ]
                .contains(&area),
                "{}",
                check.id
            );
            assert!(
                rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                check.id
            );
            assert!(!check.summary.trim().is_empty(), "{}", check.id);
        }
    }
}
