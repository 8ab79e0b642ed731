//! Synthetic test data, shaped like the public PDS sandbox (no real person is described).

use serde_json::{Value, json};

pub const NHS_NUMBER_SYSTEM: &str = crate::fhir::NHS_NUMBER_SYSTEM;
const VERIFICATION_EXTENSION: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
const VERIFICATION_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
const LAST_UPDATED: &str = "2026-11-01T09:00:00+00:00";

/// A stored patient: its NHS number, whether it is restricted, and the resource.
pub struct StoredPatient {
    pub nhs_number: &'static str,
    pub resource: Value,
}

fn identifier(nhs_number: &str) -> Value {
    json!({
        "system": NHS_NUMBER_SYSTEM,
        "value": nhs_number,
        "extension": [{
            "url": VERIFICATION_EXTENSION,
            "valueCodeableConcept": {"coding": [{"system": VERIFICATION_SYSTEM, "code": "01", "display": "Number present and verified"}]}
        }]
    })
}

fn patient(
    nhs_number: &str,
    version: u32,
    restricted: bool,
    family: &str,
    given: &str,
    gender: &str,
    birth_date: &str,
) -> Value {
    let (code, display) = if restricted {
        ("R", "restricted")
    } else {
        ("U", "unrestricted")
    };
    let mut resource = json!({
        "resourceType": "Patient",
        "id": nhs_number,
        "meta": {
            "versionId": version.to_string(),
            "lastUpdated": LAST_UPDATED,
            "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
            "security": [{"system": CONFIDENTIALITY_SYSTEM, "code": code, "display": display}]
        },
        "identifier": [identifier(nhs_number)],
        "name": [{"use": "usual", "family": family, "given": [given], "period": {"start": "2000-01-01"}}],
        "gender": gender,
        "birthDate": birth_date
    });
    if !restricted {
        resource["address"] = json!([{"use": "home", "line": ["1 Example Road", "Exampletown"], "postalCode": "ZZ99 3AZ"}]);
        resource["telecom"] = json!([{"system": "phone", "value": "01632960000", "use": "home"}]);
        resource["generalPractitioner"] = json!([{"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"}}]);
    }
    resource
}

pub fn patients() -> Vec<StoredPatient> {
    vec![
        StoredPatient {
            nhs_number: "9000000009",
            resource: patient(
                "9000000009",
                2,
                false,
                "Smith",
                "Jane",
                "female",
                "2010-10-22",
            ),
        },
        StoredPatient {
            nhs_number: "9000000017",
            resource: patient(
                "9000000017",
                1,
                false,
                "Smith",
                "Peter",
                "male",
                "2008-03-14",
            ),
        },
        StoredPatient {
            nhs_number: "9000000025",
            resource: patient(
                "9000000025",
                2,
                true,
                "Jones",
                "Alex",
                "unknown",
                "1994-07-05",
            ),
        },
        StoredPatient {
            nhs_number: "9000000033",
            resource: json!({"resourceType": "Patient", "id": "9000000033",
            "meta": {"versionId": "1", "lastUpdated": LAST_UPDATED}, "identifier": [identifier("9000000033")]}),
        },
    ]
}

pub fn capability_statement(fhir_version: &str) -> Value {
    json!({
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
        "fhirVersion": fhir_version,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {"cors": true, "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}]},
            "resource": [{
                "type": "Patient",
                "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": "identifier", "type": "token"}]
            }]
        }]
    })
}
