//! The FHIR R4 schema's compiled rules agree with its general validator, on the sandbox's
//! resources and others, each mutated at random.

use mts::fhir::schema::FhirSchema;
use serde_json::{Value, json};

/// The compiled rules must give exactly the general validator's issues. Seeds: the
/// sandbox's resources, a few of other shapes, and a Bundle of them all; each mutated at
/// random (a node replaced by a value of another kind, removed, or joined by a stranger).
#[test]
fn compiled_rules_agree_with_the_general_validator() {
    let schema = FhirSchema::embedded().unwrap();
    assert!(
        schema.is_compiled(),
        "the FHIR R4 schema must compile into rules"
    );
    let mut seeds: Vec<Value> = mts::sandbox::data::patients(&[])
        .into_iter()
        .map(|(_, patient)| patient)
        .collect();
    seeds.extend(mts::sandbox::data::allergies(&[]));
    seeds.extend(mts::sandbox::data::medication_statements(&[]));
    seeds.push(mts::sandbox::data::capability_statement(&[]));
    seeds.push(json!({"resourceType": "Observation", "status": "final", "code": {"text": "BP"},
        "valueQuantity": {"value": 1.5, "unit": "mmHg"}, "effectiveDateTime": "2024-02-29T10:00:00Z",
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueInteger": 120}]}));
    seeds.push(json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
        "details": {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode", "code": "INVALID_VALUE"}]}}]}));
    let entries: Vec<Value> = seeds
        .iter()
        .map(|resource| json!({"fullUrl": "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "resource": resource}))
        .collect();
    seeds
        .push(json!({"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": entries}));
    let strangers = [
        json!("text"),
        json!(""),
        json!(" padded "),
        json!("2024-13-01"),
        json!(1.5),
        json!(-3),
        json!(true),
        json!(null),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"bogus": 1}),
        json!("Patient"),
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % bound.max(1) as u64).unwrap_or(0)
    };
    let mut checked = 0;
    let mut invalid = 0;
    for round in 0..600 {
        let mut body = seeds[round % seeds.len()].clone();
        for _ in 0..=random(2) {
            mutate(&mut body, &mut random, &strangers);
        }
        let mut compiled = schema.validate(&body);
        let mut general = schema.validate_with_general_validator(&body);
        compiled.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
        general.sort_by(|a, b| (&a.pointer, &a.message).cmp(&(&b.pointer, &b.message)));
        assert_eq!(compiled, general, "on {body}");
        assert_eq!(schema.is_valid(&body), general.is_empty(), "on {body}");
        checked += 1;
        invalid += usize::from(!general.is_empty());
    }
    // Both verdicts must be well represented, or the comparison proves little.
    assert!(
        invalid > checked / 4 && invalid < checked * 9 / 10,
        "{invalid} of {checked}"
    );
}

/// Replaces, removes or adds one node somewhere in `body`.
fn mutate(body: &mut Value, random: &mut impl FnMut(usize) -> usize, strangers: &[Value]) {
    // Choose the place first, walking a few levels down at random, then change it.
    let mut pointer = String::new();
    let mut here = &*body;
    for _ in 0..random(6) {
        let step = match here {
            Value::Object(map) if !map.is_empty() => map
                .keys()
                .nth(random(map.len()))
                .cloned()
                .unwrap_or_default(),
            Value::Array(items) if !items.is_empty() => random(items.len()).to_string(),
            _ => break,
        };
        let next = format!("{pointer}/{}", step.replace('~', "~0").replace('/', "~1"));
        match body.pointer(&next) {
            Some(value) if !value.is_string() || random(2) == 0 => {
                pointer = next;
                here = value;
            }
            _ => break,
        }
    }
    let stranger = strangers[random(strangers.len())].clone();
    let choice = random(3);
    let Some(here) = body.pointer_mut(&pointer) else {
        return;
    };
    match here {
        Value::Object(map) if !map.is_empty() && choice == 0 => {
            let key = map
                .keys()
                .nth(random(map.len()))
                .cloned()
                .unwrap_or_default();
            map.remove(&key);
        }
        Value::Object(map) if choice == 1 || map.is_empty() => {
            map.insert("bogus".into(), stranger);
        }
        Value::Object(map) => {
            let key = map
                .keys()
                .nth(random(map.len()))
                .cloned()
                .unwrap_or_default();
            map.insert(key, stranger);
        }
        Value::Array(items) if !items.is_empty() => {
            let index = random(items.len());
            items[index] = stranger;
        }
        other => *other = stranger,
    }
}
