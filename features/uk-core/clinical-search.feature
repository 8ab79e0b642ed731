Feature: UK Core Access searches
  Clinical data providers support search by patient for the clinical resources they declare, and
  date searches, _lastUpdated among them, follow FHIR's prefixes (UK Core Access: clinical data,
  patient search).

  @REQ-IOP-SRCH-007
  Scenario Outline: A <type> search by patient returns only that patient's records
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the body is a searchset Bundle
    And every match refers to patient "{patient:with-records}"

    Examples:
      | type                |
      | AllergyIntolerance  |
      | Immunization        |
      | MedicationStatement |

  @REQ-IOP-SRCH-008
  Scenario: Birth date prefixes narrow a search exactly
    Given the target offers search of "Patient" by "birthdate"
    And the target offers search of "Patient" by "family"
    And a search for "Patient" with "family={search:family}"
    When the request is sent
    And the search is narrowed with "birthdate=ge1970-01&birthdate=le2009-12-31"
    Then the narrowed searchset holds exactly the earlier matches within those dates

  @REQ-IOP-SRCH-008
  Scenario: A malformed date is rejected
    Given the target offers search of "Patient" by "birthdate"
    And a search for "Patient" with "family={search:family}&birthdate=2010-13-45"
    When the request is sent
    Then the status is 400
    And the body is an OperationOutcome

  @REQ-IOP-SRCH-008
  Scenario Outline: A <type> search by patient split by date follows the prefixes
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And the search split at a date its matches hold with ge and lt puts each match where FHIR's prefixes say

    Examples:
      | type                |
      | AllergyIntolerance  |
      | Condition           |
      | DiagnosticReport    |
      | DocumentReference   |
      | Encounter           |
      | Immunization        |
      | MedicationRequest   |
      | MedicationStatement |
      | Observation         |
      | Procedure           |

  @REQ-IOP-SRCH-008
  Scenario Outline: A <type> search by patient split by _lastUpdated follows the prefixes
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And the search split at the instant its latest match was last updated with ge and lt puts each match where FHIR's prefixes say

    Examples:
      | type                |
      | AllergyIntolerance  |
      | Condition           |
      | DiagnosticReport    |
      | DocumentReference   |
      | Encounter           |
      | Immunization        |
      | MedicationRequest   |
      | MedicationStatement |
      | Observation         |
      | Procedure           |
