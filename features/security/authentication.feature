Feature: Authentication and authorisation
  Data endpoints refuse requests without credentials, or with empty, made-up, wrong-scheme or
  tampered tokens, with 401 and no data (GP Connect answers 400/403: the gpc profile accepts
  them); 401s challenge with WWW-Authenticate: Bearer; a token without write rights is refused
  writes with 403; tokens in query strings are not accepted.

  @REQ-SEC-AUTH-001
  Scenario: A read without credentials is refused
    Given a GET request to "Patient/{patient:existing}"
    And the request carries no credentials
    When the request is sent
    Then the request is refused as unauthenticated, with no data

  @REQ-SEC-AUTH-001
  Scenario: A search without credentials is refused
    Given a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}"
    And the request carries no credentials
    When the request is sent
    Then the request is refused as unauthenticated, with no data

  @REQ-SEC-AUTH-002
  Scenario Outline: A read with <credential> is refused
    Given a GET request to "Patient/{patient:existing}"
    And the request carries <credential>
    When the request is sent
    Then the request is refused as unauthenticated, with no data

    Examples:
      | credential                         |
      | an empty bearer token              |
      | a made-up bearer token             |
      | Basic credentials                  |
      | a tampered copy of the access token |

  @REQ-SEC-AUTH-003
  Scenario: A 401 without credentials challenges for a bearer token
    Given a GET request to "Patient/{patient:existing}"
    And the request carries no credentials
    When the request is sent
    Then the refusal challenges with WWW-Authenticate: Bearer

  @REQ-SEC-AUTH-003
  Scenario: A 401 for a bad token says invalid_token
    Given a GET request to "Patient/{patient:existing}"
    And the request carries a made-up bearer token
    When the request is sent
    Then the refusal challenges with WWW-Authenticate: Bearer

  @REQ-SEC-AUTH-004 @writes
  Scenario: A token without write rights cannot write
    Given the target offers writes
    And a write the target takes
    And the request carries the low-privilege token
    When the request is sent
    Then the request is refused as forbidden

  @REQ-SEC-AUTH-006
  Scenario: An access token in the query string is not accepted
    Given a GET request to "Patient/{patient:existing}"
    And the access token is sent as the access_token query parameter instead
    When the request is sent
    Then the request is refused as unauthenticated, with no data
