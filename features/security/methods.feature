Feature: HTTP methods
  Verbs an endpoint does not declare are refused with 405 and an Allow header (GP Connect
  tolerates 404/400); TRACE is disabled.

  @REQ-SEC-HTTP-001
  Scenario Outline: <method> on /metadata is refused
    Given a <method> request to "metadata"
    When the request is sent
    Then the method is refused as not allowed

    Examples:
      | method |
      | DELETE |
      | PATCH  |
      | PUT    |

  # A DELETE that a server honours destroys the test patient: only with --allow-writes.
  @REQ-SEC-HTTP-001 @writes
  Scenario: DELETE of a patient is refused when not declared
    Given a DELETE request to "Patient/{patient:existing}"
    When the request is sent
    Then the method is refused as not allowed

  @REQ-SEC-HTTP-001
  Scenario: TRACE is disabled
    Given a TRACE request to ""
    When the request is sent
    Then TRACE is disabled
