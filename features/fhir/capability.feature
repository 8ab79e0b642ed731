Feature: Capability statement
  A FHIR server describes itself at [base]/metadata (FHIR R4 RESTful API, capabilities
  interaction). UK Core Access makes it mandatory; the NHS API platform profile only
  recommends it, so IOP-FHIR-001 is a SHOULD under --profile apim. What it declares must be
  implemented, and what it does not declare must be refused.

  @REQ-IOP-FHIR-001
  Scenario: The capabilities interaction returns a CapabilityStatement
    Given a GET request to "metadata"
    When the request is sent
    Then the status is 200
    And the body is a FHIR "CapabilityStatement" resource

  @REQ-IOP-FHIR-002
  Scenario: The CapabilityStatement describes an R4 JSON server
    Given the server publishes a CapabilityStatement
    Then the CapabilityStatement describes an R4 JSON server

  @REQ-IOP-FHIR-003
  Scenario: What the CapabilityStatement declares is implemented
    Then every interaction the CapabilityStatement declares is implemented

  @REQ-IOP-FHIR-003
  Scenario: A resource type the CapabilityStatement does not declare is refused
    Then a resource type the CapabilityStatement does not declare is refused

  @REQ-IOP-FHIR-004
  Scenario: The CapabilityStatement names the UK Core profiles it supports
    Then the CapabilityStatement names UK Core profiles
