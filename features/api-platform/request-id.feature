Feature: X-Request-ID
  On the NHS API platform every request carries a UUID X-Request-ID and every response
  mirrors it, on success and on error alike.

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
