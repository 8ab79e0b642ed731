//! `_revinclude`: a search for a patient that asks for the records referring to it gets that
//! patient's records of the type, and no other patient's.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::compartment::{patient_of, points_to, refused};
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
        r#"^a search for the patient with records that asks for its "([A-Za-z]+)" records with _revinclude$"#,
        r#"a search for the patient with records that asks for its "Condition" records with _revinclude"#,
        search_with_revinclude
    );
    step!(
        defs,
        Then,
        r#"^the server searched "Patient" with the _revinclude of "([A-Za-z]+)" at all$"#,
        r#"the server searched "Patient" with the _revinclude of "Condition" at all"#,
        searched_with_revinclude
    );
    step!(
        defs,
        Then,
        r#"^the searchset holds the patient's "([A-Za-z]+)" records and no other patient's$"#,
        r#"the searchset holds the patient's "Condition" records and no other patient's"#,
        revincluded_records
    );
}

/// The `_revinclude` to ask for: a declared one of `of` through patient or subject first, else
/// the first declared of `of`; `<of>:patient` where none is declared, or only the wildcard.
fn chosen_revinclude(declared: &BTreeSet<String>, of: &str) -> String {
    let named: Vec<&String> = declared
        .iter()
        .filter(|v| v.split(':').next() == Some(of) && v.split(':').nth(1).is_some())
        .collect();
    let through = |param: &str| named.iter().find(|v| v.ends_with(&format!(":{param}")));
    through("patient")
        .or_else(|| through("subject"))
        .or_else(|| named.first())
        .map(|v| (*v).clone())
        .unwrap_or_else(|| format!("{of}:patient"))
}

async fn search_with_revinclude(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let of = args.get(0);
    let run = world.run()?.clone();
    let patient_model = run.model.resource("Patient");
    let declared = patient_model
        .map(|r| r.search_revinclude.clone())
        .unwrap_or_default();
    let patient = run.data.patient(PatientRole::WithRecords);
    // By _id where the Patient search takes it (or nothing says), else by NHS number.
    let by_identifier = patient_model.is_some_and(|r| {
        !r.search_params.is_empty() && !r.offers_param("_id") && r.offers_param("identifier")
    });
    let criterion = if by_identifier {
        (
            "identifier".to_owned(),
            format!("https://fhir.nhs.uk/Id/nhs-number|{}", patient.nhs_number),
        )
    } else {
        ("_id".to_owned(), patient.logical_id().to_owned())
    };
    let mut spec = RequestSpec::get("Patient");
    spec.query = vec![
        criterion,
        ("_revinclude".into(), chosen_revinclude(&declared, of)),
    ];
    world.request = Some(spec);
    Ok(())
}

/// A declared `_revinclude` the server refuses fails; one nothing declared is not offered.
async fn searched_with_revinclude(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let of = args.get(0);
    let exchange = world.last()?.clone();
    let offer = world.run()?.model.offers_revinclude("Patient", of);
    refused(
        &exchange,
        &offer,
        &format!("search of Patient with _revinclude of {of}"),
        |refusal| {
            Failure::new(format!(
                "the server declares _revinclude of {of} on Patient and refused a search that asks for it"
            ))
            .expected(format!("200 and a searchset with the patient's {of} records"))
            .actual(refusal)
            .exchange(&exchange.id)
            .into()
        },
    )
}

fn key(resource: &Value) -> String {
    format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or("?"),
        resource["id"].as_str().unwrap_or("?")
    )
}

