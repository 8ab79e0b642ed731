//! What every rule file needs.

pub(crate) use serde_json::Value;

pub(crate) use crate::catalogue::RequirementCode;
pub(crate) use crate::checks::passive::{Judged, OpenApiUse, PassiveCheck, PassiveContext};
pub(crate) use crate::http::Exchange;
pub(crate) use crate::report::{Failure, ReasonKind};

#[cfg(test)]
pub(crate) use super::testing::{context, verdict};
#[cfg(test)]
pub(crate) use crate::http::testing::{FHIR_JSON, exchange, exchange_with_request};
