Feature: Spine Secure Proxy headers (GP Connect)
  Under --profile gpc every request carries Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID
  (ASIDs from [gpc] in mts.toml). The provider rejects requests that lack them, that are
  addressed to another ASID, or whose interaction id does not match the call; search Bundles
  carry the trace id.

  @REQ-GPC-SSP-001
  Scenario Outline: A request without <header> is rejected
    Given a GET request to "Patient/{patient:existing}"
    And the request header "<header>" is omitted
    When the request is sent
    Then the status is one of 400, 401, 403
    And the body is an OperationOutcome

    Examples:
      | header            |
      | Ssp-TraceID       |
      | Ssp-From          |
      | Ssp-To            |
      | Ssp-InteractionID |
      | Authorization     |

  @REQ-GPC-SSP-002
  Scenario: A request addressed to another provider's ASID is rejected
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Ssp-To" is "123456789123"
    When the request is sent
    Then the status is one of 400, 403
    And the body is an OperationOutcome

  @REQ-GPC-SSP-003
  Scenario Outline: An interaction id that does not match the call is rejected (<case>)
    Given a GET request to "Patient/{patient:existing}"
    And the request header "Ssp-InteractionID" is "<interaction>"
    When the request is sent
    Then the status is one of 400, 403
    And the body is an OperationOutcome

    Examples:
      | case              | interaction                                                |
      | another endpoint  | urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1 |
      | made-up URN       | urn:nhs:names:services:gpconnect:fhir:rest:read:nothing-9   |

  @REQ-GPC-SSP-004
  Scenario: A search Bundle carries the request's Ssp-TraceID as its id
    Given a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}"
    When the request is sent
    Then the body is a searchset Bundle
    And the Bundle id is the request's Ssp-TraceID
