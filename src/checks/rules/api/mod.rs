//! NHS API-platform conventions: error responses, request ids, ETags (API-ERR, API-HDR).

pub(super) mod error_issues;
pub(super) mod error_operation_outcome;
pub(super) mod etag_version;
pub(super) mod request_id_echo;
pub(super) mod spine_error_code;
pub(super) mod status_matches_code;

use crate::checks::rules::prelude::*;
use crate::fhir::outcome;

/// The error response's OperationOutcome, if the exchange is an error answered with one.
pub(super) fn error_outcome(exchange: &Exchange) -> Option<&Value> {
    if exchange.kind != crate::http::ExchangeKind::Fhir {
        return None;
    }
    let response = exchange.response.as_ref()?;
    if response.status < 400 || matches!(response.status, 495 | 496) {
        return None;
    }
    response
        .resource()
        .filter(|r| outcome::is_operation_outcome(r))
}