async fn revincluded_records(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let of = args.get(0).to_owned();
    let exchange = world.last()?.clone();
    let run = world.run()?.clone();
    let patient = run
        .data
        .patient(PatientRole::WithRecords)
        .logical_id()
        .to_owned();
    let declared = matches!(
        run.model.offers_revinclude("Patient", &of),
        Offer::Declared(_)
    );
    assert::status_is(&exchange, &[200])?;
    let bundle = assert::fhir_resource(&exchange, Some("Bundle"))?.clone();
    let found_patient = search::entries(&bundle)
        .filter_map(|e| e.get("resource"))
        .any(|r| r["resourceType"] == "Patient" && r["id"] == patient.as_str());
    if !found_patient {
        return Err(Halt::missing_data(format!(
            "the search did not find Patient/{patient}, so nothing refers to it; give the test data the target holds ({})",
            exchange.summary()
        )));
    }
    let included: Vec<&Value> = search::entries(&bundle)
        .filter_map(|e| e.get("resource"))
        .filter(|r| r["resourceType"] == of.as_str())
        .collect();
    // A record of another patient (or of none) brought in for this one is a leak.
    let strangers: Vec<String> = included
        .iter()
        .filter(|r| !patient_of(r).is_some_and(|owner| points_to(owner, &patient)))
        .map(|r| {
            let owner = patient_of(r).unwrap_or("no patient");
            format!("{} (of {owner})", key(r))
        })
        .collect();
    if !strangers.is_empty() {
        return Err(Failure::new(format!(
            "a search for Patient/{patient} with _revinclude of {of} brought records that are not the patient's"
        ))
        .expected(format!("only {of} records referring to Patient/{patient}"))
        .actual(strangers.join(", "))
        .exchange(&exchange.id)
        .into());
    }
    let held: BTreeSet<String> = included.iter().map(|r| key(r)).collect();
    // What the patient holds of the type, by the search that asks for it directly (only the
    // records it returns that do refer to the patient: a leak there is IOP-SRCH-011's).
    let mut by_patient = RequestSpec::get(of.clone());
    by_patient.query = vec![("patient".into(), format!("Patient/{patient}"))];
    let listing = world.send(&by_patient).await?;
    let listed = listing
        .response
        .as_ref()
        .filter(|r| r.status == 200)
        .and_then(|r| r.resource())
        .filter(|b| b["resourceType"] == "Bundle" && search::link(b, "next").is_none())
        .map(|b| {
            search::matches(b)
                .into_iter()
                .filter(|r| r["resourceType"] == of.as_str())
                .filter(|r| patient_of(r).is_some_and(|owner| points_to(owner, &patient)))
                .map(key)
                .collect::<BTreeSet<_>>()
        });
    let Some(expected) = listed else {
        if held.is_empty() {
            return Err(Halt::nothing_to_judge(format!(
                "the answer holds no {of} record and a search of {of} by patient did not list the patient's ({}), so there is nothing to compare",
                listing.summary()
            )));
        }
        world.note(format!(
            "{} {of} record(s) came, each the patient's; a search of {of} by patient gave no complete list to compare with ({})",
            held.len(),
            listing.summary()
        ));
        return Ok(());
    };
    if expected.is_empty() {
        return Err(Halt::missing_data(format!(
            "Patient/{patient} has no {of} records ({}), so _revinclude has nothing to bring; seed some",
            listing.summary()
        )));
    }
    let missing: Vec<&String> = expected.difference(&held).collect();
    if missing.is_empty() {
        world.note(format!(
            "all {} of the patient's {of} records came with the patient",
            expected.len()
        ));
        return Ok(());
    }
    if held.is_empty() && !declared {
        return Err(Halt::endpoint_absent(format!(
            "the server returned none of the patient's {of} records for _revinclude and declares none, so it does not offer it ({})",
            exchange.summary()
        )));
    }
    if search::link(&bundle, "next").is_some() {
        world.note(format!(
            "the answer has further pages, where {} more of the patient's {of} records may be",
            missing.len()
        ));
        return Ok(());
    }
    Err(super::left_out(
        format!(
            "a search for Patient/{patient} with _revinclude of {of} left out records that refer to the patient"
        ),
        &expected,
        &format!("the search of {of} by patient"),
        &missing,
        &exchange,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revinclude_through_the_patient_is_chosen_first() {
        let declared: BTreeSet<String> = [
            "Condition:asserter",
            "Condition:subject",
            "Observation:patient",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            chosen_revinclude(&declared, "Condition"),
            "Condition:subject"
        );
        assert_eq!(
            chosen_revinclude(&declared, "Observation"),
            "Observation:patient"
        );
        let wildcard: BTreeSet<String> = ["*"].map(String::from).into();
        assert_eq!(
            chosen_revinclude(&wildcard, "Procedure"),
            "Procedure:patient"
        );
    }
}
