//! Date prefixes on the clinical record: a search by patient, split at a date its own matches
//! hold with `ge` and `lt`, must put each match on the side (or sides) FHIR's range rules give.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::library::{Args, StepDefinition, step};
use super::super::world::MtsWorld;
use crate::checks::{Halt, assert, search};
use crate::http::Exchange;
use crate::report::Failure;

/// The first and last day a value covers; `None` for an open end.
type Days = (Option<String>, Option<String>);

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^the search split at a date its matches hold with ge and lt puts each match where FHIR's prefixes say$"#,
        "the search split at a date its matches hold with ge and lt puts each match where FHIR's prefixes say",
        split_by_date
    );
    step!(
        defs,
        Then,
        r#"^the search split at the instant its latest match was last updated with ge and lt puts each match where FHIR's prefixes say$"#,
        "the search split at the instant its latest match was last updated with ge and lt puts each match where FHIR's prefixes say",
        split_by_last_updated
    );
}

/// The date search parameters of the Patient-compartment types and the elements they search
/// (FHIR R4 search parameter expressions), in the order mts prefers them.
fn date_parameters(kind: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match kind {
        "AllergyIntolerance" => &[("date", &["recordedDate"])],
        "Condition" => &[
            ("recorded-date", &["recordedDate"]),
            ("onset-date", &["onsetDateTime", "onsetPeriod"]),
        ],
        "DiagnosticReport" => &[("date", &["effectiveDateTime", "effectivePeriod"])],
        "DocumentReference" => &[("date", &["date"])],
        "Encounter" => &[("date", &["period"])],
        "Immunization" => &[("date", &["occurrenceDateTime"])],
        "MedicationRequest" => &[("authoredon", &["authoredOn"])],
        "MedicationStatement" => &[("effective", &["effectiveDateTime", "effectivePeriod"])],
        "Observation" => &[(
            "date",
            &["effectiveDateTime", "effectivePeriod", "effectiveInstant"],
        )],
        "Procedure" => &[("date", &["performedDateTime", "performedPeriod"])],
        _ => &[],
    }
}

/// The days a resource's value covers, as (first, last) `YYYY-MM-DD`; an open Period end
/// (or start) is unbounded. `None` when it holds no value for the parameter.
fn days_covered(resource: &Value, elements: &[&str]) -> Option<Days> {
    let day = |v: &Value| v.as_str().and_then(|s| s.get(..10)).map(str::to_owned);
    elements
        .iter()
        .find_map(|element| match &resource[*element] {
            Value::String(_) => {
                let d = day(&resource[*element]);
                d.clone().map(|first| (Some(first), d))
            }
            Value::Object(period) => Some((
                period.get("start").and_then(day),
                period.get("end").and_then(day),
            ))
            .filter(|(s, e)| s.is_some() || e.is_some()),
            _ => None,
        })
}

/// FHIR R4 search.html, date prefixes: `ge D` matches a value whose range reaches D or later;
/// `lt D` one whose range starts before D.
fn on_each_side(covered: &Days, split: &str) -> (bool, bool) {
    let (first, last) = covered;
    let ge = last.as_deref().is_none_or(|l| l >= split);
    let lt = first.as_deref().is_none_or(|f| f < split);
    (ge, lt)
}

fn match_keys(bundle: &Value) -> BTreeSet<String> {
    search::match_keys(bundle).into_iter().collect()
}

