//! What the write steps send, and where: the bodies mts creates (its own, or the one
//! configured), the test identifier stamped on them, the write target, the requests for each
//! kind of write, and putting the test patient back when a probe changed it.

use serde_json::{Value, json};

use super::TEST_IDENTIFIER_SYSTEM;
use crate::checks::{Halt, assert};
use crate::http::{Exchange, RequestSpec};
use crate::steps::world::{Created, MtsWorld};
use crate::target::PatchStyle;
use crate::target::derive::{self, WriteTarget};

/// Resource types mts can create with a body of its own, in the order it prefers them.
pub const BUILT_IN_BODIES: &[&str] = &[
    "Observation",
    "AllergyIntolerance",
    "Condition",
    "MedicationStatement",
    "Immunization",
];

/// A minimal valid UK Core resource of `kind` about `patient`, stamped with a fresh test
/// identifier so what a run creates can be found and told apart from real records.
pub fn built_in_body(kind: &str, patient: &str) -> Option<Value> {
    let identifier =
        json!([{"system": TEST_IDENTIFIER_SYSTEM, "value": uuid::Uuid::new_v4().to_string()}]);
    let subject = json!({"reference": format!("Patient/{patient}")});
    let snomed = |code: &str, display: &str| json!({"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]});
    let coded = |system: &str, code: &str, display: &str| json!({"coding": [{"system": system, "code": code, "display": display}]});
    Some(match kind {
        "Observation" => json!({
            "resourceType": "Observation",
            "identifier": identifier,
            "status": "final",
            "code": snomed("27113001", "Body weight"),
            "subject": subject,
            "effectiveDateTime": "2026-11-21T09:00:00+00:00",
            "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
        }),
        "AllergyIntolerance" => json!({
            "resourceType": "AllergyIntolerance",
            "identifier": identifier,
            "clinicalStatus": coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
            "verificationStatus": coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
            "code": snomed("300916003", "Latex allergy"),
            "patient": subject,
            "recordedDate": "2026-11-21"
        }),
        "Condition" => json!({
            "resourceType": "Condition",
            "identifier": identifier,
            "clinicalStatus": coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "verificationStatus": coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
            "category": [coded("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
            "code": snomed("195967001", "Asthma"),
            "subject": subject,
            "recordedDate": "2026-11-21"
        }),
        "MedicationStatement" => json!({
            "resourceType": "MedicationStatement",
            "identifier": identifier,
            "status": "active",
            "medicationCodeableConcept": coded("https://dmd.nhs.uk", "322236009", "Paracetamol 500mg tablets"),
            "subject": subject,
            "effectiveDateTime": "2026-11-21"
        }),
        "Immunization" => json!({
            "resourceType": "Immunization",
            "identifier": identifier,
            "status": "completed",
            "vaccineCode": coded("https://dmd.nhs.uk", "39116211000001106", "Generic COVID-19 Vaccine Vaxzevria (ChAdOx1 S [recombinant]) not less than 2.5x100,000,000 infectious units/0.5ml dose suspension for injection multidose vials"),
            "patient": subject,
            "occurrenceDateTime": "2026-11-21"
        }),
        _ => return None,
    })
}

/// Puts a fresh mts test identifier first among `body`'s identifiers (replacing the one a
/// resource type with a single identifier carries), so each create is new to the server and the
/// retry check can count exactly what this run made.
pub(super) fn stamp_test_identifier(body: &mut Value) {
    let ours = json!({"system": TEST_IDENTIFIER_SYSTEM, "value": uuid::Uuid::new_v4().to_string()});
    let kind = body["resourceType"].as_str().unwrap_or_default().to_owned();
    let single = crate::fhir::definitions::Definitions::core()
        .ok()
        .and_then(|d| d.element(&kind, "identifier"))
        .is_some_and(|e| !e.repeats());
    if single {
        body["identifier"] = ours;
    } else if let Some(Value::Array(list)) = body.get_mut("identifier") {
        list.insert(0, ours);
    } else {
        body["identifier"] = json!([ours]);
    }
}

/// The value of the mts test identifier `body` carries, if any.
pub(crate) fn test_identifier(body: &Value) -> Option<&str> {
    let identifiers = match &body["identifier"] {
        Value::Array(list) => list.iter().collect::<Vec<_>>(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    identifiers
        .into_iter()
        .find(|i| i["system"] == TEST_IDENTIFIER_SYSTEM)
        .and_then(|i| i["value"].as_str())
}

/// Where this target takes writes (`derive::write_target`), or why it takes none.
pub(crate) fn write_target(world: &MtsWorld) -> Result<WriteTarget, Halt> {
    let run = world.run()?;
    let configured = run.write.as_ref().map(|w| w.resource_type.as_str());
    derive::write_target(&run.model, configured, BUILT_IN_BODIES).map_err(|no| {
        let (kind, why) = no.into_reason();
        Halt::Unjudged(kind, why)
    })
}

/// The body to create a `kind` with: the configured file, else mts's own.
pub(crate) fn create_body(world: &MtsWorld, kind: &str) -> Result<Value, Halt> {
    let run = world.run()?;
    let patient = run
        .data
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    if let Some(path) = run.write.as_ref().and_then(|w| w.body.as_ref()) {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Halt::missing_config(format!("[target.write] body {}: {e}", path.display()))
        })?;
        let mut body: Value = serde_json::from_str(&text).map_err(|e| {
            Halt::missing_config(format!(
                "[target.write] body {} is not JSON: {e}",
                path.display()
            ))
        })?;
        if !body.is_object() {
            return Err(Halt::missing_config(format!(
                "[target.write] body {} is not a JSON object (a FHIR resource)",
                path.display()
            )));
        }
        stamp_test_identifier(&mut body);
        return Ok(body);
    }
    built_in_body(kind, &patient).ok_or_else(|| {
        Halt::missing_config(format!(
            "mts has no built-in {kind} body: give one with [target.write] body = \"file.json\""
        ))
    })
}

pub(super) fn post(body: &Value) -> RequestSpec {
    let mut spec = RequestSpec::get(body["resourceType"].as_str().unwrap_or("Observation"));
    spec.method = "POST".into();
    spec.set_header("Content-Type", "application/fhir+json");
    spec.body = Some(body.to_string().into_bytes());
    spec
}

/// The version a read answered with: its weak ETag, else `meta.versionId`.
pub(super) fn version_of(exchange: &Exchange) -> Option<String> {
    let response = exchange.response.as_ref()?;
    response
        .header("etag")
        .and_then(|e| {
            // Weak (W/"3") or strong ("3") validators both name the version.
            let e = e.trim();
            e.strip_prefix("W/")
                .unwrap_or(e)
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
        })
        .map(str::to_owned)
        .or_else(|| {
            response
                .resource()?
                .pointer("/meta/versionId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
}

/// The existing test patient, read afresh in this scenario (its version changes with writes).
pub(super) async fn read_test_patient(world: &mut MtsWorld) -> Result<Created, Halt> {
    let id = world
        .data()?
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    let exchange = world
        .send(&RequestSpec::get(format!("Patient/{id}")))
        .await?;
    // A setup read that goes wrong leaves the write unjudged; it is not the write's failure.
    let record = assert::fhir_resource(&exchange, Some("Patient"))
        .map_err(|halt| match halt {
            Halt::Fail(failure) => Halt::Error(format!(
                "could not read the test patient to start the write from ({}): {}",
                exchange.summary(),
                failure.message
            )),
            other => other,
        })?
        .clone();
    Ok(Created {
        resource_type: "Patient".into(),
        id,
        // Empty: the server gave no version, so it is not version-aware.
        version: version_of(&exchange).unwrap_or_default(),
        body: record,
        how: None,
    })
}

/// The valid write request to this target: a create with a body of mts's own, or a change of
/// the existing test patient that leaves it as it was (its own record put back, or a patch
/// that replaces its gender with itself), with If-Match.
pub(crate) async fn valid_write(world: &mut MtsWorld) -> Result<(WriteTarget, RequestSpec), Halt> {
    let target = write_target(world)?;
    let spec = match &target {
        WriteTarget::Create { kind } => {
            let body = create_body(world, kind)?;
            world.created = Some(Created {
                resource_type: kind.clone(),
                id: String::new(),
                version: String::new(),
                body: body.clone(),
                how: None,
            });
            post(&body)
        }
        WriteTarget::PatchPatient(style) => {
            let patient = read_test_patient(world).await?;
            let spec = patch_request(&patient, style);
            world.created = Some(patient);
            spec
        }
        WriteTarget::UpdatePatient => {
            let patient = read_test_patient(world).await?;
            let spec = put_request(&patient, patient.body.clone());
            world.created = Some(patient);
            spec
        }
    };
    Ok((target, spec))
}

pub(super) fn patch_request(resource: &Created, style: &PatchStyle) -> RequestSpec {
    let mut spec = RequestSpec::get(format!("{}/{}", resource.resource_type, resource.id));
    spec.method = "PATCH".into();
    spec.set_header("Content-Type", style.media_type.clone());
    if !resource.version.is_empty() {
        spec.set_header("If-Match", format!("W/\"{}\"", resource.version));
    }
    spec.body = Some(
        derive::harmless_patch(&resource.body, style)
            .to_string()
            .into_bytes(),
    );
    spec
}

pub(super) fn put_request(resource: &Created, mut body: Value) -> RequestSpec {
    body["id"] = json!(resource.id);
    let mut spec = RequestSpec::get(format!("{}/{}", resource.resource_type, resource.id));
    spec.method = "PUT".into();
    spec.set_header("Content-Type", "application/fhir+json");
    if !resource.version.is_empty() {
        spec.set_header("If-Match", format!("W/\"{}\"", resource.version));
    }
    spec.body = Some(body.to_string().into_bytes());
    spec
}

/// Puts back the resource a request may have spoiled (`restore_after_send`) when the server
/// answered that request with a success; the answer the scenario judges stays the last one.
pub(crate) async fn restore_if_taken(world: &mut MtsWorld) -> Result<(), Halt> {
    let Some(original) = world.restore_after_send.take() else {
        return Ok(());
    };
    let answered = world.last()?.clone();
    let Some(status) = answered
        .response
        .as_ref()
        .map(|r| r.status)
        .filter(|s| (200..300).contains(s))
    else {
        return Ok(());
    };
    let mut spec = put_request(&original, original.body.clone());
    spec.headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("if-match"));
    if let Some(tag) = answered.response.as_ref().and_then(|r| r.header("etag")) {
        spec.set_header("If-Match", tag.to_owned());
    }
    let restore = world.send(&spec).await?;
    let outcome = restore
        .response
        .as_ref()
        .map_or_else(|| "no answer".to_owned(), |r| format!("HTTP {}", r.status));
    world.note(if restore.response.as_ref().is_some_and(|r| (200..300).contains(&r.status)) {
        format!("the server took the request (HTTP {status}); mts put {}/{} back as it was ({outcome})", original.resource_type, original.id)
    } else {
        format!("the server took the request (HTTP {status}) and refused mts's restore of {}/{} ({outcome}): it may now differ from its record before the run", original.resource_type, original.id)
    });
    world.last = Some(answered);
    Ok(())
}
