//! Unit tests for the R4 JSON schema validator (`fhir::schema`).

use serde_json::json;

use super::*;

fn schema() -> Arc<FhirSchema> {
    FhirSchema::embedded().unwrap()
}

#[test]
fn a_valid_patient_passes() {
    let patient = json!({"resourceType": "Patient", "id": "9000000009", "gender": "female", "birthDate": "2010-10-22"});
    assert!(schema().is_valid(&patient));
    assert_eq!(schema().validate(&patient), vec![]);
}

#[test]
fn errors_are_located_as_fhirpath() {
    let patient = json!({"resourceType": "Patient", "gender": "F", "birthDate": "2010/10/22", "name": [{"given": [5]}], "colour": "red"});
    let issues = schema().validate(&patient);
    let locations: BTreeSet<&str> = issues.iter().map(|i| i.location.as_str()).collect();
    assert_eq!(
        locations,
        BTreeSet::from([
            "Patient.gender",
            "Patient.birthDate",
            "Patient.name[0].given[0]",
            "Patient.colour"
        ]),
        "{issues:#?}"
    );
    assert!(!schema().is_valid(&patient));
}

#[test]
fn bundle_entries_are_validated_where_they_are() {
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"fullUrl": "https://x/Patient/1", "resource": {"resourceType": "Patient", "id": "1"}},
        {"fullUrl": "https://x/Patient/2", "resource": {"resourceType": "Patient", "id": "2", "gender": "M"}},
        {"resource": {"resourceType": "Nonsense"}}
    ]});
    let issues = schema().validate(&bundle);
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert_eq!(
        issues[0].location,
        "Bundle.entry[1].resource.ofType(Patient).gender"
    );
    assert_eq!(issues[0].pointer, "/entry/1/resource/gender");
    assert!(issues[1].message.contains("Nonsense"), "{issues:#?}");
    assert_eq!(
        issues[1].location,
        "Bundle.entry[2].resource.ofType(Nonsense)"
    );
}

#[test]
fn resources_are_found_wherever_the_schema_lets_them_sit() {
    let parameters = json!({"resourceType": "Parameters", "parameter": [
        {"name": "a", "part": [{"name": "b", "resource": {"resourceType": "Patient", "gender": 1}}]}
    ]});
    let issues = schema().validate(&parameters);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(
        issues[0].location,
        "Parameters.parameter[0].part[0].resource.ofType(Patient).gender"
    );

    let patient = json!({"resourceType": "Patient",
        "contained": [{"resourceType": "Practitioner", "active": "yes"}],
        "contact": [{"resourceType": "Patient"}]});
    let issues = schema().validate(&patient);
    let locations: Vec<&str> = issues.iter().map(|i| i.location.as_str()).collect();
    assert!(
        locations.contains(&"Patient.contained[0].ofType(Practitioner).active"),
        "{issues:#?}"
    );
    // A resource where none may sit is its parent's error.
    assert!(
        issues
            .iter()
            .any(|i| i.pointer == "/contact/0/resourceType"),
        "{issues:#?}"
    );
}

#[test]
fn choice_types_and_missing_elements_are_named() {
    let observation = json!({"resourceType": "Observation", "status": "final", "valueQuantity": {"value": "7.2"}});
    let issues = schema().validate(&observation);
    let locations: Vec<&str> = issues.iter().map(|i| i.location.as_str()).collect();
    assert!(
        locations.contains(&"Observation.value.ofType(Quantity).value"),
        "{issues:#?}"
    );
    assert!(locations.contains(&"Observation.code"), "{issues:#?}");
}

#[test]
fn r4_capability_statements_declaring_4_0_1_are_valid() {
    let statement = json!({"resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-21",
        "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"]});
    assert_eq!(schema().validate(&statement), vec![]);
}

#[test]
fn non_resources_are_reported_not_crashed_on() {
    assert_eq!(
        schema().validate(&json!([1, 2]))[0].message,
        "a resource must be a JSON object, found an array"
    );
    assert!(
        schema().validate(&json!({"id": "x"}))[0]
            .message
            .contains("resourceType is missing")
    );
    let long_type = "X".repeat(10_000);
    let issue = &schema().validate(&json!({"resourceType": long_type}))[0];
    assert!(issue.message.len() < 400, "{}", issue.message.len());
}

#[test]
fn long_messages_are_shortened_on_char_boundaries() {
    let text = "é".repeat(400);
    let short = shorten(&text);
    assert!(short.len() < text.len());
    assert!(short.ends_with("bytes)"));
}
