//! `_include`: a search that asks for the resources its matches refer to gets them in the same
//! searchset.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::library::{Args, StepDefinition, step};
use super::super::world::MtsWorld;
use crate::checks::{Halt, assert, search};
use crate::config::PatientRole;
use crate::http::RequestSpec;
use crate::report::Failure;
use crate::target::Offer;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^a search for "([A-Za-z]+)" by the patient with records and an _include it declares$"#,
        r#"a search for "Condition" by the patient with records and an _include it declares"#,
        search_with_include
    );
    step!(
        defs,
        Then,
        r#"^every resource the _include names is in the searchset$"#,
        "every resource the _include names is in the searchset",
        includes_present
    );
}

/// The `_include` to ask for: a declared one through patient or subject first, else the first
/// declared; `<kind>:patient` where nothing is declared.
fn chosen_include(declared: &BTreeSet<String>, kind: &str) -> String {
    let through = |param: &str| {
        declared
            .iter()
            .find(|value| value.split(':').nth(1) == Some(param))
    };
    through("patient")
        .or_else(|| through("subject"))
        .or_else(|| declared.iter().next())
        .cloned()
        .unwrap_or_else(|| format!("{kind}:patient"))
}

async fn search_with_include(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let kind = args.get(0);
    let run = world.run()?.clone();
    let declared = run
        .model
        .resource(kind)
        .map(|r| r.search_include.clone())
        .unwrap_or_default();
    let include = chosen_include(&declared, kind);
    let patient = run.data.patient(PatientRole::WithRecords).logical_id();
    let mut spec = RequestSpec::get(kind);
    spec.query = vec![
        ("patient".into(), format!("Patient/{patient}")),
        ("_include".into(), include),
    ];
    world.request = Some(spec);
    Ok(())
}

/// The elements a search parameter of that name points through: itself, its choice-type
/// `…Reference` form, and for `patient` the `subject` most types use.
fn elements_for(param: &str) -> Vec<String> {
    let mut names = vec![param.to_owned(), format!("{param}Reference")];
    if param == "patient" {
        names.push("subject".into());
    }
    names
}

/// Every `reference` string under `value`.
fn references_in<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("reference").and_then(Value::as_str) {
                found.push(reference);
            }
            map.values().for_each(|v| references_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references_in(v, found)),
        _ => {}
    }
}

/// `Type/id` of a literal reference (relative, absolute or versioned); `None` for a contained
/// (`#…`) or logical one.
fn type_and_id(reference: &str) -> Option<String> {
    let reference = reference.split("/_history/").next().unwrap_or(reference);
    let parts: Vec<&str> = reference.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [.., kind, id] if kind.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
            Some(format!("{kind}/{id}"))
        }
        _ => None,
    }
}

async fn includes_present(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let include = exchange
        .request
        .url
        .split(['?', '&'])
        .find_map(|part| part.strip_prefix("_include="))
        .map(|v| v.replace("%3A", ":"))
        .unwrap_or_default();
    let Some(param) = include.split(':').nth(1).map(str::to_owned) else {
        return Err(Halt::Error(format!("no _include was sent ({include:?})")));
    };
    assert::status_is(&exchange, &[200])?;
    let bundle = assert::fhir_resource(&exchange, Some("Bundle"))?;
    let matches = search::matches(bundle);
    if matches.is_empty() {
        return Err(Halt::missing_data(format!(
            "the search returned no records of the patient with records, so there is nothing to include; seed some ({})",
            exchange.summary()
        )));
    }
    let mut wanted = BTreeSet::new();
    for resource in &matches {
        for element in elements_for(&param) {
            let mut found = Vec::new();
            references_in(&resource[element.as_str()], &mut found);
            wanted.extend(found.into_iter().filter_map(type_and_id));
        }
    }
    if wanted.is_empty() {
        return Err(Halt::nothing_to_judge(format!(
            "the matches refer to nothing through {param}, so _include={include} has nothing to bring"
        )));
    }
    let held: BTreeSet<String> = search::entries(bundle)
        .filter_map(|e| e.get("resource"))
        .filter_map(|r| {
            Some(format!(
                "{}/{}",
                r["resourceType"].as_str()?,
                r["id"].as_str()?
            ))
        })
        .collect();
    let missing: Vec<&String> = wanted.iter().filter(|r| !held.contains(*r)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let missing = missing
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let path = crate::http::exchange_path(&exchange.request.url);
    let kind = path.split('?').next().unwrap_or(path).rsplit('/').next();
    let offer = world.run()?.model.offers_include(kind.unwrap_or_default());
    if !matches!(offer, Offer::Declared(_)) {
        return Err(Halt::endpoint_absent(format!(
            "the server left out what _include={include} names ({missing}) and declares no _include, so it does not offer it ({})",
            exchange.summary()
        )));
    }
    Err(Failure::new(format!(
        "a declared _include={include} left out what it names"
    ))
    .expected(format!(
        "every resource the matches refer to through {param} in the searchset"
    ))
    .actual(format!("missing {missing}"))
    .exchange(&exchange.id)
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_include_through_the_patient_is_chosen_first() {
        let declared: BTreeSet<String> = ["Condition:encounter", "Condition:subject"]
            .map(String::from)
            .into();
        assert_eq!(chosen_include(&declared, "Condition"), "Condition:subject");
        assert_eq!(
            chosen_include(&BTreeSet::new(), "Condition"),
            "Condition:patient"
        );
    }

    #[test]
    fn literal_references_are_reduced_to_type_and_id() {
        assert_eq!(type_and_id("Patient/1").as_deref(), Some("Patient/1"));
        assert_eq!(
            type_and_id("https://x.org/fhir/Patient/1/_history/2").as_deref(),
            Some("Patient/1")
        );
        assert_eq!(type_and_id("#contained"), None);
        assert_eq!(type_and_id("urn:uuid:1234"), None);
    }
}
