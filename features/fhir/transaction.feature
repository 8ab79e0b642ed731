Feature: Transactions and batches
  Only with --allow-writes, where the target declares the interaction (or declares nothing). A
  transaction is applied whole or not at all; a batch answers each entry on its own. mts writes
  creates of the type it writes elsewhere, each with a fresh test identifier, and as the entry a
  server must refuse it sends one to a resource type FHIR R4 does not define.

  @REQ-IOP-FHIR-011 @writes
  Scenario: A transaction is applied whole or not at all
    Given the target offers the "transaction" interaction
    And a transaction Bundle of 2 new test resources
    When the request is sent
    Then the server took the "transaction" at all
    And every entry of the Bundle was created, each readable where the answer says
    When a transaction Bundle of a new test resource and an entry the server must refuse is sent
    Then the transaction was refused whole and nothing of it was written

  @REQ-IOP-FHIR-012 @writes
  Scenario: A batch answers each of its entries on its own
    Given the target offers the "batch" interaction
    And a batch Bundle of 1 new test resource
    When the request is sent
    Then the server took the "batch" at all
    And every entry of the Bundle was created, each readable where the answer says
    When a batch Bundle of a new test resource and an entry the server must refuse is sent
    Then the batch answered every entry on its own, the new test resource created
