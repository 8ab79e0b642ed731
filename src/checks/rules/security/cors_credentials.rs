//! `security.cors-credentials` (SEC-HDR-006): no response grants credentialed CORS access to any
//! origin.

use super::fail_with;
use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.cors-credentials",
    requirement: RequirementCode::new("SEC-HDR-006"),
    summary: "no response grants credentialed CORS access to any origin",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(
        match security::cors(response, exchange.request.header("origin"))? {
            Ok(()) => Judged::pass(),
            Err(problem) => fail_with(
                exchange,
                "grants credentialed access to any origin",
                "no credentials with a wildcard or echoed origin",
                problem,
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_never_granted_to_any_origin() {
        let judged = |headers: &[(&str, &str)]| verdict(&CHECK, &exchange(200, headers, ""));
        assert_eq!(
            judged(&[("access-control-allow-origin", "https://app.example.nhs.uk")]),
            Some(Ok(()))
        );
        assert!(
            judged(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-credentials", "true")
            ])
            .unwrap()
            .is_err()
        );
        assert_eq!(judged(&[]), None, "no CORS answer");
    }
}
