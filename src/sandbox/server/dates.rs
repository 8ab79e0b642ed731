//! Date search on the clinical record: each type's date parameter, the element it searches, and
//! FHIR's prefixes over a value's range of days (an open Period end runs on for ever).
//!
//! `_lastUpdated` is searched the same way over the instant a record last changed.
//!
//! Faults applied here: date-prefix-ignored (every prefix read as eq).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
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

/// The instants a `_lastUpdated` value covers, `[low, high)`: a day, or a time to the precision
/// it is written with (seconds, or as many decimals as it has).
fn instant_range(text: &str) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    if text.len() == 10 {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        let low = day.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset();
        return Some((low, low + TimeDelta::days(1)));
    }
    let low = DateTime::parse_from_rfc3339(text).ok()?;
    let decimals = text
        .split_once('.')
        .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).count())
        .unwrap_or(0);
    let unit = TimeDelta::nanoseconds(10_i64.pow(9 - decimals.min(9) as u32));
    Some((low, low + unit))
}

/// Whether `resource` was last updated within every `_lastUpdated` value of the query; `Err`
/// with the value that is no date or instant.
pub(super) fn last_updated_satisfies(
    state: &State,
    call: &Call,
    resource: &Value,
) -> Result<bool, String> {
    for text in call.params("_lastUpdated") {
        let (prefix, value) = match text.get(..2) {
            Some(p) if ["eq", "ne", "gt", "ge", "lt", "le"].contains(&p) => (p, &text[2..]),
            _ => ("eq", text),
        };
        let (low, high) = instant_range(value).ok_or_else(|| text.to_owned())?;
        let prefix = if state.has(Fault::DatePrefixIgnored) {
            "eq"
        } else {
            prefix
        };
        let Some(at) = resource["meta"]["lastUpdated"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            return Ok(false);
        };
        let inside = match prefix {
            "eq" => low <= at && at < high,
            "ne" => !(low <= at && at < high),
            "gt" => at >= high,
            "ge" => at >= low,
            "lt" => at < low,
            _ => at < high,
        };
        if !inside {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_updated_value_covers_its_precision() {
        let (low, high) = instant_range("2026-11-20T14:30:15.250+00:00").unwrap();
        assert_eq!((high - low).num_milliseconds(), 1);
        let (low, high) = instant_range("2026-11-20T14:30:15Z").unwrap();
        assert_eq!((high - low).num_seconds(), 1);
        let (low, high) = instant_range("2026-11-20").unwrap();
        assert_eq!((high - low).num_hours(), 24);
        assert_eq!(low.to_rfc3339(), "2026-11-20T00:00:00+00:00");
        assert!(instant_range("2026-13-45").is_none());
    }
}
