Feature: Rate limiting
  Past its published rate limit an API answers 429 with an OperationOutcome
  (TOO_MANY_REQUESTS), never 5xx or silence, and says when to retry. Only with --allow-load:
  a bounded burst (three times --rate-limit, at most 300 requests), loopback or a consenting
  target only. MTS_LOAD_TOKEN may name a separate application for the probe.

  @REQ-SEC-RATE-001 @load @serial
  Scenario: A burst past the rate limit is throttled with 429s, not server errors
    When a burst of three times the declared rate limit is sent within a second
    Then at least one request is refused with 429 and none fails with a server error

  @REQ-SEC-RATE-002 @load @serial
  Scenario: A 429 says when to retry
    When a burst of three times the declared rate limit is sent within a second
    Then every 429 says when to retry