async fn split_by_date(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let baseline = world.last()?.clone();
    let kind = super::searched_kind(&baseline);
    let run = world.run()?.clone();
    let declared = run.model.resource(&kind);
    let candidates = date_parameters(&kind);
    // A declared date parameter mts knows the element of; any, where nothing is declared.
    let chosen = candidates.iter().find(|(param, _)| {
        // An OpenAPI document names a parameter without its FHIR type.
        declared.is_none_or(|r| {
            r.search_params
                .get(*param)
                .is_some_and(|t| t.is_empty() || t == "date")
        })
    });
    let Some((param, elements)) = chosen else {
        return Err(Halt::not_declared(format!(
            "the target declares no date search of {kind} mts knows the element of ({})",
            candidates
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    assert::status_is(&baseline, &[200])?;
    let base_bundle = assert::fhir_resource(&baseline, Some("Bundle"))?.clone();
    let matches: Vec<(String, Days)> = search::matches(&base_bundle)
        .into_iter()
        .filter_map(|r| {
            let key = format!("{}/{}", r["resourceType"].as_str()?, r["id"].as_str()?);
            Some((key, days_covered(r, elements)?))
        })
        .collect();
    // Split at the latest day a match starts on: it lies on the ge side, every earlier one not.
    let starts: BTreeSet<&str> = matches
        .iter()
        .filter_map(|(_, (first, _))| first.as_deref())
        .collect();
    let Some(split) = starts.iter().next_back().filter(|_| starts.len() >= 2) else {
        return Err(Halt::missing_data(format!(
            "the search found {} record(s) with {}, on {} distinct day(s); splitting by date needs two days (seed records of the patient with records on different dates)",
            matches.len(),
            elements.join(" or "),
            starts.len()
        )));
    };
    let split = (*split).to_owned();
    let split = Split {
        param,
        sent: &split,
        at: &split,
    };
    judge_split(
        world,
        &kind,
        declared.is_some(),
        &base_bundle,
        &matches,
        &split,
    )
    .await
}

/// An instant as a fixed-width UTC text, so that texts compare as the instants do.
fn comparable_instant(text: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        at.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.9fZ")
            .to_string(),
    )
}

/// `_lastUpdated`, searchable on every type (FHIR R4 Resource search parameters): split at the
/// instant the latest match was last updated, as the server wrote it.
async fn split_by_last_updated(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let baseline = world.last()?.clone();
    let kind = super::searched_kind(&baseline);
    // Rarely listed per type: a type's list without it does not make it absent.
    let is_declared = world
        .run()?
        .model
        .resource(&kind)
        .is_some_and(|r| r.search_params.contains_key("_lastUpdated"));
    assert::status_is(&baseline, &[200])?;
    let base_bundle = assert::fhir_resource(&baseline, Some("Bundle"))?.clone();
    let mut written = Vec::new();
    let matches: Vec<(String, Days)> = search::matches(&base_bundle)
        .into_iter()
        .filter_map(|r| {
            let key = format!("{}/{}", r["resourceType"].as_str()?, r["id"].as_str()?);
            let text = r["meta"]["lastUpdated"].as_str()?;
            let at = comparable_instant(text)?;
            written.push((at.clone(), text.to_owned()));
            Some((key, (Some(at.clone()), Some(at))))
        })
        .collect();
    let distinct: BTreeSet<&String> = written.iter().map(|(at, _)| at).collect();
    let latest = written.iter().max_by(|a, b| a.0.cmp(&b.0));
    let Some((at, sent)) = latest.filter(|_| distinct.len() >= 2) else {
        return Err(Halt::missing_data(format!(
            "the search found {} record(s) with meta.lastUpdated, at {} distinct instant(s); splitting by _lastUpdated needs two (seed records of the patient with records changed at different times)",
            matches.len(),
            distinct.len()
        )));
    };
    let split = Split {
        param: "_lastUpdated",
        sent,
        at,
    };
    judge_split(world, &kind, is_declared, &base_bundle, &matches, &split).await
}

/// Where a search is split: the parameter, the value sent after each prefix, and that value as
/// the comparable text the matches' values are held in.
struct Split<'a> {
    param: &'a str,
    sent: &'a str,
    at: &'a str,
}

/// Sends the search split with `ge` and `lt` and holds each side to what FHIR's prefixes put
/// there from the unsplit search's matches.
async fn judge_split(
    world: &mut MtsWorld,
    kind: &str,
    is_declared: bool,
    base_bundle: &Value,
    matches: &[(String, Days)],
    split: &Split<'_>,
) -> Result<(), Halt> {
    let Split { param, sent, .. } = *split;
    let mut answers = Vec::new();
    for prefix in ["ge", "lt"] {
        let mut spec = world.request_mut()?.clone();
        spec.query
            .push((param.to_owned(), format!("{prefix}{sent}")));
        let exchange = world.send(&spec).await?;
        let refused = exchange
            .status()
            .is_some_and(|s| (400..500).contains(&s) && !matches!(s, 401 | 403 | 429));
        if refused && !is_declared {
            return Err(Halt::endpoint_absent(format!(
                "the server refused a search of {kind} by {param} ({}), which nothing declared, so it does not offer it",
                exchange.summary()
            )));
        }
        answers.push((prefix, exchange));
    }
    let all = match_keys(base_bundle);
    let ignored = answers.iter().all(|(_, e)| {
        e.response
            .as_ref()
            .and_then(|r| r.resource())
            .is_some_and(|b| match_keys(b) == all)
    });
    if ignored && !is_declared {
        return Err(Halt::endpoint_absent(format!(
            "the server answered {param}=ge{sent} and lt{sent} with every match, so it ignores {param}, which nothing declared: it does not offer that search"
        )));
    }
    let mut sides = Vec::new();
    for (prefix, exchange) in &answers {
        sides.push(judge_side(exchange, prefix, split, matches, &all)?);
    }
    world.note(format!(
        "{kind}?{param}=ge{sent} and lt{sent} split {} matches as FHIR's prefixes say ({})",
        matches.len(),
        sides.join("; ")
    ));
    Ok(())
}

/// Holds one side of the split to what the baseline's matches say it must return.
fn judge_side(
    exchange: &Exchange,
    prefix: &str,
    split: &Split<'_>,
    matches: &[(String, Days)],
    all: &BTreeSet<String>,
) -> Result<String, Halt> {
    assert::status_is(exchange, &[200])?;
    let got = match_keys(assert::fhir_resource(exchange, Some("Bundle"))?);
    let expected: BTreeSet<String> = matches
        .iter()
        .filter(|(_, covered)| {
            let (ge, lt) = on_each_side(covered, split.at);
            if prefix == "ge" { ge } else { lt }
        })
        .map(|(key, _)| key.clone())
        .collect();
    let unasked: Vec<&String> = got.difference(all).collect();
    if got == expected && unasked.is_empty() {
        return Ok(format!("{prefix}: {}", got.len()));
    }
    let missing: Vec<&String> = expected.difference(&got).collect();
    let extra: Vec<&String> = got.difference(&expected).collect();
    Err(Failure::new(format!(
        "the search with {}={prefix}{} did not return the matches FHIR's prefix selects",
        split.param, split.sent
    ))
    .expected(format!(
        "{} (from the unsplit search's own values)",
        expected.iter().cloned().collect::<Vec<_>>().join(", ")
    ))
    .actual(format!(
        "missing {}; not expected {}",
        if missing.is_empty() {
            "none".into()
        } else {
            format!("{missing:?}")
        },
        if extra.is_empty() {
            "none".into()
        } else {
            format!("{extra:?}")
        }
    ))
    .exchange(&exchange.id)
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instants_compare_across_offsets() {
        let later = comparable_instant("2026-11-20T15:30:15.25+01:00").unwrap();
        let earlier = comparable_instant("2026-11-20T14:30:15Z").unwrap();
        assert_eq!(later, "2026-11-20T14:30:15.250000000Z");
        assert!(earlier < later);
        assert_eq!(comparable_instant("2026-11-20"), None);
    }

    #[test]
    fn a_point_falls_on_one_side_and_an_open_period_may_fall_on_both() {
        let point =
            days_covered(&json!({"recordedDate": "2024-05-01"}), &["recordedDate"]).unwrap();
        assert_eq!(on_each_side(&point, "2024-05-01"), (true, false));
        assert_eq!(on_each_side(&point, "2025-01-01"), (false, true));
        let open = days_covered(
            &json!({"effectivePeriod": {"start": "2025-01-01"}}),
            &["effectiveDateTime", "effectivePeriod"],
        )
        .unwrap();
        assert_eq!(on_each_side(&open, "2025-08-01"), (true, true));
        let visit = days_covered(
            &json!({"period": {"start": "2024-11-12T10:00:00+00:00", "end": "2024-11-12T10:20:00+00:00"}}),
            &["period"],
        )
        .unwrap();
        assert_eq!(on_each_side(&visit, "2024-11-12"), (true, false));
        assert_eq!(
            days_covered(&json!({"recordedDate": 5}), &["recordedDate"]),
            None
        );
    }
}
