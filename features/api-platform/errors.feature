Feature: Errors are OperationOutcomes
  Every 4xx and 5xx answer carries a FHIR OperationOutcome as FHIR JSON, and nothing a
  client sends may cause a 5xx. Beyond these scenarios, the rule is checked on every error
  response of the run (check api.error-operation-outcome).

  @REQ-API-ERR-001
  Scenario: A patient that does not exist is reported with an OperationOutcome
    Given a GET request to "Patient/{patient:absent}"
    When the request is sent
    Then the status is 404
    And the body is an OperationOutcome

  @REQ-API-ERR-001
  Scenario: An unknown resource type is a client error with an OperationOutcome
    Given a GET request to "NotAResourceType/1"
    When the request is sent
    Then the status is not a server error
    And the body is an OperationOutcome
