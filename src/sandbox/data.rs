//! Synthetic test data, shaped like the public PDS sandbox (no real person is described).
//! SNOMED CT and dm+d codes are real concept ids with valid check digits.

use serde_json::{Value, json};

use super::Fault;

pub const NHS_NUMBER_SYSTEM: &str = crate::fhir::NHS_NUMBER_SYSTEM;
const VERIFICATION_EXTENSION: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
const VERIFICATION_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
const CONFIDENTIALITY_SYSTEM: &str = crate::fhir::CONFIDENTIALITY_SYSTEM;
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const SNOMED: &str = "http://snomed.info/sct";
const DMD: &str = "https://dmd.nhs.uk";
pub const LAST_UPDATED: &str = "2026-11-01T09:00:00+00:00";

struct Person {
    nhs_number: &'static str,
    version: u32,
    restricted: bool,
    family: &'static str,
    given: &'static str,
    gender: &'static str,
    birth_date: &'static str,
}

const PEOPLE: &[Person] = &[
    Person {
        nhs_number: "9000000009",
        version: 2,
        restricted: false,
        family: "Smith",
        given: "Jane",
        gender: "female",
        birth_date: "2010-10-22",
    },
    Person {
        nhs_number: "9000000017",
        version: 1,
        restricted: false,
        family: "Smith",
        given: "Peter",
        gender: "male",
        birth_date: "2008-03-14",
    },
    Person {
        nhs_number: "9000000025",
        version: 2,
        restricted: true,
        family: "Jones",
        given: "Alex",
        gender: "unknown",
        birth_date: "1994-07-05",
    },
    Person {
        nhs_number: "9000000041",
        version: 3,
        restricted: false,
        family: "Smith",
        given: "Anna",
        gender: "female",
        birth_date: "1975-05-01",
    },
    Person {
        nhs_number: "9000000068",
        version: 1,
        restricted: false,
        family: "Patel",
        given: "Ravi",
        gender: "male",
        birth_date: "1962-11-30",
    },
];

fn has(faults: &[Fault], fault: Fault) -> bool {
    faults.contains(&fault)
}

fn meta(version: u32, profile: &str, faults: &[Fault]) -> Value {
    if has(faults, Fault::NoMeta) {
        // Not an empty meta: FHIR allows no element without a value or children (ele-1), and
        // this fault is about what meta lacks, not about invalid JSON.
        return json!({"tag": [{"system": "https://fhir.example.org/mts-sandbox", "code": "no-meta"}]});
    }
    json!({"versionId": version.to_string(), "lastUpdated": LAST_UPDATED, "profile": [profile]})
}

fn nhs_identifier(nhs_number: &str, faults: &[Fault]) -> Value {
    let value = if has(faults, Fault::BadNhsNumber) {
        let stem = &nhs_number[..9];
        (0..10)
            .map(|d| format!("{stem}{d}"))
            .find(|n| !crate::fhir::nhs_number::is_valid(n))
            .unwrap_or_default()
    } else {
        nhs_number.to_owned()
    };
    let status_system = if has(faults, Fault::BadVerificationStatus) {
        "https://fhir.nhs.uk/CodeSystem/NHSNumberVerificationStatus"
    } else {
        VERIFICATION_SYSTEM
    };
    json!({
        "system": NHS_NUMBER_SYSTEM,
        "value": value,
        "extension": [{
            "url": VERIFICATION_EXTENSION,
            "valueCodeableConcept": {"coding": [{"system": status_system, "code": "01", "display": "Number present and verified"}]}
        }]
    })
}

