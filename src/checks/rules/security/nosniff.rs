//! `security.nosniff` (SEC-HDR-003): every response carries X-Content-Type-Options: nosniff.

use super::header_rule;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.nosniff",
    requirement: RequirementCode::new("SEC-HDR-003"),
    summary: "every response carries X-Content-Type-Options: nosniff",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    header_rule(
        exchange,
        security::nosniff,
        "allows MIME sniffing",
        "X-Content-Type-Options: nosniff",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_forbids_mime_sniffing() {
        let judged = |headers: &[(&str, &str)]| verdict(&CHECK, &exchange(200, headers, ""));
        assert_eq!(
            judged(&[("x-content-type-options", "nosniff")]),
            Some(Ok(()))
        );
        assert!(
            judged(&[("x-content-type-options", "sniff")])
                .unwrap()
                .is_err()
        );
        assert!(judged(&[]).unwrap().is_err());
    }
}
