Feature: X-Request-ID
  On the NHS API platform every request carries a UUID X-Request-ID and every response
  mirrors it, on success and on error alike. Header names are case-insensitive (RFC 9110),
  so the spelling of the name must not matter. Beyond these scenarios the echo is checked on
  every exchange of the run (check api.request-id-echo).

  Background:
    Given the target offers read of "Patient"

  @REQ-API-HDR-001
  Scenario: X-Request-ID is mirrored on a successful read
    Given a GET request to "Patient/{patient:existing}"
    And the request header "X-Request-ID" is a new UUID
    When the request is sent
    Then the status is 200
    And the response header "X-Request-ID" echoes the request header "X-Request-ID"

  @REQ-API-HDR-001
  Scenario: X-Request-ID is mirrored on an error
    Given a GET request to "Patient/{patient:absent}"
    And the request header "X-Request-ID" is a new UUID
    When the request is sent
    Then the status is 404
    And the response header "X-Request-ID" echoes the request header "X-Request-ID"

  @REQ-API-HDR-001
  Scenario Outline: The header name is recognised whatever its case (<name>)
    Given a GET request to "Patient/{patient:existing}"
    And header names are sent exactly as written
    And the request header "<name>" is a new UUID
    When the request is sent
    Then the status is 200
    And the response header "X-Request-ID" echoes the request header "X-Request-ID"

    Examples:
      | name         |
      | x-request-id |
      | X-REQUEST-ID |

  @REQ-API-HDR-002
  Scenario: A request without X-Request-ID is rejected with MISSING_VALUE
    Given a GET request to "Patient/{patient:existing}"
    And the request header "X-Request-ID" is omitted
    When the request is sent
    Then the status is 400
    And the body is an OperationOutcome
    And the OperationOutcome issue code is "required"
    And the OperationOutcome carries the Spine code "MISSING_VALUE"

  @REQ-API-HDR-002
  Scenario: A request whose X-Request-ID is not a UUID is rejected with INVALID_VALUE
    Given a GET request to "Patient/{patient:existing}"
    And the request header "X-Request-ID" is "1234"
    When the request is sent
    Then the status is 400
    And the body is an OperationOutcome
    And the OperationOutcome issue code is "value"
    And the OperationOutcome carries the Spine code "INVALID_VALUE"