fn patient(person: &Person, faults: &[Fault]) -> Value {
    let mut resource = json!({
        "resourceType": "Patient",
        "id": person.nhs_number,
        "meta": meta(person.version, "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", faults),
        "identifier": [nhs_identifier(person.nhs_number, faults)],
        "name": [{"use": "usual", "family": person.family, "given": [person.given], "period": {"start": "2000-01-01"}}],
        "gender": if has(faults, Fault::InvalidPatient) { "F" } else { person.gender },
        "birthDate": person.birth_date
    });
    if has(faults, Fault::DuplicateNhsNumberIdentifier) {
        let again = json!({"system": NHS_NUMBER_SYSTEM, "value": person.nhs_number});
        if let Some(list) = resource["identifier"].as_array_mut() {
            list.push(again);
        }
    }
    if !has(faults, Fault::NoMeta) {
        let (code, display) = if person.restricted {
            ("R", "restricted")
        } else {
            ("U", "unrestricted")
        };
        resource["meta"]["security"] =
            json!([{"system": CONFIDENTIALITY_SYSTEM, "code": code, "display": display}]);
    }
    if !person.restricted || has(faults, Fault::RestrictedLeaksAddress) {
        let ods = if has(faults, Fault::BadOdsCode) {
            "y12345"
        } else {
            "Y12345"
        };
        resource["address"] = json!([{"use": "home", "line": ["1 Example Road", "Exampletown"], "postalCode": "ZZ99 3AZ"}]);
        resource["telecom"] = json!([{"system": "phone", "value": "01632960000", "use": "home"}]);
        resource["generalPractitioner"] =
            json!([{"type": "Organization", "identifier": {"system": ODS_SYSTEM, "value": ods}}]);
    }
    if has(faults, Fault::UkCoreSlice) {
        let ethnicity = json!({
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
            "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland", "code": "A", "display": "British, Mixed British"}]}
        });
        resource["extension"] = json!([ethnicity.clone(), ethnicity]);
    }
    if has(faults, Fault::UkCoreBinding) {
        resource["extension"] = json!([{
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex",
            "valueCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender", "code": "X", "display": "Unknown to the value set"}]}
        }]);
    }
    if has(faults, Fault::LegacyIdentifierSystem) && !person.restricted {
        resource["generalPractitioner"][0]["identifier"]["system"] =
            json!("http://fhir.nhs.net/Id/ods-organization-code");
    }
    resource
}

/// Every patient, by NHS number.
pub fn patients(faults: &[Fault]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = PEOPLE
        .iter()
        .map(|p| (p.nhs_number.to_owned(), patient(p, faults)))
        .collect();
    out.push((
        "9000000033".into(),
        json!({"resourceType": "Patient", "id": "9000000033", "meta": meta(1, "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", faults),
            "identifier": [nhs_identifier("9000000033", faults)]}),
    ));
    out
}

fn coding(system: &str, code: &str, display: &str, faults: &[Fault]) -> Value {
    if has(faults, Fault::CodingWithoutDisplay) {
        json!({"system": system, "code": code})
    } else {
        json!({"system": system, "code": code, "display": display})
    }
}

/// Clinical records: allergies and medication statements, by patient NHS number.
/// `resource` with `element` set to `value`: the second record of a type, on another date.
/// When the test patient's second record of each clinical type was last changed: later than
/// the rest, so that a search by `_lastUpdated` tells them apart.
pub const LATER_UPDATED: &str = "2026-11-20T14:30:15.250+00:00";
const UPDATED_LATER: &[&str] = &[
    "allergy-2",
    "medication-3",
    "condition-3",
    "encounter-3",
    "medication-request-3",
    "procedure-3",
];

fn updated_later(mut records: Vec<Value>) -> Vec<Value> {
    for record in &mut records {
        let later = record["id"]
            .as_str()
            .is_some_and(|id| UPDATED_LATER.contains(&id));
        if later && record["meta"]["lastUpdated"].is_string() {
            record["meta"]["lastUpdated"] = json!(LATER_UPDATED);
        }
    }
    records
}

fn dated(mut resource: Value, element: &str, value: Value) -> Value {
    resource[element] = value;
    resource
}

