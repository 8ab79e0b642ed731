use super::*;
use crate::http::testing::{FHIR_JSON, exchange};

const BASE: &str = "http://127.0.0.1:1/FHIR/R4";

fn document() -> OpenApi {
    OpenApi::parse(
        r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.nhs.uk/FHIR/R4"}]
paths:
  /Patient/{id}:
    get:
      responses:
        "200":
          description: ok
          headers:
            X-Request-ID: {required: true, schema: {type: string}}
          content:
            application/fhir+json:
              schema: {$ref: "#/components/schemas/Patient"}
        "4XX": {$ref: "#/components/responses/Error"}
components:
  responses:
    Error:
      description: error
      content:
        application/fhir+json:
          schema: {type: object, required: [resourceType, issue]}
  schemas:
    Patient:
      type: object
      required: [resourceType, id]
      properties:
        resourceType: {enum: [Patient]}
        birthDate: {type: string, nullable: true}
"##,
    )
    .unwrap()
}

#[test]
fn a_sound_document_has_no_problems_and_a_broken_one_does() {
    assert_eq!(document().problems(), Vec::<String>::new());
    let broken = OpenApi::parse(r##"{"openapi": "2.0", "info": {}, "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/nope"}}}}}}"##).unwrap();
    let problems = broken.problems();
    assert!(problems.iter().any(|p| p.contains("2.0")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("#/nope")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("info.title")),
        "{problems:?}"
    );
}

#[test]
fn responses_are_held_to_the_document() {
    let doc = document();
    let patient = r#"{"resourceType":"Patient","id":"1","birthDate":null}"#;
    let id = ("x-request-id", "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9");
    assert_eq!(
        doc.judge(&exchange(200, &[FHIR_JSON, id], patient), BASE),
        Some(vec![])
    );
    let missing_header = doc
        .judge(&exchange(200, &[FHIR_JSON], patient), BASE)
        .unwrap();
    assert!(
        missing_header[0].contains("X-Request-ID"),
        "{missing_header:?}"
    );
    let wrong_type = doc
        .judge(
            &exchange(200, &[("content-type", "application/json"), id], patient),
            BASE,
        )
        .unwrap();
    assert!(wrong_type[0].contains("not declared"), "{wrong_type:?}");
    let bad_body = doc
        .judge(
            &exchange(200, &[FHIR_JSON, id], r#"{"resourceType":"Patient"}"#),
            BASE,
        )
        .unwrap();
    assert!(bad_body[0].contains("declared schema"), "{bad_body:?}");
    let undeclared = doc.judge(&exchange(500, &[FHIR_JSON], "{}"), BASE).unwrap();
    assert!(undeclared[0].contains("does not declare"), "{undeclared:?}");
    let error = doc.judge(
        &exchange(
            404,
            &[FHIR_JSON],
            r#"{"resourceType":"OperationOutcome","issue":[]}"#,
        ),
        BASE,
    );
    assert_eq!(
        error,
        Some(vec![]),
        "4XX ranges and $ref responses are followed"
    );
}

#[test]
fn undocumented_operations_are_not_judged() {
    let mut probe = exchange(404, &[FHIR_JSON], "{}");
    probe.request.url = format!("{BASE}/NotAResource/1");
    assert_eq!(document().judge(&probe, BASE), None);
}
