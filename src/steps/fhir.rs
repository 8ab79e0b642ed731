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
    Err(Halt::NotApplicable(format!(
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

async fn nhs_numbers_valid(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let resource = assert::fhir_resource(&exchange, None)?;
    let found = nhs_number::find_identifiers(resource, &JsonPath::resource_root(resource));
    if found.is_empty() {
        return Err(Halt::NotApplicable("the body carries no NHS number".into()));
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
