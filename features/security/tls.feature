Feature: Transport security
  Patient data only travels over HTTPS; TLS 1.2 is negotiable, SSLv3/TLS 1.0/TLS 1.1 are refused;
  only strong forward-secret cipher suites are accepted; the certificate is trusted, in date,
  names the host and has a strong key. Old protocols and weak suites are probed with hand-built
  ClientHellos (rustls cannot speak them), so no OpenSSL is needed.

  @REQ-SEC-TLS-001
  Scenario: Plain HTTP is refused or redirected to HTTPS
    Then plain HTTP is refused or redirected to HTTPS

  @REQ-SEC-TLS-002
  Scenario: TLS 1.2 can be negotiated
    Then a TLS 1.2 handshake succeeds

  @REQ-SEC-TLS-003
  Scenario Outline: <protocol> is refused
    Then a <protocol> handshake is refused

    Examples:
      | protocol |
      | SSLv3    |
      | TLS 1.0  |
      | TLS 1.1  |

  @REQ-SEC-TLS-004
  Scenario: A strong forward-secret cipher suite is negotiated
    Then a handshake with ECDHE and AES-GCM succeeds

  @REQ-SEC-TLS-004
  Scenario: Weak cipher suites are refused
    Then a TLS 1.2 handshake offering only the weak cipher suites is refused

  @REQ-SEC-TLS-005
  Scenario: The server certificate is valid and strong
    Then the server certificate is trusted, in date, names the host and has a strong key
