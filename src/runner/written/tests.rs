use super::*;
use crate::http::testing::{FHIR_JSON, exchange};

const BASE: &str = "http://127.0.0.1:1/FHIR/R4";

fn sent(
    id: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    status: u16,
    headers: &[(&str, &str)],
    answer: &str,
) -> Arc<Exchange> {
    let mut e = exchange(status, headers, answer);
    e.id = ExchangeId(id.into());
    e.request.method = method.into();
    e.request.url = format!("{BASE}/{path}");
    e.request.body = body.map(str::to_owned);
    Arc::new(e)
}

fn observation_body(value: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","status":"final","identifier":[{{"system":"{TEST_IDENTIFIER_SYSTEM}","value":"{value}"}}]}}"#
    )
}

fn scenario(location_line: usize, exchanges: &[&str]) -> ScenarioResult {
    ScenarioResult {
        feature: "features/fhir/write.feature".into(),
        name: "create".into(),
        line: location_line,
        requirements: vec!["IOP-FHIR-008".parse::<RequirementId>().unwrap()],
        verdict: crate::report::Verdict::Pass,
        reason: None,
        reason_kind: None,
        failure: None,
        step: None,
        exchanges: exchanges.iter().map(|i| ExchangeId((*i).into())).collect(),
        duration_ms: 1,
        notes: Vec::new(),
    }
}

#[test]
fn a_create_answered_201_is_listed_from_its_location_without_the_version() {
    let body = observation_body("abc");
    let create = sent(
        "features/fhir/write.feature:7#1",
        "POST",
        "Observation",
        Some(&body),
        201,
        &[
            FHIR_JSON,
            (
                "Location",
                "http://127.0.0.1:1/FHIR/R4/Observation/obs-1/_history/1",
            ),
        ],
        "",
    );
    let scenarios = [scenario(7, &["features/fhir/write.feature:7#1"])];
    let list = written_resources(BASE, &[create], &scenarios);
    assert_eq!(list.len(), 1);
    let item = &list[0];
    assert_eq!(item.reference, "Observation/obs-1");
    assert_eq!(item.action, WriteAction::Created);
    assert_eq!(item.exchange.0, "features/fhir/write.feature:7#1");
    assert_eq!(
        item.scenario.as_deref(),
        Some("features/fhir/write.feature:7")
    );
    assert_eq!(
        item.requirements,
        vec!["IOP-FHIR-008".parse::<RequirementId>().unwrap()]
    );
    assert_eq!(
        item.identifier.as_deref(),
        Some(&*format!("{TEST_IDENTIFIER_SYSTEM}|abc"))
    );
    assert_eq!(item.outcome, CleanupOutcome::Left);
}

#[test]
fn a_create_answered_201_without_a_location_is_listed_from_its_body() {
    let create = sent(
        "x#1",
        "POST",
        "Observation",
        Some(&observation_body("abc")),
        201,
        &[FHIR_JSON],
        r#"{"resourceType":"Observation","id":"42","status":"final"}"#,
    );
    let list = written_resources(BASE, &[create], &[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].reference, "Observation/42");
    assert_eq!(list[0].scenario, None);
}

#[test]
fn a_transaction_response_lists_each_entry_that_was_created() {
    let request = format!(
        r#"{{"resourceType":"Bundle","type":"transaction","entry":[{{"resource":{}}},{{"resource":{}}},{{"resource":{}}}]}}"#,
        observation_body("one"),
        observation_body("two"),
        observation_body("three")
    );
    let answer = r#"{"resourceType":"Bundle","type":"transaction-response","entry":[
        {"response":{"status":"201 Created","location":"Observation/1/_history/1"}},
        {"response":{"status":"200 OK","location":"Observation/2/_history/2"}},
        {"response":{"status":"201","location":"https://x.example/fhir/Condition/9"}}]}"#;
    let bundle = sent("x#1", "POST", "", Some(&request), 200, &[FHIR_JSON], answer);
    let list = written_resources(BASE, &[bundle], &[]);
    let references: Vec<&str> = list.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(references, ["Observation/1", "Condition/9"]);
    assert!(list.iter().all(|r| r.action == WriteAction::Created));
    assert_eq!(
        list[1].identifier.as_deref(),
        Some(&*format!("{TEST_IDENTIFIER_SYSTEM}|three"))
    );
}

#[test]
fn a_refused_create_wrote_nothing() {
    let refused = sent(
        "x#1",
        "POST",
        "Observation",
        Some(&observation_body("abc")),
        400,
        &[FHIR_JSON, ("Location", "Observation/1")],
        r#"{"resourceType":"OperationOutcome","issue":[]}"#,
    );
    assert!(written_resources(BASE, &[refused], &[]).is_empty());
}

