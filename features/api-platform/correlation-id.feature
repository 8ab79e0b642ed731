Feature: X-Correlation-ID
  A client may send X-Correlation-ID to correlate calls across systems; the API mirrors it
  unchanged and never invents one (NHS API platform, BaRS transactional integrity).

  Background:
    Given the target offers read of "Patient"

  @REQ-API-HDR-003
  Scenario: X-Correlation-ID is mirrored unchanged
    Given a GET request to "Patient/{patient:existing}"
    And the request header "X-Correlation-ID" is "mts-correlation-11111111"
    When the request is sent
    Then the status is 200
    And the response header "X-Correlation-ID" echoes the request header "X-Correlation-ID"

  @REQ-API-HDR-003
  Scenario: No X-Correlation-ID is invented when none was sent
    Given a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And the response header "X-Correlation-ID" is absent
