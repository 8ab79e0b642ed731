Feature: Hostile and malformed input
  Malformed bodies, unsupported media types, unacceptable formats, oversized payloads and
  injection strings are handled as data: a 4xx OperationOutcome, never a 5xx, never reflected.
  Bodies go to a write the target declares: a create with a body of mts's own, else a patch or
  update of the existing test patient (with its current If-Match). A malformed patch is invalid
  as a whole, so a lax server applies nothing; a malformed update that a lax server takes is
  undone at once (mts puts the record back and says so), and these run alone so no other
  scenario reads the patient meanwhile. Oversized bodies are padded with JSON whitespace, so
  taking one stores what the valid write stores.

  @REQ-SEC-INP-001 @writes @serial
  Scenario Outline: A malformed body is refused with a 4xx OperationOutcome (<sample>)
    Given the target offers writes
    And a write the target takes
    And the request body is the "<sample>" sample
    When the request is sent
    Then the status is one of 400, 422
    And the body is an OperationOutcome

    Examples:
      | sample          |
      | truncated-json  |
      | wrong-shape     |
      | wrong-type      |
      | unknown-content |

  @REQ-SEC-INP-002 @writes
  Scenario Outline: A body in an unsupported media type is refused with 415 (<media>)
    Given the target offers writes
    And a write the target takes
    And the request header "Content-Type" is "<media>"
    When the request is sent
    Then the body's media type is refused as unsupported

    Examples:
      | media           |
      | text/plain      |
      | application/xml |

  @REQ-SEC-INP-002 @writes
  Scenario: A body without a Content-Type is refused with 415
    Given the target offers writes
    And a write the target takes
    And the request header "Content-Type" is omitted
    When the request is sent
    Then the body's media type is refused as unsupported

  @REQ-SEC-INP-003
  Scenario: An unsupported Accept is refused, not answered in another format
    Given the target offers read of "Patient"
    And a GET request to "Patient/{patient:existing}"
    And the request header "Accept" is "application/pdf"
    When the request is sent
    Then the request is refused as not acceptable

  @REQ-SEC-INP-003
  Scenario: An unsupported _format is refused, not answered in another format
    Given the target offers read of "Patient"
    And a GET request to "Patient/{patient:existing}"
    And the query parameter "_format" is "text/turtle"
    When the request is sent
    Then the request is refused as not acceptable

  @REQ-SEC-INP-004 @writes
  Scenario: An oversized payload is refused early
    Given the target offers writes
    And a write the target takes
    And the request body is padded to 4 MiB
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
    Given the target offers search of "Patient" by "identifier"
    And a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}&identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017"
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
