//! Assertions on FHIR bodies.

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, expand_placeholders};
use crate::checks::{Halt, assert, capability};
use crate::fhir::{nhs_number, path::JsonPath, schema::FhirSchema};
use crate::http::RequestSpec;
use crate::report::Failure;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^the OperationOutcome issue code is "([a-z-]+)"$"#,
        r#"the OperationOutcome issue code is "required""#,
        issue_code
    );
    step!(
        defs,
        Then,
        r#"^the OperationOutcome carries one of the Spine codes "([A-Z_, ]+)"$"#,
        r#"the OperationOutcome carries one of the Spine codes "INVALID_NHS_NUMBER, INVALID_RESOURCE_ID""#,
        spine_code_one_of
    );
    step!(
        defs,
        Then,
        r#"^the ETag is the weak form of meta.versionId$"#,
        "the ETag is the weak form of meta.versionId",
        etag_is_version
    );
    step!(
        defs,
        Then,
        r#"^the patient is flagged restricted and carries no address, telecom or GP$"#,
        "the patient is flagged restricted and carries no address, telecom or GP",
        restricted_patient
    );
    step!(
        defs,
        Given,
        r#"^the server publishes a CapabilityStatement$"#,
        "the server publishes a CapabilityStatement",
        capability_published
    );
    step!(
        defs,
        Then,
        r#"^the body is a FHIR "([A-Za-z]+)" resource$"#,
        r#"the body is a FHIR "CapabilityStatement" resource"#,
        body_is_resource
    );
    step!(
        defs,
        Then,
        r#"^the body is valid against the FHIR R4 schema$"#,
        "the body is valid against the FHIR R4 schema",
        body_is_schema_valid
    );
    step!(
        defs,
        Then,
        r#"^the body is an OperationOutcome$"#,
        "the body is an OperationOutcome",
        body_is_outcome
    );
    step!(
        defs,
        Then,
        r#"^the OperationOutcome carries the Spine code "([A-Z_]+)"$"#,
        r#"the OperationOutcome carries the Spine code "INVALID_VALUE""#,
        spine_code
    );
    step!(
        defs,
        Then,
        r#"^the resource id is "([^"]*)"$"#,
        r#"the resource id is "{patient:existing}""#,
        resource_id_is
    );
    step!(
        defs,
        Then,
        r#"^the CapabilityStatement describes an R4 JSON server$"#,
        "the CapabilityStatement describes an R4 JSON server",
        capability_r4_server
    );
    step!(
        defs,
        Given,
        r#"^the target reads patients by NHS number$"#,
        "the target reads patients by NHS number",
        read_by_nhs_number
    );
    step!(
        defs,
        Then,
        r#"^the patient carries the NHS number "([^"]+)" under the national system$"#,
        r#"the patient carries the NHS number "{nhs-number:existing}" under the national system"#,
        carries_nhs_number
    );
    step!(
        defs,
        Then,
        r#"^every NHS number in the body passes modulus 11$"#,
        "every NHS number in the body passes modulus 11",
        nhs_numbers_valid
    );
}

/// Reads `/metadata`; where there is no CapabilityStatement the scenario does not apply (whether
/// one is required is IOP-FHIR-001's question, and the profile's).
async fn capability_published(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.send(&RequestSpec::get("metadata")).await?;
    let response = assert::response(&exchange)?;
    if response.status == 200 && response.resource_type() == Some("CapabilityStatement") {
        return Ok(());
    }
    Err(Halt::not_declared(format!(
        "the server publishes no CapabilityStatement at /metadata ({}), so there is nothing to judge",
        exchange.summary()
    )))
}

async fn body_is_resource(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    assert::fhir_resource(world.last()?, Some(args.get(0))).map(|_| ())
}

async fn body_is_schema_valid(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, None)?;
    let schema = FhirSchema::embedded().map_err(Halt::Error)?;
    let issues = schema.validate(resource);
    match issues.first() {
        None => Ok(()),
        Some(first) => Err(Failure::new(format!(
            "the body breaks the FHIR R4 schema in {} place(s), first at {}",
            issues.len(),
            first.location
        ))
        .expected("a resource valid against the FHIR R4 JSON schema")
        .actual(format!("{}: {}", first.location, first.message))
        .exchange(&exchange.id)
        .into()),
    }
}

