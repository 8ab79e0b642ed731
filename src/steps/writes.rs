//! Write steps (only with --allow-writes; scenarios tagged @writes): create, retry with the same
//! X-Request-ID, Prefer, and If-Match concurrency.

use serde_json::{Value, json};

use super::library::{Args, StepDefinition, step};
use super::world::{Created, MtsWorld, UpdateHow};
use crate::catalogue::Profile;
use crate::checks::{Halt, assert, search};
use crate::http::{Exchange, RequestIdMode, RequestSpec};
use crate::report::Failure;
use crate::target::derive::{self, WriteTarget};
use crate::target::{Interaction, PatchStyle};

/// The identifier system mts stamps on what it creates, so a run's data can be found and told
/// apart from real records.
pub const TEST_IDENTIFIER_SYSTEM: &str = "https://mts.invalid/test-data";

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^a new test resource to create$"#,
        "a new test resource to create",
        new_resource
    );
    step!(
        defs,
        Given,
        r#"^a resource to update$"#,
        "a resource to update",
        resource_to_update
    );
    step!(
        defs,
        Given,
        r#"^a write the target takes$"#,
        "a write the target takes",
        valid_write_step
    );
    step!(
        defs,
        Given,
        r#"^the request body is the test patient's record$"#,
        "the request body is the test patient's record",
        patient_record_body
    );
    step!(
        defs,
        Given,
        r#"^an update of that resource$"#,
        "an update of that resource",
        update_request
    );
    step!(
        defs,
        Given,
        r#"^the request header "If-Match" is (the current|a stale) ETag$"#,
        r#"the request header "If-Match" is the current ETag"#,
        if_match
    );
    step!(
        defs,
        When,
        r#"^the request is sent twice with the same X-Request-ID$"#,
        "the request is sent twice with the same X-Request-ID",
        send_twice
    );
    step!(
        defs,
        Then,
        r#"^the retry did not create a second resource$"#,
        "the retry did not create a second resource",
        no_duplicate
    );
    step!(
        defs,
        Then,
        r#"^a stale update is refused as the profile requires$"#,
        "a stale update is refused as the profile requires",
        refused_when_stale
    );
    step!(
        defs,
        Then,
        r#"^an update without If-Match is refused as the profile requires$"#,
        "an update without If-Match is refused as the profile requires",
        refused_without_if_match
    );
    step!(
        defs,
        Then,
        r#"^the Location header names the created resource$"#,
        "the Location header names the created resource",
        location_names
    );
    step!(
        defs,
        Then,
        r#"^the body is the created resource$"#,
        "the body is the created resource",
        body_is_created
    );
}

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
fn stamp_test_identifier(body: &mut Value) {
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
fn test_identifier(body: &Value) -> Option<&str> {
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
fn create_body(world: &MtsWorld, kind: &str) -> Result<Value, Halt> {
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

fn post(body: &Value) -> RequestSpec {
    let mut spec = RequestSpec::get(body["resourceType"].as_str().unwrap_or("Observation"));
    spec.method = "POST".into();
    spec.set_header("Content-Type", "application/fhir+json");
    spec.body = Some(body.to_string().into_bytes());
    spec
}

/// The version a read answered with: its weak ETag, else `meta.versionId`.
fn version_of(exchange: &Exchange) -> Option<String> {
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
async fn read_test_patient(world: &mut MtsWorld) -> Result<Created, Halt> {
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

fn patch_request(resource: &Created, style: &PatchStyle) -> RequestSpec {
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

fn put_request(resource: &Created, mut body: Value) -> RequestSpec {
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

/// The test patient's own current record as the body: a probe a lax server took would store
/// what is already there.
async fn patient_record_body(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let patient = read_test_patient(world).await?;
    world.request_mut()?.body = Some(patient.body.to_string().into_bytes());
    Ok(())
}

async fn valid_write_step(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (_, spec) = valid_write(world).await?;
    world.request = Some(spec);
    Ok(())
}

async fn new_resource(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    match write_target(world)? {
        WriteTarget::Create { kind } => {
            let body = create_body(world, &kind)?;
            world.request = Some(post(&body));
            world.created = Some(Created {
                resource_type: kind,
                id: String::new(),
                version: String::new(),
                body,
                how: None,
            });
            Ok(())
        }
        other => Err(Halt::not_declared(format!(
            "the target declares no create mts can use (its writes are a {})",
            other.describe()
        ))),
    }
}

/// The id (and version) a create answer names: from Location, else from the body.
fn created_id(exchange: &Exchange) -> Option<(String, Option<String>)> {
    let response = exchange.response.as_ref()?;
    if let Some(location) = response.header("location") {
        let path = location.split('?').next().unwrap_or(location);
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if let Some(history) = parts.iter().position(|p| *p == "_history")
            && history >= 1
        {
            return Some((
                parts[history - 1].to_owned(),
                parts.get(history + 1).map(|v| (*v).to_owned()),
            ));
        }
        return parts.last().map(|id| ((*id).to_owned(), None));
    }
    let resource = response.resource()?;
    Some((
        resource["id"].as_str()?.to_owned(),
        resource
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    ))
}

/// A resource this scenario may update: one it creates where the target takes creates and
/// updates (or patches) of the same type, else the existing test patient where the target
/// takes a patch or update of it.
async fn resource_to_update(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let run = world.run()?.clone();
    let target = write_target(world)?;
    let how = |kind: &str| -> Option<UpdateHow> {
        let declared = run.model.resource(kind);
        if declared.is_some_and(|r| r.offers(Interaction::Update)) {
            return Some(UpdateHow::Put);
        }
        if let Some(patch) = declared.filter(|r| r.offers(Interaction::Patch)) {
            return Some(UpdateHow::Patch(
                patch.patch.clone().unwrap_or_else(PatchStyle::json_patch),
            ));
        }
        // Not declared, but the declarations are no complete list: try a PUT.
        (!run.model.is_complete()).then_some(UpdateHow::Put)
    };
    let patient_how = how("Patient");
    match (&target, patient_how) {
        (WriteTarget::Create { kind }, _) if how(kind).is_some() => {
            let body = create_body(world, kind)?;
            let exchange = world.send(&post(&body)).await?;
            let status = assert::response(&exchange)?.status;
            // Whether the create itself answered as FHIR says is API-HDR-008's question; here
            // any success that names the new resource will do.
            let named = (200..300)
                .contains(&status)
                .then(|| created_id(&exchange))
                .flatten();
            let Some((id, version)) = named else {
                return Err(Halt::Error(format!(
                    "could not create the test resource to update ({}: {}), so there is nothing to update; see API-HDR-008",
                    exchange.summary(),
                    if (200..300).contains(&status) {
                        "no Location header and no id in the body"
                    } else {
                        "not a success"
                    }
                )));
            };
            let version = version_of(&exchange).or(version).unwrap_or_default();
            world.created = Some(Created {
                resource_type: kind.clone(),
                id,
                version,
                body,
                how: how(kind),
            });
            Ok(())
        }
        (_, Some(patient_how)) => {
            let mut patient = read_test_patient(world).await?;
            patient.how = Some(patient_how);
            world.created = Some(patient);
            Ok(())
        }
        _ => Err(Halt::not_declared(format!(
            "the target declares no update or patch mts can use (its writes are a {})",
            target.describe()
        ))),
    }
}

async fn update_request(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let resource = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource to update in this scenario".into()))?;
    let mut spec = match &resource.how {
        Some(UpdateHow::Patch(style)) => patch_request(&resource, style),
        _ => {
            let mut body = resource.body.clone();
            if body["resourceType"] == "Observation" {
                body["valueQuantity"]["value"] = json!(73);
            }
            put_request(&resource, body)
        }
    };
    // The scenario decides whether If-Match is sent, and which.
    spec.headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("if-match"));
    world.request = Some(spec);
    Ok(())
}

/// API-HDR-006 judges version-aware updates only: a resource served with no version has none.
fn unversioned(created: &crate::steps::world::Created) -> Halt {
    Halt::nothing_to_judge(format!(
        "{}/{} came with no version (no ETag, no meta.versionId): its updates are not version-aware, which API-HDR-006 exempts",
        created.resource_type, created.id
    ))
}

async fn if_match(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource was created in this scenario".into()))?;
    if created.version.is_empty() {
        return Err(unversioned(&created));
    }
    let tag = if args.get(0) == "the current" {
        format!("W/\"{}\"", created.version)
    } else {
        let stale = created.version.parse::<u64>().map_or_else(
            |_| format!("{}-stale", created.version),
            |v| v.saturating_sub(1).to_string(),
        );
        format!("W/\"{stale}\"")
    };
    world.request_mut()?.set_header("If-Match", tag);
    Ok(())
}

async fn send_twice(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let mut spec = world.request_mut()?.clone();
    spec.request_id = RequestIdMode::Value(uuid::Uuid::new_v4().to_string());
    let first = world.send(&spec).await?;
    world.baseline = Some(first);
    world.send(&spec).await?;
    Ok(())
}

async fn no_duplicate(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let first = world
        .baseline
        .clone()
        .ok_or_else(|| Halt::Error("no first attempt".into()))?;
    let second = world.last()?.clone();
    if assert::response(&first)?.status != 201 {
        return Err(Halt::Error(format!(
            "the first create did not succeed ({}), so the retry cannot be judged",
            first.summary()
        )));
    }
    let (first_id, _) =
        created_id(&first).ok_or_else(|| Halt::Error("the create answer names no id".into()))?;
    let second_status = assert::response(&second)?.status;
    let retry_ok = match second_status {
        409 => {
            world.note("the retry was rejected as a duplicate (409)");
            true
        }
        200 | 201 => created_id(&second).is_some_and(|(id, _)| id == first_id),
        _ => false,
    };
    if !retry_ok {
        return Err(Failure::new(
            "retrying a create with the same X-Request-ID made a second resource",
        )
        .expected(format!(
            "the original answer (id {first_id}) or 409 duplicate rejected"
        ))
        .actual(format!(
            "HTTP {second_status}, id {}",
            created_id(&second).map_or("none".into(), |(id, _)| id)
        ))
        .exchange(&second.id)
        .into());
    }
    // Where the server supports it, count what exists with the test identifier.
    let Some(created) = world.created.clone() else {
        return Ok(());
    };
    let identifier = test_identifier(&created.body).map(str::to_owned);
    let run = world.run()?.clone();
    let searchable = matches!(
        run.model
            .offers_search_by(&created.resource_type, "identifier"),
        crate::target::Offer::Declared(_)
    );
    if let (Some(identifier), true) = (identifier, searchable) {
        let mut spec = RequestSpec::get(created.resource_type.clone());
        spec.query.push((
            "identifier".into(),
            format!("{TEST_IDENTIFIER_SYSTEM}|{identifier}"),
        ));
        let found = world.send(&spec).await?;
        if let Some(bundle) = assert::response(&found)?.resource() {
            let count = search::matches(bundle).len();
            if count != 1 {
                return Err(Failure::new(format!(
                    "{count} resources carry the test identifier after one create and its retry"
                ))
                .expected("exactly 1")
                .actual(format!("{count}"))
                .exchange(&found.id)
                .into());
            }
        }
    }
    Ok(())
}

/// A stale If-Match: FHIR R4 (http.html, managing resource contention) and RFC 9110 §13.1.1
/// answer 412 Precondition Failed; GP Connect answers 409, and the PDS specification names 409
/// RESOURCE_VERSION_MISMATCH. Under gpc 409 is required; elsewhere either, and the report says
/// which the server chose.
async fn refused_when_stale(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let profile = world.run()?.profile;
    let allowed: &[u16] = match profile {
        Profile::Gpc => &[409],
        Profile::All | Profile::Apim | Profile::Ukca => &[409, 412],
    };
    assert::status_is(&exchange, allowed)?;
    world.note(format!(
        "an update with a stale If-Match was answered {} ({profile} profile accepts {})",
        exchange.status().unwrap_or(0),
        if profile == Profile::Gpc {
            "409"
        } else {
            "409 or 412"
        }
    ));
    Ok(())
}

/// An update without If-Match: PDS (apim) answers 412 PRECONDITION_FAILED and GP Connect 409.
/// FHIR R4 leaves it to the server, so elsewhere the refusal is required only where the target
/// declares If-Match required (`[target.declares.<Type>] if-match-required`, or its OpenAPI
/// document marks the header required); otherwise taking the update is also conformant. A
/// refusal must be an OperationOutcome.
async fn refused_without_if_match(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let run = world.run()?.clone();
    if let Some(created) = world.created.as_ref().filter(|c| c.version.is_empty()) {
        return Err(unversioned(created));
    }
    let kind = world
        .created
        .as_ref()
        .map_or("Patient", |c| c.resource_type.as_str());
    let declared_required = run
        .model
        .resource(kind)
        .is_some_and(|r| r.if_match_required);
    let status = exchange.status().unwrap_or(0);
    let (allowed, why): (&[u16], &str) = match run.profile {
        Profile::Apim => (&[412], "PDS answers 412 PRECONDITION_FAILED"),
        Profile::Gpc => (&[409], "GP Connect answers 409"),
        Profile::All | Profile::Ukca if declared_required => (
            &[409, 412],
            "the target declares If-Match required; 409 or 412 accepted",
        ),
        Profile::All | Profile::Ukca => (
            &[409, 412],
            "FHIR R4 lets the server choose whether If-Match is required, and the target does not declare it required: a success or 409/412 accepted",
        ),
    };
    // Where the server may choose, any success (200, or 204 with return=minimal) is taking it.
    let may_take = matches!(run.profile, Profile::All | Profile::Ukca) && !declared_required;
    if !(may_take && (200..300).contains(&status)) {
        assert::status_is(&exchange, allowed)?;
    }
    // A refusal explains itself; an update the profile lets the server take has nothing to.
    if status >= 400 {
        assert::operation_outcome(&exchange)?;
    }
    world.note(format!(
        "an update without If-Match was answered {status} ({} profile: {why})",
        run.profile
    ));
    Ok(())
}

async fn location_names(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    let location = response.header("location").unwrap_or("");
    let kind = world
        .created
        .as_ref()
        .map_or("Observation".to_owned(), |c| c.resource_type.clone());
    let pattern = regex::Regex::new(&format!(
        r"(^|/){kind}/[A-Za-z0-9\-.]{{1,64}}(/_history/[A-Za-z0-9\-.]{{1,64}})?$"
    ))
    .map_err(|e| Halt::Error(e.to_string()))?;
    if pattern.is_match(location) {
        return Ok(());
    }
    Err(
        Failure::new("the create answer does not say where the new resource is")
            .expected(format!("Location: [base]/{kind}/<id>[/_history/<version>]"))
            .actual(if location.is_empty() {
                "no Location header".into()
            } else {
                format!("Location: {location}")
            })
            .exchange(&exchange.id)
            .into(),
    )
}

async fn body_is_created(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let kind = world
        .created
        .as_ref()
        .map_or("Observation".to_owned(), |c| c.resource_type.clone());
    let resource = assert::fhir_resource(&exchange, Some(&kind))?;
    let id = resource["id"].as_str();
    let named = created_id(&exchange).map(|(id, _)| id);
    if id.is_some() && (named.is_none() || named.as_deref() == id) {
        return Ok(());
    }
    Err(Failure::new("the body is not the created resource")
        .expected(format!("the {kind} with the id in Location"))
        .actual(format!("id {}", id.unwrap_or("missing")))
        .exchange(&exchange.id)
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::exchange;

    #[test]
    fn created_ids_come_from_location_or_body() {
        let with_location = exchange(
            201,
            &[("location", "https://x/FHIR/R4/Observation/obs-1/_history/3")],
            "",
        );
        assert_eq!(
            created_id(&with_location),
            Some(("obs-1".into(), Some("3".into())))
        );
        let plain = exchange(201, &[("location", "Observation/obs-2")], "");
        assert_eq!(created_id(&plain), Some(("obs-2".into(), None)));
        let body = exchange(
            201,
            &[],
            r#"{"resourceType":"Observation","id":"obs-3","meta":{"versionId":"1"}}"#,
        );
        assert_eq!(created_id(&body), Some(("obs-3".into(), Some("1".into()))));
    }
}
