Feature: Writes: idempotent retries and Prefer
  Only with --allow-writes. A create retried with the same X-Request-ID must not make a second
  resource; creates honour Prefer and say where the new resource is.

  @REQ-API-HDR-004 @writes
  Scenario: Retrying a create with the same X-Request-ID creates nothing new
    Given the target offers creates
    And a new test resource to create
    When the request is sent twice with the same X-Request-ID
    Then the retry did not create a second resource

  @REQ-API-HDR-008 @writes
  Scenario: A create with Prefer return=minimal answers 201 with a Location and no body
    Given the target offers creates
    And a new test resource to create
    And the request header "Prefer" is "return=minimal"
    When the request is sent
    Then the status is 201
    And the Location header names the created resource
    And the body is empty

  @REQ-API-HDR-008 @writes
  Scenario: A create with Prefer return=representation answers with the resource
    Given the target offers creates
    And a new test resource to create
    And the request header "Prefer" is "return=representation"
    When the request is sent
    Then the status is 201
    And the Location header names the created resource
    And the body is the created resource

  @REQ-IOP-FHIR-009 @writes
  Scenario: A conditional create whose condition matches creates nothing new
    Given the target offers creates
    And a new test resource to create only if none with its test identifier exists
    When the request is sent twice, each time with its own X-Request-ID
    Then the second create made nothing new

  @REQ-IOP-FHIR-010 @writes
  Scenario: What is created is read back as it was written
    Given the target offers creates
    And a new test resource to create
    When the request is sent
    And the created resource is read back
    Then the read holds every element that was written

  @REQ-IOP-FHIR-010 @writes @serial
  Scenario: What is updated is read back as it was written
    Given the target offers updates
    And a resource to update
    And an update of that resource
    And the request header "If-Match" is the current ETag, where it has one
    When the request is sent
    And the updated resource is read back
    Then the read holds every element that was written
