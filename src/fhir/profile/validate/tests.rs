//! Unit tests for the profile validator (`profile::validate`).

use super::values::{contains_pattern, reference_type};
use super::*;
use serde_json::json;

fn validator() -> Validator {
    Validator::new(Definitions::core().unwrap())
}

fn errors(issues: &[Issue]) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{} [{}] {}", i.location, i.rule, i.message))
        .collect()
}

/// Valid resources that a careless reading of R4's rules would fail (each found in review):
/// a no-break space in a string, a date against a time past midnight in another zone,
/// que-7's `answer is Boolean`, an extension valued only by `_valueString`, a whole-number
/// Count; and hostile ones that must neither panic nor fail: an absurd zone offset, a
/// narrative nested 100,000 deep.
#[test]
fn valid_edge_cases_pass_and_hostile_ones_do_not_crash() {
    let validator = crate::fhir::profile::validator(Definitions::core().unwrap());
    let valid = [
        json!({"resourceType": "Patient", "name": [{"family": "O\u{a0}Brien"}]}),
        json!({"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
               "period": {"start": "2024-06-01", "end": "2024-06-01T00:30:00+01:00"}}),
        json!({"resourceType": "Questionnaire", "status": "active", "item": [
            {"linkId": "1", "type": "boolean"},
            {"linkId": "2", "type": "string", "enableWhen": [
                {"question": "1", "operator": "exists", "answerBoolean": true}]}]}),
        json!({"resourceType": "Patient", "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
            "_valueString": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}}]}),
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
               "valueQuantity": {"value": 5, "system": "http://unitsofmeasure.org", "code": "1"}}),
    ];
    for resource in &valid {
        assert_eq!(
            errors(&validator.validate_claims(resource)),
            Vec::<String>::new(),
            "{resource}"
        );
    }
    let hostile_offset = json!({"resourceType": "Encounter", "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "2020-01-01T10:00:00+9999999999:00", "end": "2020-01-02T10:00:00Z"}});
    let found = errors(&validator.validate_claims(&hostile_offset));
    assert!(found.iter().all(|e| e.contains("[format]")), "{found:?}");
    let deep = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\">{}{}</div>",
        "<b>".repeat(100_000),
        "</b>".repeat(100_000)
    );
    let narrative =
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": deep}});
    let issues = validator.validate_claims(&narrative);
    assert!(
        issues
            .iter()
            .any(|i| i.rule == "txt-1" && i.severity == Severity::Information),
        "too deep to check is said, not failed"
    );
}

/// The structural rules beyond the snapshot: each fails once on a broken copy of a clean
/// resource, and the clean one passes.
#[test]
fn formats_unknown_properties_prose_rules_and_extension_contexts() {
    let validator = validator();
    let clean = json!({
        "resourceType": "Patient", "id": "p-1", "birthDate": "1970-01-01",
        "name": [{"family": "Smith", "_family": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "van"}]}}],
        "photo": [{"data": "aGVsbG8=", "size": 5}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]}
    });
    assert_eq!(
        errors(&validator.validate_claims(&clean)),
        Vec::<String>::new()
    );
    let broken = |edit: &dyn Fn(&mut Value), rule: &str| {
        let mut resource = clean.clone();
        edit(&mut resource);
        let found = errors(&validator.validate_claims(&resource));
        assert!(
            found.len() == 1 && found[0].contains(&format!("[{rule}]")),
            "{rule}: {found:?}"
        );
    };
    broken(&|r| r["id"] = json!("bad_id"), "format");
    broken(&|r| r["birthDate"] = json!("1 Jan 1970"), "format");
    broken(&|r| r["birthDate"] = json!(1970), "type");
    broken(&|r| r["mtsUnknown"] = json!(true), "structure");
    broken(&|r| r["photo"][0]["size"] = json!(6), "rule");
    broken(
        &|r| r["maritalStatus"]["coding"][0]["system"] = json!("v3-MaritalStatus"),
        "rule",
    );
    // humanname-own-prefix belongs on HumanName.family, not on the name itself.
    broken(
        &|r| {
            r["name"][0]["extension"] = r["name"][0]["_family"]["extension"].clone();
        },
        "extension",
    );
}

