//! `security.error-disclosure` (SEC-ERR-001): no error body carries stack traces, internals, or NHS
//! numbers the request did not mention.

use crate::checks::rules::prelude::*;
use crate::checks::security;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "security.error-disclosure",
    requirement: RequirementCode::new("SEC-ERR-001"),
    summary: "no error body carries stack traces, internals, or NHS numbers the request did not mention",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    if response.status < 400 {
        return None;
    }
    let sent = format!(
        "{} {}",
        exchange.request.url,
        exchange.request.body.as_deref().unwrap_or("")
    );
    let problems = security::error_disclosure(&response.body.text(), &sent);
    Some(Judged::from_problems(
        exchange,
        "gives internals away in an error",
        "an error body with no stack trace, internals or other patients' NHS numbers",
        problems,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_give_no_internals_away() {
        let judged = |status, body: &str| verdict(&CHECK, &exchange(status, &[], body));
        assert_eq!(judged(500, "Something went wrong"), Some(Ok(())));
        assert!(
            judged(500, "Traceback (most recent call last):\n  File x")
                .unwrap()
                .is_err()
        );
        assert!(
            judged(404, "no record for 9000000009").unwrap().is_err(),
            "an NHS number the request did not mention"
        );
        assert_eq!(
            judged(200, "Traceback (most recent call last):"),
            None,
            "only errors"
        );
    }
}
