//! Date search on the clinical record: each type's date parameter, the element it searches, and
//! FHIR's prefixes over a value's range of days (an open Period end runs on for ever).
//!
//! Faults applied here: date-prefix-ignored (every prefix read as eq).

use serde_json::Value;

use super::patient::date_range;
use super::{Call, Fault, State};

/// The date parameter of a clinical type the sandbox serves, and the element it searches.
pub(super) fn date_parameter(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "AllergyIntolerance" => ("date", "recordedDate"),
        "Condition" => ("recorded-date", "recordedDate"),
        "Encounter" => ("date", "period"),
        "MedicationRequest" => ("authoredon", "authoredOn"),
        "MedicationStatement" => ("effective", "effectivePeriod"),
        "Procedure" => ("date", "performedDateTime"),
        _ => return None,
    })
}

/// The first and last day a value covers (`None` for an open end).
fn day(value: &Value) -> Option<&str> {
    value.as_str().and_then(|s| s.get(..10))
}

fn days(value: &Value) -> Option<(Option<&str>, Option<&str>)> {
    match value {
        Value::String(_) => day(value).map(|d| (Some(d), Some(d))),
        Value::Object(period) => Some((
            period.get("start").and_then(day),
            period.get("end").and_then(day),
        )),
        _ => None,
    }
}

fn within(first: Option<&str>, last: Option<&str>, prefix: &str, low: &str, high: &str) -> bool {
    match prefix {
        "eq" => first.is_some_and(|f| f >= low) && last.is_some_and(|l| l <= high),
        "ne" => !within(first, last, "eq", low, high),
        "gt" => last.is_none_or(|l| l > high),
        "ge" => last.is_none_or(|l| l >= low),
        "lt" => first.is_none_or(|f| f < low),
        "le" => first.is_none_or(|f| f <= high),
        _ => false,
    }
}

/// Whether `resource` satisfies every value of its type's date parameter in the query; `Err`
/// with the value that is no date.
pub(super) fn satisfies(
    state: &State,
    call: &Call,
    kind: &str,
    resource: &Value,
) -> Result<bool, String> {
    let Some((param, element)) = date_parameter(kind) else {
        return Ok(true);
    };
    for text in call.params(param) {
        let (prefix, low, high) = date_range(text).ok_or_else(|| text.to_owned())?;
        let prefix = if state.has(Fault::DatePrefixIgnored) {
            "eq"
        } else {
            prefix
        };
        let Some((first, last)) = days(&resource[element]) else {
            return Ok(false);
        };
        if !within(first, last, prefix, &low, &high) {
            return Ok(false);
        }
    }
    Ok(true)
}
