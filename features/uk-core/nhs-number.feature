Feature: NHS numbers
  NHS numbers emitted pass modulus 11 (checked on every exchange by ukcore.nhs-number-checksum);
  checksum-invalid NHS numbers sent by a client are refused with 400, not treated as unknown.

  @REQ-IOP-UKC-002
  Scenario: Every NHS number in the test patient passes modulus 11
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And every NHS number in the body passes modulus 11

  @REQ-IOP-UKC-003
  Scenario: Reading a checksum-invalid NHS number is a 400
    Given a GET request to "Patient/{patient:invalid}"
    When the request is sent
    Then the status is 400
    And the OperationOutcome carries one of the Spine codes "INVALID_NHS_NUMBER, INVALID_RESOURCE_ID, INVALID_IDENTIFIER_VALUE"

  @REQ-IOP-UKC-003
  Scenario: Searching by a checksum-invalid NHS number is a 400
    Given a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:invalid}"
    When the request is sent
    Then the status is 400
    And the OperationOutcome carries one of the Spine codes "INVALID_NHS_NUMBER, INVALID_RESOURCE_ID, INVALID_IDENTIFIER_VALUE"