pub fn allergies(faults: &[Fault]) -> Vec<Value> {
    let snomed = if has(faults, Fault::BadSnomedCode) {
        "https://snomed.info/sct"
    } else {
        SNOMED
    };
    let penicillin = if has(faults, Fault::BadSnomedCode) {
        "91936006"
    } else {
        "91936005"
    };
    let subject = |nhs: &str| {
        if has(faults, Fault::DanglingReference) && nhs == "9000000009" {
            json!({"reference": "Patient/9999999999"})
        } else {
            json!({"reference": format!("Patient/{nhs}")})
        }
    };
    let allergy = |id: &str, nhs: &str, code: &str, display: &str| {
        let mut resource = json!({
            "resourceType": "AllergyIntolerance",
            "id": id,
            "meta": meta(1, "https://fhir.hl7.org.uk/StructureDefinition/UKCore-AllergyIntolerance", faults),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active", "display": "Active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed", "display": "Confirmed"}]},
            "code": {"coding": [coding(snomed, code, display, faults)]},
            "patient": subject(nhs),
            "recordedDate": "2024-03-01"
        });
        if has(faults, Fault::UkCoreInvariant) {
            // ait-2: a clinical status SHALL NOT be present when the record is entered in error.
            resource["verificationStatus"]["coding"][0]["code"] = json!("entered-in-error");
            resource["verificationStatus"]["coding"][0]["display"] = json!("Entered in Error");
        }
        resource
    };
    updated_later(vec![
        allergy(
            "allergy-1",
            "9000000009",
            penicillin,
            "Allergy to penicillin",
        ),
        dated(
            allergy("allergy-2", "9000000009", "300916003", "Latex allergy"),
            "recordedDate",
            json!("2025-04-15"),
        ),
        allergy("allergy-3", "9000000017", "227493005", "Cashew nuts"),
    ])
}

pub fn medication_statements(faults: &[Fault]) -> Vec<Value> {
    let paracetamol = if has(faults, Fault::BadDmdCode) {
        "322236008"
    } else {
        "322236009"
    };
    let statement = |id: &str, nhs: &str, system: &str, code: &str, display: &str| {
        let mut resource = json!({
            "resourceType": "MedicationStatement",
            "id": id,
            "meta": meta(1, "https://fhir.hl7.org.uk/StructureDefinition/UKCore-MedicationStatement", faults),
            "status": "active",
            "medicationCodeableConcept": {"coding": [coding(system, code, display, faults)]},
            "subject": {"reference": format!("Patient/{nhs}")},
            "effectivePeriod": {"start": "2025-01-01"}
        });
        if has(faults, Fault::UkCoreCardinality) {
            // UK Core requires identifier.system wherever an identifier is given.
            resource["identifier"] = json!([{"value": format!("{id}-local")}]);
        }
        resource
    };
    updated_later(vec![
        statement(
            "medication-1",
            "9000000009",
            DMD,
            paracetamol,
            "Paracetamol 500mg tablets",
        ),
        dated(
            dated(
                statement(
                    "medication-3",
                    "9000000009",
                    DMD,
                    paracetamol,
                    "Paracetamol 500mg tablets",
                ),
                "effectivePeriod",
                json!({"start": "2024-06-01", "end": "2024-06-14"}),
            ),
            "status",
            json!("completed"),
        ),
        statement(
            "medication-2",
            "9000000017",
            SNOMED,
            "39720311000001101",
            "Paracetamol 500mg tablets (A A H Pharmaceuticals Ltd)",
        ),
    ])
}

/// More of the clinical record, searchable by patient (`subject`): two each of Condition,
/// Encounter, Procedure and MedicationRequest for the test patient with records (so a search by
/// patient can be paged), and one of each for another patient, so that a search by patient shows whether the server filters. Each is valid
/// against its UK Core profile.
pub const CLINICAL_TYPES: &[&str] = &["Condition", "Encounter", "MedicationRequest", "Procedure"];
/// The date search parameter of each of `CLINICAL_TYPES`, in the same order.
pub const CLINICAL_DATE_PARAMETERS: &[&str] = &["recorded-date", "date", "authoredon", "date"];

