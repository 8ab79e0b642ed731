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