fn blood_pressure() -> Value {
    json!({
        "resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/9000000009"},
        "effectiveDateTime": "2026-11-21T09:00:00+00:00",
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
             "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
             "valueQuantity": {"value": 80, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
        ]
    })
}

const BP: &str = "http://hl7.org/fhir/StructureDefinition/bp";

#[test]
fn a_conformant_blood_pressure_passes_the_core_bp_profile() {
    let issues = validator().validate(&blood_pressure(), BP);
    assert_eq!(errors(&issues), Vec::<String>::new());
}

#[test]
fn slices_cardinality_fixed_values_types_and_bindings_are_enforced() {
    let v = validator();
    // A missing component slice (diastolic).
    let mut one = blood_pressure();
    one["component"].as_array_mut().unwrap().pop();
    let found = errors(&v.validate(&one, BP));
    assert!(
        found
            .iter()
            .any(|e| e.contains("DiastolicBP") && e.contains("at least 1")),
        "{found:?}"
    );
    // A wrong fixed system in the systolic component's Quantity.
    let mut wrong_unit = blood_pressure();
    wrong_unit["component"][0]["valueQuantity"]["system"] = json!("http://example.org/units");
    let found = errors(&v.validate(&wrong_unit, BP));
    assert!(
        found
            .iter()
            .any(|e| e.contains("[fixed]") && e.contains("unitsofmeasure")),
        "{found:?}"
    );
    // A value of a type the profile does not allow.
    let mut string_value = blood_pressure();
    string_value["valueString"] = json!("high");
    let found = errors(&v.validate(&string_value, BP));
    assert!(found.iter().any(|e| e.contains("valueString")), "{found:?}");
    // A required binding broken (status).
    let mut status = blood_pressure();
    status["status"] = json!("done");
    let found = errors(&v.validate(&status, BP));
    assert!(
        found
            .iter()
            .any(|e| e.contains("[binding]") && e.contains("done")),
        "{found:?}"
    );
    // Too many of something (subject is 0..1... here: two codes in one slice).
    let mut missing = blood_pressure();
    missing.as_object_mut().unwrap().remove("subject");
    let found = errors(&v.validate(&missing, BP));
    assert!(
        found
            .iter()
            .any(|e| e.contains("Observation.subject") && e.contains("[cardinality]")),
        "{found:?}"
    );
}

#[test]
fn references_must_point_at_allowed_types() {
    let mut bp = blood_pressure();
    bp["subject"] = json!({"reference": "Device/1"});
    let found = errors(&validator().validate(&bp, BP));
    assert!(
        found
            .iter()
            .any(|e| e.contains("[reference]") && e.contains("Device")),
        "{found:?}"
    );
}

#[test]
fn helpers() {
    assert_eq!(reference_type("Patient/1"), Some("Patient"));
    assert_eq!(
        reference_type("https://x/FHIR/R4/Patient/1/_history/2"),
        Some("Patient")
    );
    assert_eq!(reference_type("#p1"), None);
    assert!(contains_pattern(
        &json!({"coding": [{"system": "a", "code": "b", "display": "c"}]}),
        &json!({"coding": [{"system": "a", "code": "b"}]})
    ));
    assert!(!contains_pattern(
        &json!({"coding": [{"system": "a", "code": "x"}]}),
        &json!({"coding": [{"code": "b"}]})
    ));
}

#[test]
fn a_profile_without_elements_is_unusable_not_a_panic() {
    let mut definitions = Definitions::clone(&Definitions::core().unwrap());
    definitions
        .add(json!({
            "resourceType": "StructureDefinition", "url": "https://example.org/sd/empty",
            "type": "Patient", "derivation": "constraint", "snapshot": {"element": []}
        }))
        .unwrap();
    let issues = Validator::new(Arc::new(definitions)).validate(
        &json!({"resourceType": "Patient"}),
        "https://example.org/sd/empty",
    );
    assert!(
        issues
            .iter()
            .any(|i| i.rule == "profile" && i.message.contains("no snapshot elements")),
        "{issues:?}"
    );
}
