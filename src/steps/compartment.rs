//! The patient compartment: what a server returns as one patient's record (`$everything`) holds
//! that patient's data alone.

use serde_json::Value;

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, expand_placeholders};
use crate::checks::search;
use crate::checks::{Halt, assert};
use crate::http::Exchange;
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
    let reference = reference.split("/_history/").next().unwrap_or(reference);
    reference == format!("Patient/{patient_id}")
        || reference.ends_with(&format!("/Patient/{patient_id}"))
}

/// The patient a record belongs to, where it names one: the `patient` or `subject` reference
/// when that reference is to a Patient (a subject may be a Group or a Device).
fn patient_of(resource: &Value) -> Option<&str> {
    ["/patient/reference", "/subject/reference"]
        .iter()
        .filter_map(|pointer| resource.pointer(pointer).and_then(Value::as_str))
        .find(|r| r.starts_with("Patient/") || r.contains("/Patient/"))
}

/// A refused request (a 4xx other than 401, 403 and 429) brought nothing back to judge: where
/// nothing declared `what`, the server does not offer it (not applicable); where it was
/// declared, `declared` says what that refusal means for the requirement.
pub(super) fn refused(
    exchange: &Exchange,
    offer: &Offer,
    what: &str,
    declared: impl FnOnce(String) -> Halt,
) -> Result<(), Halt> {
    let status = assert::response(exchange)?.status;
    if !(400..500).contains(&status) || matches!(status, 401 | 403 | 429) {
        return Ok(());
    }
    // The summary shows the status; a refusal's reason (a Spine code) is added when there is one.
    let refusal = match super::server::refused_as_unknown(exchange) {
        Some(how) if how != format!("answered {status}") => {
            format!("{}: {how}", exchange.summary())
        }
        _ => exchange.summary(),
    };
    Err(match offer {
        Offer::Declared(_) => declared(refusal),
        _ => Halt::endpoint_absent(format!(
            "the server does not offer {what} ({refusal}), so nothing came back to judge"
        )),
    })
}

async fn operation_at_all(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let (kind, name) = (args.get(0), args.get(1));
    let exchange = world.last()?.clone();
    let offer = world.run()?.model.offers_operation(kind, name);
    let what = format!("{kind} ${name}");
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
    let mut strangers = Vec::new();
    let mut records = 0;
    let mut holds_patient = false;
    for resource in search::entries(bundle).filter_map(|e| e.get("resource")) {
        let kind = resource["resourceType"].as_str().unwrap_or("?");
        let id = resource["id"].as_str().unwrap_or("?");
        if kind == "Patient" {
            if id == patient {
                holds_patient = true;
            } else {
                strangers.push(format!("Patient/{id}"));
            }
            continue;
        }
        match patient_of(resource) {
            Some(owner) if points_to(owner, &patient) => records += 1,
            Some(owner) => strangers.push(format!("{kind}/{id} (of {owner})")),
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
