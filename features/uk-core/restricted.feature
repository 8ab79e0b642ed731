Feature: Restricted patients
  A restricted (sensitive) patient is labelled with the v3-Confidentiality code R (or V, very
  restricted) and is returned without anything that reveals where they are: address, telecom, GP practice.

  Background:
    Given the target offers read of "Patient"

  @REQ-IOP-UKC-007
  Scenario: The restricted test patient is flagged and stripped
    Given a GET request to "Patient/{patient:restricted}"
    When the request is sent
    Then the status is 200
    And the patient is flagged restricted and carries no address, telecom or GP
