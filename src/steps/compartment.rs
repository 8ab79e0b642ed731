//! The patient compartment: what a server returns as one patient's record (`$everything`) holds
//! that patient's data alone.

use std::collections::BTreeSet;

use serde_json::Value;

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, expand_placeholders};
use crate::checks::search;
use crate::checks::{Halt, assert};
use crate::fhir::reference::type_and_id;
use crate::http::{Exchange, RequestSpec};
use crate::report::Failure;
use crate::target::Offer;

/// How many leaked records a failure names before it only counts the rest.
const NAMED_AT_MOST: usize = 10;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^the server offered "([A-Za-z]+)/\$([a-z-]+)" at all$"#,
        r#"the server offered "Patient/$everything" at all"#,
        operation_at_all
    );
    step!(
        defs,
        Then,
        r#"^the Bundle holds the record of patient "([^"]+)" alone$"#,
        r#"the Bundle holds the record of patient "{patient:with-records}" alone"#,
        record_alone
    );
}

/// Whether `reference` (relative, absolute or versioned) points at `Patient/<patient_id>`.
pub(super) fn points_to(reference: &str, patient_id: &str) -> bool {
    type_and_id(reference).is_some_and(|r| r == format!("Patient/{patient_id}"))
}

/// Every `reference` string under `value`.
pub(super) fn references_in<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
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

/// The patient a record belongs to, where it names one: the `patient` or `subject` reference
/// when that reference is to a Patient (a subject may be a Group or a Device).
pub(super) fn patient_of(resource: &Value) -> Option<&str> {
    ["/patient/reference", "/subject/reference"]
        .iter()
        .filter_map(|pointer| resource.pointer(pointer).and_then(Value::as_str))
        .find(|r| r.starts_with("Patient/") || r.contains("/Patient/"))
}

/// A request the target rate-limited (429) says nothing about what it offers: the scenario
/// cannot be judged. (A 401 or 403 goes on to the step that judges the answer, which fails it,
/// as everywhere else in the suite.)
pub(super) fn processed(exchange: &Exchange) -> Result<(), Halt> {
    if assert::response(exchange)?.status == 429 {
        return Err(Halt::Error(format!(
            "the target rate-limited the request ({}), so it cannot be judged; run again with a lower --rate-limit",
            exchange.summary()
        )));
    }
    Ok(())
}

/// Whether the target answered `exchange` with something to judge: a 2xx FHIR resource. A
/// refusal (4xx) of what was declared is what `declared` makes of it; where nothing declared
/// `what`, any other answer (a refusal, an error, a redirect, a landing page) means the server
/// does not offer it, and nothing came back to judge.
pub(super) fn refused(
    exchange: &Exchange,
    offer: &Offer,
    what: &str,
    declared: impl FnOnce(String) -> Halt,
) -> Result<(), Halt> {
    processed(exchange)?;
    let status = assert::response(exchange)?.status;
    let answered = matches!(status, 401 | 403)
        || (200..300).contains(&status)
            && exchange
                .response
                .as_ref()
                .and_then(|r| r.resource())
                .is_some();
    if answered {
        return Ok(());
    }
    // The summary shows the status; a refusal's reason (a Spine code) is added when there is one.
    let refusal = match super::server::refused_as_unknown(exchange) {
        Some(how) if how != format!("answered {status}") => {
            format!("{}: {how}", exchange.summary())
        }
        _ => exchange.summary(),
    };
    match offer {
        Offer::Declared(_) if (400..500).contains(&status) => Err(declared(refusal)),
        // Declared, anything else is the next step's to judge (and fail).
        Offer::Declared(_) => Ok(()),
        _ => Err(Halt::endpoint_absent(format!(
            "the server does not offer {what} ({refusal}), so nothing came back to judge"
        ))),
    }
}

async fn operation_at_all(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let (kind, name) = (args.get(0), args.get(1));
    let exchange = world.last()?.clone();
    let offer = world.run()?.model.offers_operation(kind, name);
    let what = format!("{kind} ${name}");
    let declared_refusal = matches!(offer, Offer::Declared(_))
        && exchange.status().is_some_and(|s| (400..500).contains(&s));
    if declared_refusal {
        // A 404 may say the patient, not the operation, is unknown: read the instance first.
        let instance = crate::http::exchange_path(&exchange.request.url)
            .split('?')
            .next()
            .and_then(|p| p.rsplit_once('/'))
            .and_then(|(before, _)| crate::fhir::reference::type_and_id(before));
        if let Some(instance) = instance {
            let read = world.send(&RequestSpec::get(instance.clone())).await?;
            if read.status() != Some(200) {
                return Err(Halt::missing_data(format!(
                    "{instance} is not on the target ({}), so its ${name} cannot be asked for; give the test data the target holds",
                    read.summary()
                )));
            }
        }
    }
    refused(&exchange, &offer, &what, |refusal| {
        Failure::new(format!(
            "the server declares {what} and refused it, so the record asked for never came"
        ))
        .expected(format!("200 and the {what} Bundle"))
        .actual(refusal)
        .exchange(&exchange.id)
        .into()
    })
}