/// Encounter types (SNOMED CT), so that a search by type tells the test patient's visits apart.
const CHECK_UP: (&str, &str) = ("185349003", "Encounter for check up");
const CONSULTATION: (&str, &str) = ("11429006", "Consultation");

pub fn clinical_records(faults: &[Fault]) -> Vec<(&'static str, Vec<Value>)> {
    let profile = |kind: &str| format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}");
    let subject = |nhs: &str| json!({"reference": format!("Patient/{nhs}")});
    let condition = |id: &str, nhs: &str, code: &str, display: &str| {
        json!({
            "resourceType": "Condition",
            "id": id,
            "meta": meta(1, &profile("Condition"), faults),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active", "display": "Active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed", "display": "Confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item", "display": "Problem List Item"}]}],
            "code": {"coding": [coding(SNOMED, code, display, faults)]},
            "subject": subject(nhs),
            "recordedDate": "2024-05-01"
        })
    };
    let encounter = |id: &str, nhs: &str, start: &str, kind: (&str, &str)| {
        json!({
            "resourceType": "Encounter",
            "id": id,
            "meta": meta(1, &profile("Encounter"), faults),
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "type": [{"coding": [coding(SNOMED, kind.0, kind.1, faults)]}],
            "subject": subject(nhs),
            "period": {"start": format!("{start}T10:00:00+00:00"), "end": format!("{start}T10:20:00+00:00")}
        })
    };
    let procedure = |id: &str, nhs: &str, code: &str, display: &str| {
        json!({
            "resourceType": "Procedure",
            "id": id,
            "meta": meta(1, &profile("Procedure"), faults),
            "status": "completed",
            "code": {"coding": [coding(SNOMED, code, display, faults)]},
            "subject": subject(nhs),
            "performedDateTime": "2019-08-14"
        })
    };
    let request = |id: &str, nhs: &str| {
        json!({
            "resourceType": "MedicationRequest",
            "id": id,
            "meta": meta(1, &profile("MedicationRequest"), faults),
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [coding(DMD, "322236009", "Paracetamol 500mg tablets", faults)]},
            "subject": subject(nhs),
            "authoredOn": "2025-01-01",
            "dosageInstruction": [{"text": "One or two tablets up to four times a day"}],
            "substitution": {"allowedBoolean": true}
        })
    };
    vec![
        (
            "Condition",
            vec![
                condition("condition-1", "9000000009", "195967001", "Asthma"),
                dated(
                    condition(
                        "condition-3",
                        "9000000009",
                        "38341003",
                        "Hypertensive disorder",
                    ),
                    "recordedDate",
                    json!("2025-06-20"),
                ),
                condition(
                    "condition-2",
                    "9000000017",
                    "38341003",
                    "Hypertensive disorder",
                ),
            ],
        ),
        (
            "Encounter",
            vec![
                encounter("encounter-1", "9000000009", "2025-02-03", CHECK_UP),
                encounter("encounter-3", "9000000009", "2024-11-12", CONSULTATION),
                encounter("encounter-2", "9000000017", "2025-03-10", CHECK_UP),
            ],
        ),
        (
            "MedicationRequest",
            vec![
                request("medication-request-1", "9000000009"),
                dated(
                    dated(
                        request("medication-request-3", "9000000009"),
                        "authoredOn",
                        json!("2025-09-01"),
                    ),
                    "status",
                    json!("completed"),
                ),
                request("medication-request-2", "9000000017"),
            ],
        ),
        (
            "Procedure",
            vec![
                procedure(
                    "procedure-1",
                    "9000000009",
                    "80146002",
                    "Excision of appendix",
                ),
                procedure("procedure-2", "9000000017", "73761001", "Colonoscopy"),
                dated(
                    procedure("procedure-3", "9000000009", "73761001", "Colonoscopy"),
                    "performedDateTime",
                    json!("2024-02-02"),
                ),
            ],
        ),
    ]
    .into_iter()
    .map(|(kind, records)| (kind, updated_later(records)))
    .collect()
}

