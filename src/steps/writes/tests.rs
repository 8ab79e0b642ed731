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

#[test]
fn what_was_written_is_compared_element_by_element() {
    let sent = json!({"status": "final", "valueQuantity": {"value": 72, "unit": "kg"},
        "identifier": [{"system": "s", "value": "v"}]});
    let check = |read: Value| {
        let mut out = Vec::new();
        for (key, value) in sent.as_object().unwrap() {
            differences(key, value, &read[key], &mut out);
        }
        out
    };
    let same = json!({"status": "final", "valueQuantity": {"value": 72.0, "unit": "kg", "code": "kg"},
        "identifier": [{"system": "s", "value": "v"}, {"system": "t", "value": "w"}], "text": {}});
    assert!(
        check(same).is_empty(),
        "additions and 72.0 for 72 are not losses"
    );
    let lossy = json!({"status": "amended", "valueQuantity": {"unit": "kg"}, "identifier": []});
    assert_eq!(
        check(lossy),
        [
            r#"identifier sent [{"system":"s","value":"v"}], read []"#,
            "status sent \"final\", read \"amended\"",
            "valueQuantity.value missing"
        ]
    );
}
