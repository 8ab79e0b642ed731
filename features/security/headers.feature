Feature: Security headers and disclosure
  HSTS, Cache-Control: no-store, nosniff, no version disclosure, matching Content-Types and
  error bodies without internals are checked passively on every exchange of the run (checks
  security.*). This feature adds the CORS preflight probe.

  @REQ-SEC-HDR-006
  Scenario: A CORS preflight from an arbitrary origin is not granted credentialed access
    Then a CORS preflight from another origin is not granted credentialed access