async fn issue_code(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let outcome = assert::operation_outcome(&exchange)?;
    let codes: Vec<&str> = crate::fhir::outcome::issues(outcome)
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    if codes.contains(&args.get(0)) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the OperationOutcome's issue code is not {}",
        args.get(0)
    ))
    .expected(format!("issue.code {}", args.get(0)))
    .actual(if codes.is_empty() {
        "no issue code".into()
    } else {
        codes.join(", ")
    })
    .exchange(&exchange.id)
    .into())
}

async fn spine_code_one_of(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let outcome = assert::operation_outcome(&exchange)?;
    let allowed: Vec<&str> = args.get(0).split(',').map(str::trim).collect();
    let codes = crate::fhir::outcome::spine_codes(outcome);
    if codes.iter().any(|c| allowed.contains(&c.as_str())) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the OperationOutcome carries none of the Spine codes {}",
        allowed.join(", ")
    ))
    .expected(format!("one of {}", allowed.join(", ")))
    .actual(if codes.is_empty() {
        "no Spine code".to_owned()
    } else {
        codes.join(", ")
    })
    .exchange(&exchange.id)
    .into())
}

async fn etag_is_version(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, None)?;
    let version = resource
        .pointer("/meta/versionId")
        .and_then(serde_json::Value::as_str);
    let etag = assert::response(&exchange)?.header("etag");
    let expected = version.map(|v| format!("W/\"{v}\""));
    if etag.is_some() && etag == expected.as_deref() {
        return Ok(());
    }
    Err(
        Failure::new("the ETag is not the weak form of meta.versionId")
            .expected(
                expected.map_or("meta.versionId and a matching weak ETag".to_owned(), |e| {
                    format!("ETag: {e}")
                }),
            )
            .actual(format!(
                "{}; meta.versionId {}",
                etag.map_or("no ETag".to_owned(), |e| format!("ETag: {e}")),
                version.unwrap_or("missing")
            ))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn restricted_patient(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let patient = assert::fhir_resource(&exchange, Some("Patient"))?;
    // R (restricted) or V (very restricted), the v3-Confidentiality codes that hide a record.
    let flagged = crate::fhir::is_restricted(patient);
    let leaked: Vec<&str> = ["address", "telecom", "generalPractitioner"]
        .into_iter()
        .filter(|field| {
            patient
                .get(*field)
                .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
        })
        .collect();
    // The supplier promised this patient is sensitive, and the preflight found no label; an
    // unlabelled record that also shows where the patient lives is an ordinary patient: the
    // test data is wrong, not the target. A record stripped but left unlabelled is the target
    // treating the patient as restricted without saying so: that stays a failure.
    if !flagged
        && !leaked.is_empty()
        && let Some(shortfall) = world
            .run()?
            .kit_shortfall(crate::config::PatientRole::Restricted, None)
    {
        return Err(Halt::missing_data(shortfall.text.clone()));
    }
    if flagged && leaked.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if !flagged {
        problems.push("meta.security has no v3-Confidentiality code R or V".to_owned());
    }
    if !leaked.is_empty() {
        problems.push(format!("the record still carries {}", leaked.join(", ")));
    }
    Err(Failure::new(format!(
        "the restricted patient is not handled safely: {}",
        problems.join("; ")
    ))
    .expected("meta.security R (or V) and no address, telecom or generalPractitioner")
    .actual(problems.join("; "))
    .exchange(&exchange.id)
    .into())
}

async fn body_is_outcome(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    assert::operation_outcome(world.last()?).map(|_| ())
}

async fn spine_code(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    assert::spine_code(world.last()?, args.get(0))
}

async fn resource_id_is(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let expected = expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, None)?;
    let actual = resource.get("id").and_then(serde_json::Value::as_str);
    if actual == Some(expected.as_str()) {
        return Ok(());
    }
    Err(
        Failure::new("the resource returned is not the one requested")
            .expected(format!("id {expected}"))
            .actual(actual.map_or("no id".to_owned(), |a| format!("id {a}")))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn capability_r4_server(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let statement = assert::fhir_resource(&exchange, Some("CapabilityStatement"))?;
    let problems = capability::r4_server_problems(statement);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!("the CapabilityStatement does not describe an R4 JSON server: {}", problems.join("; ")))
        .expected("fhirVersion 4.0.1, a JSON format, kind instance, status active, rest mode server, software name and version")
        .actual(problems.join("; "))
        .exchange(&exchange.id)
        .into())
}

