use serde_json::json;

use super::*;

fn patient(identifiers: Value) -> Value {
    json!({"resourceType": "Patient", "identifier": identifiers})
}

#[test]
fn nhs_number_identifiers_are_unique_and_ten_digits() {
    let one = json!({"system": NHS_NUMBER_SYSTEM, "value": "9000000009"});
    assert_eq!(nhs_number_identifiers(&patient(json!([one]))), Some(vec![]));
    assert_eq!(
        nhs_number_identifiers(&patient(json!([one, one])))
            .unwrap()
            .len(),
        1
    );
    let spaced = json!({"system": NHS_NUMBER_SYSTEM, "value": "900 000 0009"});
    assert!(
        nhs_number_identifiers(&patient(json!([spaced]))).unwrap()[0].contains("not 10 digits")
    );
    assert_eq!(
        nhs_number_identifiers(&json!({"resourceType": "Patient"})),
        None
    );
}

#[test]
fn verification_status_systems_are_checked() {
    let with = |system: &str| {
        patient(
            json!([{"system": NHS_NUMBER_SYSTEM, "value": "9000000009", "extension": [{"url": VERIFICATION_EXTENSION,
                "valueCodeableConcept": {"coding": [{"system": system, "code": "01"}]}}]}]),
        )
    };
    assert_eq!(
        verification_status(&with(VERIFICATION_SYSTEMS[0])),
        Some(vec![])
    );
    assert_eq!(
        verification_status(&with(VERIFICATION_SYSTEMS[2])),
        Some(vec![]),
        "STU1 system still accepted"
    );
    assert_eq!(
        verification_status(&with("https://example.org/status"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        verification_status(&patient(
            json!([{"system": NHS_NUMBER_SYSTEM, "value": "9000000009"}])
        )),
        None
    );
}

#[test]
fn ods_codes_are_upper_case_and_on_organisation_references() {
    let gp = |system: &str, value: &str| json!({"resourceType": "Patient", "generalPractitioner": [{"identifier": {"system": system, "value": value}}]});
    assert_eq!(ods_identifiers(&gp(ODS_SYSTEMS[0], "Y12345")), Some(vec![]));
    assert_eq!(
        ods_identifiers(&gp(ODS_SYSTEMS[0], "y12345"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ods_identifiers(&gp("https://example.org/practice", "Y12345"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(ods_identifiers(&json!({"resourceType": "Patient"})), None);
}

#[test]
fn deprecated_systems_are_flagged() {
    let body = json!({"resourceType": "Practitioner", "identifier": [{"system": "http://fhir.nhs.net/Id/sds-user-id", "value": "G1"},
            {"system": "https://fhir.nhs.uk/Id/made-up", "value": "1"}]});
    assert_eq!(identifier_systems(&body).unwrap().len(), 2);
    let good = json!({"resourceType": "Practitioner", "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "G1"}]});
    assert_eq!(identifier_systems(&good), Some(vec![]));
}

#[test]
fn snomed_codes_are_checked() {
    let concept = |system: &str, code: &str| json!({"resourceType": "AllergyIntolerance", "code": {"coding": [{"system": system, "code": code, "display": "x"}]}});
    assert_eq!(
        snomed_codings(&concept(SNOMED_SYSTEM, "91936005")),
        Some(vec![])
    );
    assert!(snomed_codings(&concept(SNOMED_SYSTEM, "91936006")).unwrap()[0].contains("Verhoeff"));
    assert!(
        snomed_codings(&concept("https://snomed.info/sct", "91936005")).unwrap()[0]
            .contains("http://snomed.info/sct")
    );
    assert_eq!(
        snomed_codings(&concept(SNOMED_SYSTEM, "71388002 |Procedure|")),
        Some(vec![]),
        "expressions are not judged"
    );
    assert_eq!(snomed_codings(&concept("http://loinc.org", "1-8")), None);
}

#[test]
fn medications_need_dmd_codes() {
    let statement = |concept: Value| json!({"resourceType": "MedicationStatement", "medicationCodeableConcept": concept});
    assert_eq!(
        medication_codes(&statement(
            json!({"coding": [{"system": DMD_SYSTEM, "code": "322236009"}]})
        )),
        Some(vec![])
    );
    assert!(
        medication_codes(&statement(json!({"text": "two paracetamol"}))).unwrap()[0]
            .contains("free text")
    );
    assert!(
        medication_codes(&statement(
            json!({"coding": [{"system": DMD_SYSTEM, "code": "322236008"}]})
        ))
        .unwrap()[0]
            .contains("Verhoeff")
    );
}

#[test]
fn displays_or_text_are_required() {
    let concept = |coding: Value, text: Option<&str>| {
        let mut c = json!({"coding": [coding]});
        if let Some(t) = text {
            c["text"] = json!(t);
        }
        json!({"resourceType": "Condition", "code": c})
    };
    assert_eq!(
        coding_displays(&concept(
            json!({"system": SNOMED_SYSTEM, "code": "1", "display": "x"}),
            None
        )),
        Some(vec![])
    );
    assert_eq!(
        coding_displays(&concept(
            json!({"system": SNOMED_SYSTEM, "code": "1"}),
            Some("text")
        )),
        Some(vec![])
    );
    assert_eq!(
        coding_displays(&concept(
            json!({"system": SNOMED_SYSTEM, "code": "1"}),
            None
        ))
        .unwrap()
        .len(),
        1
    );
}

#[test]
fn meta_is_required_on_returned_resources() {
    let good = json!({"resourceType": "Patient", "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z", "profile": ["p"]}});
    assert_eq!(resource_meta(&good), Some(vec![]));
    assert_eq!(
        resource_meta(&json!({"resourceType": "Patient"}))
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        resource_meta(&json!({"resourceType": "OperationOutcome"})),
        None
    );
}

#[test]
fn outcome_semantics() {
    let outcome = |severity: &str, coding: Value| json!({"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": "value", "details": {"coding": coding}}]});
    let spine = json!([{"system": SPINE_CODE_SYSTEMS[0], "code": "INVALID_VALUE", "display": "Invalid value"}]);
    assert!(outcome_issues(&outcome("error", spine.clone())).is_empty());
    assert_eq!(outcome_issues(&outcome("warning", spine.clone())).len(), 1);
    assert_eq!(
        spine_coding(&outcome("error", spine.clone())),
        (vec![], vec![])
    );
    assert_eq!(spine_coding(&outcome("error", json!([]))).0.len(), 1);
    let unknown =
        json!([{"system": SPINE_CODE_SYSTEMS[0], "code": "SOMETHING_NEW", "display": "x"}]);
    let (problems, notes) = spine_coding(&outcome("error", unknown));
    assert!(problems.is_empty() && notes.len() == 1);
    let foreign = json!([{"system": "https://example.org", "code": "X", "display": "x"}]);
    assert_eq!(spine_coding(&outcome("error", foreign)).0.len(), 1);
}
