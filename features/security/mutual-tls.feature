Feature: Mutual TLS
  Where mutual TLS is the access model (GP Connect behind the Spine Secure Proxy), the endpoint
  serves the client certificate it was configured with and refuses every other: none at all,
  one from a CA it does not trust, an expired one, one issued to another system, and a revoked
  one. A refusal is a failed handshake (alert or closed connection) or 403, 495 or 496 with no
  data. Expired and wrong-name certificates are minted at run time from the CA the target
  trusts for clients (--client-ca-cert/--client-ca-key); the revoked one is supplied.

  @REQ-SEC-TLS-006
  Scenario: The configured client certificate is served
    Then a request with the configured client certificate is served

  @REQ-SEC-TLS-006
  Scenario Outline: A connection with <certificate> is refused
    Then a request with <certificate> is refused

    Examples:
      | certificate                               |
      | no client certificate                     |
      | a client certificate from an untrusted CA |
      | an expired client certificate             |
      | a client certificate for another system   |
      | a revoked client certificate              |