/// On a target whose patients are keyed by another id (a UUID, configured as
/// `[data.patient.existing] id`), `Patient/<NHS number>` is only an unknown id, and a 404 for
/// it is right; the NHS number rules then apply to searches by identifier only.
async fn read_by_nhs_number(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let existing = world
        .data()?
        .patient(crate::config::PatientRole::Existing)
        .clone();
    if existing.logical_id() == existing.nhs_number {
        return Ok(());
    }
    Err(Halt::not_declared(format!(
        "the target keys patients by id, not by NHS number ([data.patient.existing] id = \"{}\" for NHS number {}), so Patient/<NHS number> is only an unknown id there",
        existing.logical_id(),
        existing.nhs_number
    )))
}

/// Evidence owed: a patient asked for by its NHS number carries that NHS number under
/// `https://fhir.nhs.uk/Id/nhs-number` (an NHS number under another system is not found by
/// anyone searching the national one).
async fn carries_nhs_number(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let number =
        super::world::expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, Some("Patient"))?;
    let carried = resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|i| i["system"] == crate::fhir::NHS_NUMBER_SYSTEM && i["value"] == number.as_str());
    if carried {
        return Ok(());
    }
    let elsewhere: Vec<String> = resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["value"] == number.as_str())
        .map(|i| i["system"].as_str().unwrap_or("(no system)").to_owned())
        .collect();
    Err(Failure::new(format!(
        "{} returned the patient without NHS number {number} under {}",
        exchange.summary_request(),
        crate::fhir::NHS_NUMBER_SYSTEM
    ))
    .expected(format!(
        "identifier {{system: {}, value: {number}}}",
        crate::fhir::NHS_NUMBER_SYSTEM
    ))
    .actual(if elsewhere.is_empty() {
        identifier_systems(resource)
    } else {
        format!("{number} under {}", elsewhere.join(", "))
    })
    .exchange(&exchange.id)
    .into())
}

/// The identifier systems a resource carries, for a failure's "actual".
fn identifier_systems(resource: &serde_json::Value) -> String {
    let systems: Vec<&str> = resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["system"].as_str().unwrap_or("(no system)"))
        .collect();
    if systems.is_empty() {
        "no identifier".into()
    } else {
        format!("identifiers in {}", systems.join(", "))
    }
}

async fn nhs_numbers_valid(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, None)?;
    let found = nhs_number::find_identifiers(resource, &JsonPath::resource_root(resource));
    if found.is_empty() {
        // Every NHS number the server emits must be valid; emitting none is IOP-UKC-001's
        // failure (its own scenario reads the same patient), not this rule's.
        return Err(Halt::nothing_to_judge(format!(
            "{} returned no identifier in the NHS number system ({}): no NHS number to check; see IOP-UKC-001",
            exchange.summary_request(),
            identifier_systems(resource)
        )));
    }
    for (path, value) in found {
        let text = value.as_str().unwrap_or_default();
        if let Err(problem) = nhs_number::check(text) {
            return Err(
                Failure::new(format!("the NHS number at {} {problem}", path.fhirpath()))
                    .expected("a 10-digit NHS number with a valid modulus 11 check digit")
                    .actual(format!("{}: {value}", path.fhirpath()))
                    .exchange(&exchange.id)
                    .into(),
            );
        }
    }
    Ok(())
}
