Feature: Reading a patient
  A read returns the resource with the requested logical id, valid against the FHIR R4
  schema, with checksum-valid NHS numbers. The test patient comes from [data.patient.existing]
  in mts.toml (default: the PDS sandbox patient 9000000009).

  Background:
    Given the target offers read of "Patient"

  @REQ-IOP-FHIR-007
  Scenario: Reading the test patient returns that patient
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And the body is a FHIR "Patient" resource
    And the resource id is "{patient:existing}"

  @REQ-IOP-FHIR-006
  Scenario: The test patient is valid against the FHIR R4 schema
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And the body is valid against the FHIR R4 schema
