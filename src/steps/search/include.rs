//! `_include`: a search that asks for the resources its matches refer to gets them in the same
//! searchset.

use std::collections::BTreeSet;

use super::super::compartment::references_in;
use super::super::library::{Args, StepDefinition, step};
use super::super::world::MtsWorld;
use crate::checks::{Halt, assert, search};
use crate::config::PatientRole;
use crate::fhir::reference::{is_local, type_and_id};
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
        r#"^the server searched "([A-Za-z]+)" with the _include at all$"#,
        r#"the server searched "Condition" with the _include at all"#,
        searched_with_include
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
/// in name order; `<kind>:patient` where nothing is declared, or only wildcards (`*`).
fn chosen_include(declared: &BTreeSet<String>, kind: &str) -> String {
    let named: Vec<&String> = declared
        .iter()
        .filter(|value| value.split(':').nth(1).is_some_and(|p| p != "*"))
        .collect();
    let through = |param: &str| {
        named
            .iter()
            .find(|value| value.split(':').nth(1) == Some(param))
            .copied()
    };
    through("patient")
        .or_else(|| through("subject"))
        .or_else(|| named.first().copied())
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

/// A declared `_include` the server refuses fails; one nothing declared is not offered.
async fn searched_with_include(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let kind = args.get(0);
    let exchange = world.last()?.clone();
    let offer = world.run()?.model.offers_include(kind);
    super::super::compartment::refused(
        &exchange,
        &offer,
        &format!("search of {kind} by patient with _include"),
        |refusal| {
            Failure::new(format!(
                "the server declares _include on {kind} and refused a search by patient that asks for it"
            ))
            .expected("200 and a searchset with the included resources")
            .actual(refusal)
            .exchange(&exchange.id)
            .into()
        },
    )
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
    let base = world.run()?.http.base_url().to_owned();
    let mut wanted = BTreeSet::new();
    for resource in &matches {
        for element in elements_for(&param) {
            let mut found = Vec::new();
            references_in(&resource[element.as_str()], &mut found);
            // An absolute reference to another server (PDS, say) is not this server's to
            // include (search.html: it may elect to).
            wanted.extend(
                found
                    .into_iter()
                    .filter(|r| is_local(r, &base))
                    .filter_map(type_and_id),
            );
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
    let offer = world
        .run()?
        .model
        .offers_include(&super::searched_kind(&exchange));
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
        let wildcard: BTreeSet<String> = ["*"].map(String::from).into();
        assert_eq!(chosen_include(&wildcard, "Condition"), "Condition:patient");
    }
}
