//! `security.version-disclosure` (SEC-HDR-004): no response header names server software with its
//! version.

use super::header_rule;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.version-disclosure",
    requirement: RequirementCode::new("SEC-HDR-004"),
    summary: "no response header names server software with its version",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    header_rule(
        exchange,
        security::version_disclosure,
        "discloses server software",
        "no Server/X-Powered-By version",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_header_names_software_with_its_version() {
        let judged = |headers: &[(&str, &str)]| verdict(&CHECK, &exchange(200, headers, ""));
        assert_eq!(judged(&[("server", "nginx")]), Some(Ok(())));
        assert_eq!(judged(&[]), Some(Ok(())));
        assert!(judged(&[("server", "nginx/1.25.3")]).unwrap().is_err());
        assert!(
            judged(&[("x-aspnet-version", "4.0.30319")])
                .unwrap()
                .is_err()
        );
    }
}
