Feature: HTTP methods
  Verbs an endpoint does not declare are refused with 405 and an Allow header (GP Connect
  tolerates 404/400); TRACE is disabled. Methods are probed on paths that exist: /metadata where
  the target serves it, and the existing test patient.

  @REQ-SEC-HTTP-001
  Scenario Outline: <method> on /metadata is refused
    Given the target offers the capabilities interaction
    And a <method> request to "metadata"
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
    Given the target does not offer delete of "Patient"
    And a DELETE request to "Patient/{patient:existing}"
    When the request is sent
    Then the method is refused as not allowed

  # POST to an instance is no FHIR interaction, so a conformant server changes nothing; a lax
  # one might, so it is a write, and its body is the patient's own record: taken, it changes
  # nothing.
  @REQ-SEC-HTTP-001 @writes
  Scenario: POST to the test patient is refused
    Given the target offers read of "Patient"
    And a POST request to "Patient/{patient:existing}"
    And the request header "Content-Type" is "application/fhir+json"
    And the request body is the test patient's record
    When the request is sent
    Then the method is refused as not allowed

  @REQ-SEC-HTTP-001
  Scenario: TRACE is disabled
    Given a TRACE request to ""
    When the request is sent
    Then TRACE is disabled
