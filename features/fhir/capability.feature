Feature: Capability statement
  A FHIR server describes itself at [base]/metadata (FHIR R4 RESTful API, capabilities
  interaction). UK Core Access makes it mandatory; the NHS API platform profile only
  recommends it, so IOP-FHIR-001 is a SHOULD under --profile apim.

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
