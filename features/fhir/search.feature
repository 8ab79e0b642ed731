Feature: Search
  Searches answer with a searchset Bundle (also when nothing matches), well-formed entries and a
  self link recording the parameters used; NHS number searches are precise; malformed tokens are
  rejected; unknown parameters are rejected or transparently ignored; paging is consistent.
  {search:existing} and {search:nobody} are built from what the target declares: by NHS number
  where it takes identifier searches, else by the demographics it takes (family and birth date,
  or a combination it requires), valued from the existing test patient's own record.

  @REQ-IOP-SRCH-001
  Scenario: A search matching nothing is an empty searchset, not a 404
    Given the target offers search of "Patient"
    And a search for "Patient" with "{search:nobody}"
    When the request is sent
    Then the status is 200
    And the body is a searchset Bundle
    And the searchset has no matches

  @REQ-IOP-SRCH-002
  Scenario: Search entries are well formed and the self link records the query
    Given the target offers search of "Patient"
    And a search for "Patient" with "{search:existing}"
    When the request is sent
    Then the body is a searchset Bundle
    And every search entry has an absolute fullUrl and a search mode
    And the self link lists every search parameter sent

  @REQ-IOP-SRCH-003
  Scenario: A search by NHS number returns exactly that patient
    Given the target offers search of "Patient" by "identifier", which the ukca profile requires
    And a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}"
    When the request is sent
    Then the body is a searchset Bundle
    And the searchset holds only patients with NHS number "{nhs-number:existing}", at least one

  @REQ-IOP-SRCH-004
  Scenario Outline: A malformed identifier token is rejected (<case>)
    Given the target offers search of "Patient" by "identifier"
    And a search for "Patient" with "<query>"
    When the request is sent
    Then the status is one of 400, 422
    And the body is an OperationOutcome

    Examples:
      | case            | query                                                      |
      | no system       | identifier=\|{nhs-number:existing}                          |
      | no value        | identifier=https://fhir.nhs.uk/Id/nhs-number\|              |
      | wrong-case name | Identifier=https://fhir.nhs.uk/Id/nhs-number\|{nhs-number:existing} |

  @REQ-IOP-SRCH-005
  Scenario: An unknown search parameter is rejected or transparently ignored
    Given the target offers search of "Patient"
    And a search for "Patient" with "{search:existing}"
    When the request is sent
    Then the body is a searchset Bundle
    And the same search with the unknown parameter "_mtsUnknownParameter=1" is rejected, or the parameter is ignored transparently

  @REQ-IOP-SRCH-010
  Scenario: With strict handling an unknown search parameter is rejected
    Given the target offers search of "Patient"
    And a search for "Patient" with "{search:existing}"
    When the request is sent
    Then the body is a searchset Bundle
    And the same search with the unknown parameter "_mtsUnknownParameter=1" and strict handling is rejected

  @REQ-IOP-SRCH-006
  Scenario: Paging with _count gives distinct entries and a steady total
    Given the target offers search of "Patient" by "_count"
    And a search for "Patient" with "family={search:family}"
    Then paging through the search with _count=1 yields distinct entries and a steady total

  @REQ-IOP-SRCH-006
  Scenario Outline: Paging a <type> search by patient gives distinct entries and a steady total
    Given the target offers search of "<type>" by "patient"
    And the target offers search of "<type>" by "_count"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And paging through the search with _count=1 yields distinct entries and a steady total

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

  @REQ-IOP-SRCH-009
  Scenario Outline: References in a <type> searchset resolve and entries are not repeated
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And the body is a searchset Bundle
    And the searchset has no duplicate entries
    And every reference in the searchset resolves

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

  @REQ-IOP-SRCH-011
  Scenario Outline: A <type> search by patient returns that patient's records alone
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And the body is a searchset Bundle
    And every match refers to patient "{patient:with-records}"

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

  @REQ-IOP-SRCH-012
  Scenario: A patient's $everything carries that patient's record alone
    Given the target offers the "everything" operation on "Patient"
    And a GET request to "Patient/{patient:with-records}/$everything"
    When the request is sent
    Then the server offered "Patient/$everything" at all
    And the Bundle holds the record of patient "{patient:with-records}" alone

  @REQ-IOP-SRCH-013
  Scenario Outline: A <type> search by patient with a declared _include returns what it names
    Given the target offers _include on "<type>"
    And a search for "<type>" by the patient with records and an _include it declares
    When the request is sent
    Then the server searched "<type>" with the _include at all
    And every resource the _include names is in the searchset

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

  @REQ-IOP-SRCH-014
  Scenario Outline: A <type> search by patient narrowed by a code, category or status holds exactly the matches with it
    Given the target offers search of "<type>" by "patient"
    And a search for "<type>" with "patient=Patient/{patient:with-records}"
    When the request is sent
    Then the server searched "<type>" at all
    And each code, category and status it declares narrows the search to exactly the matches that hold it

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

  @REQ-IOP-SRCH-015
  Scenario Outline: A patient search with a declared _revinclude of <type> brings the patient's records alone
    Given the target offers _revinclude of "<type>" on "Patient"
    And a search for the patient with records that asks for its "<type>" records with _revinclude
    When the request is sent
    Then the server searched "Patient" with the _revinclude of "<type>" at all
    And the searchset holds the patient's "<type>" records and no other patient's

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
