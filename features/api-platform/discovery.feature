Feature: Discovery, versioning and operations
  The base URL names the FHIR release; the interface is described in a machine-readable way
  (CapabilityStatement and/or OpenAPI); a health endpoint, where offered, leaks nothing.

  @REQ-API-VER-001
  Scenario: The base URL names the FHIR release
    Then the base URL names the FHIR release

  @REQ-API-DOC-001
  Scenario: A machine-readable interface description is published
    Then the server publishes a machine-readable interface description

  @REQ-API-DOC-001
  Scenario: The OpenAPI document, when given, is a valid OpenAPI 3 description
    Then the OpenAPI document is a valid OpenAPI 3 description

  @REQ-API-OPS-001
  Scenario: The health endpoint discloses nothing sensitive
    Then the health endpoint, if there is one, answers without disclosing internals

  @REQ-API-OPS-001
  Scenario: The status endpoint needs an API key
    Then the status endpoint, if there is one, refuses a request without an API key