async fn record_alone(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let patient = expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let exchange = world.last()?.clone();
    assert::status_is(&exchange, &[200])?;
    let bundle = assert::fhir_resource(&exchange, Some("Bundle"))?;
    let resources: Vec<&Value> = search::entries(bundle)
        .filter_map(|e| e.get("resource"))
        .collect();
    // What the patient's own resource and records refer to may come along (operation
    // definition: resources referenced from the compartment), even another Patient (a linked
    // record, a mother).
    let own = |r: &Value| {
        (r["resourceType"] == "Patient" && r["id"] == patient.as_str())
            || patient_of(r).is_some_and(|owner| points_to(owner, &patient))
    };
    let mut referenced = BTreeSet::new();
    for resource in resources.iter().copied().filter(|r| own(r)) {
        let mut found = Vec::new();
        references_in(resource, &mut found);
        referenced.extend(found.into_iter().filter_map(type_and_id));
    }
    let mut strangers = Vec::new();
    let mut records = 0;
    let mut holds_patient = false;
    for resource in &resources {
        let kind = resource["resourceType"].as_str().unwrap_or("?");
        let id = resource["id"].as_str().unwrap_or("?");
        let key = format!("{kind}/{id}");
        let owner = if kind == "Patient" {
            Some(key.clone())
        } else {
            patient_of(resource).map(str::to_owned)
        };
        match owner {
            Some(owner) if points_to(&owner, &patient) => {
                holds_patient |= kind == "Patient";
                records += usize::from(kind != "Patient");
            }
            Some(owner) if referenced.contains(&key) => world.note(format!(
                "{key} (of {owner}) came along because the patient's record refers to it"
            )),
            Some(owner) if kind == "Patient" => strangers.push(owner),
            Some(owner) => strangers.push(format!("{key} (of {owner})")),
            // Practitioners, organisations, medications: supporting resources belong to nobody.
            None => {}
        }
    }
    if bundle["link"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|l| l["relation"] == "next")
    {
        world.note("the answer has further pages; only the first was judged");
    }
    if !strangers.is_empty() {
        let named = strangers.len().min(NAMED_AT_MOST);
        let mut actual = strangers[..named].join(", ");
        if strangers.len() > named {
            actual.push_str(&format!(" and {} more", strangers.len() - named));
        }
        return Err(Failure::new(format!(
            "the record returned for Patient/{patient} holds another patient's data"
        ))
        .expected(format!(
            "Patient/{patient}, records referring to it and supporting resources only"
        ))
        .actual(actual)
        .exchange(&exchange.id)
        .into());
    }
    if records == 0 {
        // Nothing of the patient's came back, so nothing is shown to be theirs alone.
        return Err(Halt::missing_data(format!(
            "the answer holds no record referring to Patient/{patient}, so none can be shown to be theirs; seed the test patient with some ({})",
            exchange.summary()
        )));
    }
    if !holds_patient {
        world.note(format!(
            "the answer does not hold Patient/{patient} itself, which the operation's definition says is returned at the least"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_to_the_patient_are_recognised_in_every_form() {
        assert!(points_to("Patient/9000000009", "9000000009"));
        assert!(points_to(
            "https://example.org/FHIR/R4/Patient/9000000009",
            "9000000009"
        ));
        assert!(points_to("Patient/9000000009/_history/2", "9000000009"));
        assert!(!points_to("Patient/90000000090", "9000000009"));
        assert!(!points_to("Group/9000000009", "9000000009"));
    }

    #[test]
    fn only_patient_references_make_a_record_someone_s() {
        assert_eq!(
            patient_of(&json!({"subject": {"reference": "Patient/1"}})),
            Some("Patient/1")
        );
        assert_eq!(
            patient_of(&json!({"patient": {"reference": "https://x/Patient/2"}})),
            Some("https://x/Patient/2")
        );
        assert_eq!(
            patient_of(&json!({"subject": {"reference": "Group/1"}})),
            None
        );
        assert_eq!(patient_of(&json!({"name": "Dr Who"})), None);
    }
}
