//! Security headers and error hygiene (SEC-HDR, SEC-ERR).

pub(super) mod content_type;
pub(super) mod cors_credentials;
pub(super) mod error_disclosure;
pub(super) mod hsts;
pub(super) mod no_store;
pub(super) mod nosniff;
pub(super) mod version_disclosure;

use crate::checks::rules::prelude::*;

pub(super) fn fail_with(
    exchange: &Exchange,
    what: &str,
    expected: &str,
    problem: String,
) -> Judged {
    Judged::fail(
        Failure::new(format!("{} {what}: {problem}", exchange.summary_request()))
            .expected(expected)
            .actual(problem),
    )
}

/// A rule every response's headers must keep.
pub(super) fn header_rule(
    exchange: &Exchange,
    rule: fn(&crate::http::RecordedResponse) -> Result<(), String>,
    what: &str,
    expected: &str,
) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    Some(match rule(response) {
        Ok(()) => Judged::pass(),
        Err(problem) => fail_with(exchange, what, expected, problem),
    })
}