pub fn capability_statement(faults: &[Fault]) -> Value {
    let version = if has(faults, Fault::WrongFhirVersion) {
        "3.0.1"
    } else {
        "4.0.1"
    };
    let ukcore = |name: &str| format!("https://fhir.hl7.org.uk/StructureDefinition/UKCore-{name}");
    let search = |name: &str, kind: &str| json!({"name": name, "type": kind});
    let with_tokens = |kind: &str, mut params: Vec<Value>| {
        params.extend(
            super::server::tokens::token_parameters(kind)
                .iter()
                .map(|(name, _)| search(name, "token")),
        );
        params
    };
    // The records that refer to a patient, by the field each names it with.
    let revincludes: Vec<String> = ["AllergyIntolerance:patient", "MedicationStatement:subject"]
        .into_iter()
        .map(str::to_owned)
        .chain(CLINICAL_TYPES.iter().map(|kind| format!("{kind}:subject")))
        .collect();
    let mut resources = vec![
        json!({"type": "Patient", "profile": ukcore("Patient"), "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [search("identifier", "token"), search("family", "string"), search("given", "string"),
                search("gender", "token"), search("birthdate", "date"), search("_id", "token")],
            "operation": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
            "searchRevInclude": revincludes}),
        json!({"type": "AllergyIntolerance", "profile": ukcore("AllergyIntolerance"), "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": with_tokens("AllergyIntolerance", vec![search("patient", "reference"), search("date", "date")]), "searchInclude": ["AllergyIntolerance:patient"]}),
        json!({"type": "MedicationStatement", "profile": ukcore("MedicationStatement"), "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": with_tokens("MedicationStatement", vec![search("patient", "reference"), search("effective", "date")]), "searchInclude": ["MedicationStatement:patient"]}),
        json!({"type": "Observation", "profile": ukcore("Observation"), "interaction": [{"code": "read"}, {"code": "create"}, {"code": "update"}, {"code": "delete"}, {"code": "search-type"}],
            "conditionalCreate": true, "searchParam": [search("identifier", "token")]}),
    ];
    for (kind, date) in CLINICAL_TYPES.iter().zip(CLINICAL_DATE_PARAMETERS) {
        resources.push(json!({"type": kind, "profile": ukcore(kind), "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": with_tokens(kind, vec![search("patient", "reference"), search(date, "date")]), "searchInclude": [format!("{kind}:patient")]}));
    }
    if has(faults, Fault::DeclaredNotImplemented) {
        resources.push(json!({"type": "Immunization", "interaction": [{"code": "search-type"}], "searchParam": [search("patient", "reference")]}));
    }
    if has(faults, Fault::NoUkcoreProfiles) {
        for resource in &mut resources {
            if let Some(map) = resource.as_object_mut() {
                map.remove("profile");
            }
        }
    }
    let mut statement = json!({
        "resourceType": "CapabilityStatement",
        "id": "mts-sandbox",
        "url": "https://example.org/mts/CapabilityStatement/sandbox",
        "version": env!("CARGO_PKG_VERSION"),
        "name": "MtsReferenceSandbox",
        "status": "active",
        "date": "2026-11-21",
        "publisher": "mts",
        "kind": "instance",
        "instantiates": ["https://fhir.hl7.org.uk/CapabilityStatement/UKCore-Access"],
        "software": {"name": "mts reference sandbox", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "NHS API-platform style FHIR R4 reference server for mts"},
        "fhirVersion": version,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {"cors": true, "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}]},
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}]
        }]
    });
    if has(faults, Fault::NoUkcoreProfiles)
        && let Some(map) = statement.as_object_mut()
    {
        map.remove("instantiates");
    }
    statement
}
