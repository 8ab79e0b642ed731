Feature: OAuth2 token endpoint (signed JWT client assertions)
  Where the supplier runs its own token endpoint on the NHS API platform pattern
  (private_key_jwt), it refuses assertions that are unsigned, HMAC-signed, badly signed, missing
  kid or jti, for another audience, with iss different from sub, replayed, expired, or expiring
  more than five minutes ahead. Not applicable without [auth] kind = "client-credentials".

  @REQ-SEC-JWT-004
  Scenario: A valid client assertion gets a bearer token
    When a client assertion with no defect is sent to the token endpoint
    Then the token endpoint issues a bearer token

  @REQ-SEC-JWT-004
  Scenario Outline: A client assertion with <defect> is refused
    When a client assertion with <defect> is sent to the token endpoint
    Then the token endpoint refuses it

    Examples:
      | defect                 |
      | alg none               |
      | alg HS256              |
      | a bad signature        |
      | no kid                 |
      | an unknown kid         |
      | iss different from sub |
      | the wrong audience     |
      | no jti                 |
      | exp six minutes ahead  |
      | exp in the past        |

  @REQ-SEC-JWT-004
  Scenario: A replayed jti is refused
    When a valid client assertion is sent twice with the same jti
    Then the token endpoint refuses it
