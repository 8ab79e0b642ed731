Feature: Format negotiation
  JSON is served by default and for the generic JSON mime type; the _format parameter overrides
  Accept; a format the server does not produce is refused with 406 (GP Connect: 415), never
  answered in another format.

  Background:
    Given the target offers read of "Patient"

  @REQ-IOP-FHIR-005
  Scenario: Without Accept the answer is FHIR JSON
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Accept" is omitted
    When the request is sent
    Then the body is FHIR JSON

  @REQ-IOP-FHIR-005
  Scenario Outline: Accept <accept> gives FHIR JSON
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Accept" is "<accept>"
    When the request is sent
    Then the body is FHIR JSON

    Examples:
      | accept                |
      | application/fhir+json |
      | application/json      |

  @REQ-IOP-FHIR-005
  Scenario: _format=json overrides an Accept header asking for XML
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Accept" is "application/fhir+xml"
    And the query parameter "_format" is "json"
    When the request is sent
    Then the body is FHIR JSON

  @REQ-IOP-FHIR-005
  Scenario: Asking for XML gives XML, or 406 when XML is not served
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Accept" is "application/fhir+xml"
    When the request is sent
    Then the body is FHIR XML, or the request is refused as not acceptable
