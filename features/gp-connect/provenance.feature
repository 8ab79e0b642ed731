Feature: GP Connect provenance JWT
  Under --profile gpc the bearer token is the consumer's unsigned provenance JWT (alg none,
  empty signature): who asks, from which organisation and system, for which record and why.
  The provider refuses a JWT that is not base64url-encoded, lacks a mandatory claim, does not
  live exactly five minutes, has expired, asks with the wrong scope or reason (400
  BAD_REQUEST), or embeds a resource of the wrong type or invalid content (422
  INVALID_RESOURCE). Each probe changes one thing in an otherwise correct JWT.

  @REQ-SEC-JWT-001
  Scenario Outline: A provenance JWT <defect> is refused
    Given a GET request to "Patient/{patient:existing}"
    And the request carries a provenance JWT <defect>
    When the request is sent
    Then the status is 400
    And the OperationOutcome carries the Spine code "BAD_REQUEST"

    Examples:
      | defect                          |
      | with raw JSON parts             |
      | without iss                     |
      | without sub                     |
      | without aud                     |
      | without exp                     |
      | without iat                     |
      | without reason_for_request      |
      | without requested_record        |
      | without requested_scope         |
      | without requesting_device       |
      | without requesting_organization |
      | without requesting_practitioner |

  @REQ-SEC-JWT-002
  Scenario Outline: A provenance JWT with <defect> is refused
    Given a GET request to "Patient/{patient:existing}"
    And the request carries a provenance JWT with <defect>
    When the request is sent
    Then the status is 400
    And the OperationOutcome carries the Spine code "BAD_REQUEST"

    Examples:
      | defect                     |
      | a lifetime of 299 seconds  |
      | a lifetime of 301 seconds  |
      | a lifetime of -1 seconds   |
      | iat -600 seconds from now  |

  @REQ-SEC-JWT-002
  Scenario Outline: A provenance JWT with <variation> is accepted
    Given a GET request to "Patient/{patient:existing}"
    And the request carries a provenance JWT with <variation>
    When the request is sent
    Then the status is 200

    Examples:
      | variation                  |
      | a lifetime of 300 seconds  |
      | iat 200 seconds from now   |

  @REQ-SEC-JWT-003
  Scenario Outline: A provenance JWT with <defect> is refused
    Given a GET request to "Patient/{patient:existing}"
    And the request carries a provenance JWT with <defect>
    When the request is sent
    Then the status is <status>
    And the OperationOutcome carries the Spine code "<code>"

    Examples:
      | defect                                   | status | code             |
      | a requesting_device that is not a Device | 422    | INVALID_RESOURCE |
      | an invalid requesting_device             | 422    | INVALID_RESOURCE |
      | an organization scope                    | 400    | BAD_REQUEST      |
      | reason_for_request foo                   | 400    | BAD_REQUEST      |
