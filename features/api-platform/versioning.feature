Feature: Versions, concurrency and compression
  Reads carry a weak ETag equal to meta.versionId; updates are guarded by If-Match; gzip is
  offered to clients that accept it. Updates change a resource made for the scenario where the
  target takes creates, else the existing test patient (by PUT of its own record, or by a JSON
  Patch that replaces its gender with itself, as the target declares).

  @REQ-API-HDR-005
  Scenario: A read carries a weak ETag equal to meta.versionId
    Given the target offers read of "Patient"
    And a GET request to "Patient/{patient:existing}"
    When the request is sent
    Then the status is 200
    And the ETag is the weak form of meta.versionId

  @REQ-API-HDR-007
  Scenario: gzip is used when the client accepts it
    Given the target offers read of "Patient"
    And a GET request to "Patient/{patient:existing}"
    And the request header "Accept-Encoding" is "gzip"
    When the request is sent
    Then the response header "Content-Encoding" is "gzip"
    And the body is FHIR JSON

  @REQ-API-HDR-006 @writes @serial
  Scenario: An update with the current ETag succeeds
    Given the target offers updates
    And a resource to update
    And an update of that resource
    And the request header "If-Match" is the current ETag
    When the request is sent
    Then the status is 200

  @REQ-API-HDR-006 @writes @serial
  Scenario: An update with a stale ETag is refused as a version conflict
    Given the target offers updates
    And a resource to update
    And an update of that resource
    And the request header "If-Match" is a stale ETag
    When the request is sent
    Then a stale update is refused as the profile requires
    And the body is an OperationOutcome

  @REQ-API-HDR-006 @writes @serial
  Scenario: An update without If-Match is refused
    Given the target offers updates
    And a resource to update
    And an update of that resource
    When the request is sent
    Then an update without If-Match is refused as the profile requires