#[test]
fn an_update_or_patch_is_listed_as_changed_once() {
    let put = sent(
        "x#1",
        "PUT",
        "Patient/9000000009",
        Some("{}"),
        200,
        &[FHIR_JSON],
        r#"{"resourceType":"Patient","id":"9000000009"}"#,
    );
    let patch = sent(
        "x#2",
        "PATCH",
        "Patient/9000000009",
        Some("[]"),
        200,
        &[],
        "",
    );
    let list = written_resources(BASE, &[put, patch], &[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].reference, "Patient/9000000009");
    assert_eq!(list[0].action, WriteAction::Changed);
    assert_eq!(list[0].outcome, CleanupOutcome::Changed);
    assert_eq!(list[0].exchange.0, "x#1");
}

#[test]
fn a_repeated_create_of_the_same_resource_is_listed_once() {
    let first = sent(
        "x#1",
        "POST",
        "Observation",
        None,
        201,
        &[("Location", "Observation/7")],
        "",
    );
    let ignored = sent(
        "x#2",
        "POST",
        "Observation",
        None,
        200,
        &[FHIR_JSON],
        r#"{"resourceType":"Observation","id":"7"}"#,
    );
    let list = written_resources(BASE, &[first, ignored], &[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].exchange.0, "x#1");
}

#[test]
fn searches_operations_tokens_and_posts_to_the_test_patient_are_not_creates() {
    let search = sent(
        "x#1",
        "POST",
        "Patient/_search",
        Some("family=x"),
        200,
        &[FHIR_JSON],
        r#"{"resourceType":"Bundle","id":"b1","type":"searchset"}"#,
    );
    let operation = sent(
        "x#2",
        "POST",
        "Observation/$validate",
        None,
        200,
        &[FHIR_JSON],
        r#"{"resourceType":"OperationOutcome","id":"o"}"#,
    );
    let mut token = (*sent("oauth#1", "POST", "oauth2/token", None, 200, &[], "{}")).clone();
    token.kind = ExchangeKind::OAuth;
    let patient = sent(
        "x#3",
        "POST",
        "Patient/9000000009",
        Some("{}"),
        201,
        &[("Location", "Patient/9000000009")],
        "",
    );
    let list = written_resources(BASE, &[search, operation, Arc::new(token), patient], &[]);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].action, WriteAction::Changed);
}

#[test]
fn locations_name_type_and_id() {
    for (location, expected) in [
        ("Observation/1", Some("Observation/1")),
        (
            "/FHIR/R4/Observation/a-b.c/_history/3",
            Some("Observation/a-b.c"),
        ),
        ("https://x.example/Observation/1?x=y", Some("Observation/1")),
        ("https://x.example/", None),
        ("Observation", None),
        ("observation/1", None),
    ] {
        assert_eq!(reference_in(location).as_deref(), expected, "{location}");
    }
}

#[test]
fn a_create_answered_200_with_a_record_that_is_not_ours_is_not_listed() {
    // A conditional create that matched the supplier's own record, or a server that answers
    // creates with something else: mts must never list (and so delete) it.
    let theirs = sent(
        "x#1",
        "POST",
        "Observation",
        Some(&observation_body("abc")),
        200,
        &[FHIR_JSON],
        r#"{"resourceType":"Observation","id":"supplier-7","status":"final"}"#,
    );
    let ours = sent(
        "x#2",
        "POST",
        "Observation",
        Some(&observation_body("def")),
        200,
        &[FHIR_JSON],
        &format!(
            r#"{{"resourceType":"Observation","id":"8","identifier":[{{"system":"{TEST_IDENTIFIER_SYSTEM}","value":"def"}}]}}"#
        ),
    );
    let list = written_resources(BASE, &[theirs, ours], &[]);
    let references: Vec<&str> = list.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(references, ["Observation/8"]);
}

#[test]
fn what_a_search_by_test_identifier_finds_is_listed_even_without_its_create_answer() {
    // A transaction refused yet half applied: its Observation is only seen by the read-back.
    let found = sent(
        "x#1",
        "GET",
        &format!("Observation?identifier={TEST_IDENTIFIER_SYSTEM}|abc"),
        None,
        200,
        &[FHIR_JSON],
        &format!(
            r#"{{"resourceType":"Bundle","type":"searchset","entry":[
                {{"resource":{{"resourceType":"Observation","id":"left-1","identifier":[{{"system":"{TEST_IDENTIFIER_SYSTEM}","value":"abc"}}]}}}},
                {{"resource":{{"resourceType":"Observation","id":"supplier-2"}}}}]}}"#
        ),
    );
    let list = written_resources(BASE, &[found], &[]);
    let references: Vec<&str> = list.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(references, ["Observation/left-1"]);
    assert_eq!(list[0].action, WriteAction::Created);
}
