//! `security.no-store` (SEC-HDR-002): every response, success and error, carries Cache-Control: no-
//! store.

use super::header_rule;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.no-store",
    requirement: RequirementCode::new("SEC-HDR-002"),
    summary: "every response, success and error, carries Cache-Control: no-store",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    header_rule(
        exchange,
        security::no_store,
        "may be cached",
        "Cache-Control: no-store",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_forbids_caching() {
        let judged = |headers: &[(&str, &str)]| verdict(&CHECK, &exchange(404, headers, ""));
        assert_eq!(
            judged(&[("cache-control", "private, no-store")]),
            Some(Ok(()))
        );
        assert!(judged(&[("cache-control", "no-cache")]).unwrap().is_err());
        let failure = judged(&[]).unwrap().unwrap_err();
        assert_eq!(failure.actual.as_deref(), Some("no Cache-Control header"));
    }
}
