//! `security.hsts` (SEC-HDR-001): every HTTPS response carries Strict-Transport-Security with max-
//! age of at least six months (a year recommended).

use super::fail_with;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.hsts",
    requirement: RequirementCode::new("SEC-HDR-001"),
    summary: "every HTTPS response carries Strict-Transport-Security with max-age of at least six months (a year recommended)",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match security::hsts(exchange, response)? {
        Ok(note) => Judged {
            result: Ok(()),
            note,
        },
        Err(problem) => fail_with(
            exchange,
            "lacks strict transport security",
            "Strict-Transport-Security: max-age=31536000",
            problem,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::testing::exchange_over_https as https;

    #[test]
    fn https_responses_carry_hsts_of_six_months_or_more() {
        let hsts = |value: &str| verdict(&CHECK, &https(&[("strict-transport-security", value)]));
        assert_eq!(hsts("max-age=31536000"), Some(Ok(())));
        assert_eq!(
            hsts("max-age=20000000"),
            Some(Ok(())),
            "under a year is a note, not a failure"
        );
        assert!(hsts("max-age=300").unwrap().is_err());
        assert!(verdict(&CHECK, &https(&[])).unwrap().is_err());
        assert_eq!(
            verdict(&CHECK, &exchange(200, &[], "")),
            None,
            "plain HTTP is not judged"
        );
    }
}
