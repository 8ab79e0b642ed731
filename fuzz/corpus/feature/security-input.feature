Feature: Hostile and malformed input
  Malformed bodies, unsupported media types, unacceptable formats, oversized payloads and
  injection strings are handled as data: a 4xx OperationOutcome, never a 5xx, never reflected.

  @REQ-SEC-INP-001 @writes
  Scenario Outline: A malformed body is refused with a 4xx OperationOutcome (<sample>)
    Given a POST request to "Observation"
    And the request header "Content-Type" is "application/fhir+json"
    And the request body is the "<sample>" sample
    When the request is sent
    Then the status is one of 400, 422
    And the body is an OperationOutcome

    Examples:
      | sample              |
      | truncated-json      |
      | json-array          |
      | wrong-resource-type |
      | unknown-element     |

  @REQ-SEC-INP-002 @writes
  Scenario Outline: A body in an unsupported media type is refused with 415 (<media>)
    Given a POST request to "Observation"
    And the request header "Content-Type" is "<media>"
    And the request body is the "valid-observation" sample
    When the request is sent
    Then the status is 415
    And the body is an OperationOutcome

    Examples:
      | media           |
      | text/plain      |
      | application/xml |

  @REQ-SEC-INP-002 @writes
  Scenario: A body without a Content-Type is refused with 415
    Given a POST request to "Observation"
    And the request body is the "valid-observation" sample
    And the request header "Content-Type" is omitted
    When the request is sent
    Then the status is 415
    And the body is an OperationOutcome

  @REQ-SEC-INP-003
  Scenario: An unsupported Accept is refused, not answered in another format
    Given a GET request to "metadata"
    And the request header "Accept" is "application/pdf"
    When the request is sent
    Then the request is refused as not acceptable

  @REQ-SEC-INP-003
  Scenario: An unsupported _format is refused, not answered in another format
    Given a GET request to "metadata"
    And the query parameter "_format" is "text/turtle"
    When the request is sent
    Then the request is refused as not acceptable

  @REQ-SEC-INP-004 @writes
  Scenario: An oversized payload is refused early
    Given a POST request to "Observation"
    And the request header "Content-Type" is "application/fhir+json"
    And the request body is an oversized Observation of 4 MiB
    When the request is sent
    Then the oversized payload is refused early

  @REQ-SEC-INP-005
  Scenario Outline: A hostile id is handled as data (<case>)
    Given a GET request to "Patient/<id>"
    When the request is sent
    Then the status is a client error, or the searchset is empty

    Examples:
      | case           | id                                 |
      | path traversal | ..%2F..%2F..%2Fetc%2Fpasswd        |
      | SQL injection  | 1'%20OR%20'1'%3D'1                 |

  @REQ-SEC-INP-005
  Scenario: Markup in a search value is handled as data and not reflected
    Given a search for "Patient" with "family=<script>alert(1)</script>"
    When the request is sent
    Then the status is a client error, or the searchset is empty
    And the body does not reflect "<script>" unescaped

  @REQ-SEC-INP-006
  Scenario: Duplicate identifier parameters are rejected or combined with AND
    Given a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}&identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017"
    When the request is sent
    Then duplicate identifiers are rejected or combined with AND

  @REQ-SEC-INP-007
  Scenario Outline: An unknown path is a 404 OperationOutcome (<path>)
    Given a GET request to "<path>"
    When the request is sent
    Then the status is 404
    And the body is an OperationOutcome

    Examples:
      | path       |
      | Metadata   |
      | Patients/1 |
      | Foo/1      |

  @REQ-SEC-INP-007
  Scenario Outline: A malformed logical id is a 400 or 404 OperationOutcome (<case>)
    Given a GET request to "Patient/<id>"
    When the request is sent
    Then the status is one of 400, 404
    And the body is an OperationOutcome

    Examples:
      | case        | id                                                                 |
      | 65 chars    | 12345678901234567890123456789012345678901234567890123456789012345 |
      | NUL byte    | %00                                                                |
      | space       | a%20b                                                              |
