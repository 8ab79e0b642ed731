Feature: NHS numbers
  NHS numbers emitted pass modulus 11 (checked on every exchange by ukcore.nhs-number-checksum);
  checksum-invalid NHS numbers sent by a client are refused with 400, not treated as unknown.
  A patient asked for by its NHS number owes that NHS number, under the national system.

  Background:
    Given the target offers read of "Patient"

  @REQ-IOP-UKC-001
  Scenario: The test patient carries its NHS number under the national system
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And the patient carries the NHS number "{nhs-number:existing}" under the national system

  @REQ-IOP-UKC-002
  Scenario: Every NHS number in the test patient passes modulus 11
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And every NHS number in the body passes modulus 11

  @REQ-IOP-UKC-003
  Scenario: Reading a checksum-invalid NHS number is a 400
    Given the target reads patients by NHS number
    And a GET request to "Patient/{patient:invalid}"
    When the request is sent
    Then the status is 400
    And the body is an OperationOutcome

  @REQ-IOP-UKC-003
  Scenario: Searching by a checksum-invalid NHS number is a 400
    Given the target offers search of "Patient" by "identifier"
    And a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:invalid}"
    When the request is sent
    Then the status is 400
    And the body is an OperationOutcome
