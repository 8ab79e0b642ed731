//! Rules on FHIR content (UK Core identifiers, terminology, meta, OperationOutcome semantics).
//! Each returns `None` when the body holds nothing the rule is about, else the problems found
//! (empty when the rule is met). Pure functions over JSON: the passive checks call them for
//! every exchange.

use serde_json::Value;

use crate::fhir::outcome::{self, SPINE_CODE_SYSTEMS};
use crate::fhir::terminology::{self, DMD_SYSTEM, SNOMED_SYSTEM};
use crate::fhir::{NHS_NUMBER_SYSTEM, ods, walk};

pub type Judgement = Option<Vec<String>>;

const VERIFICATION_EXTENSION: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
/// Verification status code systems across UK Core releases (catalogue §6.9).
const VERIFICATION_SYSTEMS: &[&str] = &[
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusWales",
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus",
];
const ODS_SYSTEMS: &[&str] = ods::SYSTEMS;
/// National practitioner identifier systems (GP Connect / UK Core).
const PRACTITIONER_SYSTEMS: &[&str] = &[
    "https://fhir.nhs.uk/Id/sds-user-id",
    "https://fhir.nhs.uk/Id/sds-role-profile-id",
    "https://fhir.hl7.org.uk/Id/gmp-number",
    "https://fhir.hl7.org.uk/Id/gmc-number",
    "https://fhir.hl7.org.uk/Id/nmc-number",
    "https://fhir.hl7.org.uk/Id/gphc-number",
    "https://fhir.hl7.org.uk/Id/hcpc-number",
];
/// Codes of the Spine error code systems that mts knows (UK Core SpineErrorOrWarningCode 1.0.0,
/// the NHS API platform and GP Connect tables). A code outside it is reported, not failed.
pub const KNOWN_SPINE_CODES: &[&str] = &[
    "ACCESS_DENIED",
    "ADDITIONAL_PROPERTIES",
    "BAD_REQUEST",
    "DUPLICATE_REJECTED",
    "FAILURE_TO_PROCESS_MESSAGE",
    "FHIR_CONSTRAINT_VIOLATION",
    "FORBIDDEN_UPDATE",
    "INTERNAL_SERVER_ERROR",
    "INVALIDATED_RESOURCE",
    "INVALID_IDENTIFIER_SYSTEM",
    "INVALID_IDENTIFIER_VALUE",
    "INVALID_METHOD",
    "INVALID_NHS_NUMBER",
    "INVALID_PARAMETER",
    "INVALID_PATIENT_DEMOGRAPHICS",
    "INVALID_RESOURCE",
    "INVALID_RESOURCE_ID",
    "INVALID_SEARCH_DATA",
    "INVALID_UPDATE",
    "INVALID_VALUE",
    "MISSING_VALUE",
    "NON_AUTHORITATIVE",
    "NOT_IMPLEMENTED",
    "NO_PATIENT_CONSENT",
    "NO_RECORD_FOUND",
    "ORGANISATION_NOT_FOUND",
    "PATIENT_NOT_FOUND",
    "POLLING_ID_NOT_FOUND",
    "POLLING_MESSAGE_FAILURE",
    "PRACTITIONER_NOT_FOUND",
    "PRECONDITION_FAILED",
    "REFERENCE_NOT_FOUND",
    "RESOURCE_NOT_FOUND",
    "RESOURCE_VERSION_MISMATCH",
    "TOO_FEW_VALUES_SUBMITTED",
    "TOO_MANY_MATCHES",
    "TOO_MANY_REQUESTS",
    "TOO_MANY_VALUES_SUBMITTED",
    "UNABLE_TO_CALL_SERVICE",
    "UNSUPPORTED_SERVICE",
    "UNSUPPORTED_VALUE",
    "VALIDATION_ERROR",
];
const MEDICATION_TYPES: &[&str] = &[
    "Medication",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationDispense",
];
const MEDICATION_ELEMENTS: &[&str] = &["code", "medicationCodeableConcept"];

fn is_ten_digits(value: &str) -> bool {
    value.len() == 10 && value.bytes().all(|b| b.is_ascii_digit())
}

/// IOP-UKC-001: every Patient has at most one NHS number identifier, 10 digits, no spaces.
pub fn nhs_number_identifiers(body: &Value) -> Judgement {
    let patients: Vec<_> = walk::resources(body)
        .into_iter()
        .filter(|(_, r)| r["resourceType"] == "Patient")
        .collect();
    let mut examined = false;
    let mut problems = Vec::new();
    for (path, patient) in patients {
        let numbers: Vec<&Value> = patient["identifier"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter(|i| i["system"] == NHS_NUMBER_SYSTEM)
                    .collect()
            })
            .unwrap_or_default();
        if numbers.is_empty() {
            continue;
        }
        examined = true;
        if numbers.len() > 1 {
            problems.push(format!(
                "{} carries {} NHS number identifiers (at most one is allowed)",
                path.fhirpath(),
                numbers.len()
            ));
        }
        for number in numbers {
            let value = number["value"].as_str().unwrap_or("");
            if !is_ten_digits(value) {
                problems.push(format!(
                    "{}.identifier NHS number `{value}` is not 10 digits with no spaces",
                    path.fhirpath()
                ));
            }
        }
    }
    examined.then_some(problems)
}

/// IOP-UKC-004: the NHS number verification status uses the UK Core extension and code systems.
pub fn verification_status(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for (path, _, _, identifier) in walk::identifiers(body) {
        if identifier["system"] != NHS_NUMBER_SYSTEM {
            continue;
        }
        for (index, extension) in identifier["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let url = extension["url"].as_str().unwrap_or("");
            if !url.to_ascii_lowercase().contains("verificationstatus") {
                continue;
            }
            examined = true;
            let at = format!("{}.extension[{index}]", path.fhirpath());
            if url != VERIFICATION_EXTENSION {
                problems.push(format!("{at} has url {url}, not {VERIFICATION_EXTENSION}"));
            }
            let codings = extension
                .pointer("/valueCodeableConcept/coding")
                .and_then(Value::as_array);
            let Some(codings) = codings.filter(|c| !c.is_empty()) else {
                problems.push(format!("{at} has no valueCodeableConcept.coding"));
                continue;
            };
            for coding in codings {
                let system = coding["system"].as_str().unwrap_or("");
                let code = coding["code"].as_str().unwrap_or("");
                if !VERIFICATION_SYSTEMS.contains(&system) {
                    problems.push(format!("{at} codes the status in {system}, which is not a UK Core verification status system"));
                } else if code.trim().is_empty() {
                    problems.push(format!("{at} has an empty verification status code"));
                }
            }
        }
    }
    examined.then_some(problems)
}

/// IOP-UKC-005: organisations are identified by ODS codes with the ODS naming systems.
pub fn ods_identifiers(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for (path, _, _, identifier) in walk::identifiers(body) {
        let system = identifier["system"].as_str().unwrap_or("");
        let location = path.fhirpath();
        let organisation_reference =
            location.contains(".generalPractitioner") || location.contains(".managingOrganization");
        let is_ods = ODS_SYSTEMS.contains(&system);
        if !is_ods && !organisation_reference {
            continue;
        }
        examined = true;
        // A GP reference may name a practitioner instead of a practice.
        if !is_ods {
            if !PRACTITIONER_SYSTEMS.contains(&system) {
                problems.push(format!("{location} identifies an organisation with system {system}, not an ODS code system"));
            }
            continue;
        }
        let value = identifier["value"].as_str().unwrap_or("");
        if let Some(problem) = ods::code_problem(value) {
            problems.push(format!("{location} {problem}"));
        }
    }
    examined.then_some(problems)
}

/// IOP-UKC-006: no deprecated `http://fhir.nhs.net/` systems; practitioners use national systems.
pub fn identifier_systems(body: &Value) -> Judgement {
    let systems = walk::systems(body);
    if systems.is_empty() {
        return None;
    }
    let mut problems: Vec<String> = systems
        .iter()
        .filter(|(_, s)| s.starts_with("http://fhir.nhs.net/"))
        .map(|(path, s)| format!("{} uses the deprecated DSTU2 system {s}", path.fhirpath()))
        .collect();
    for (path, resource_type, element, identifier) in walk::identifiers(body) {
        let system = identifier["system"].as_str().unwrap_or("");
        let national = system.starts_with("https://fhir.nhs.uk/Id/")
            || system.starts_with("https://fhir.hl7.org.uk/Id/");
        if matches!(resource_type.as_str(), "Practitioner" | "PractitionerRole")
            && element == "identifier"
            && national
            && !PRACTITIONER_SYSTEMS.contains(&system)
            && !ODS_SYSTEMS.contains(&system)
        {
            problems.push(format!(
                "{} uses {system}, which is not a national practitioner identifier system",
                path.fhirpath()
            ));
        }
    }
    Some(problems)
}

/// IOP-TERM-001: SNOMED CT codings use `http://snomed.info/sct` and valid SCTIDs.
pub fn snomed_codings(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for coding in walk::codings(body) {
        let Some(system) = coding.system else {
            continue;
        };
        if terminology::is_misspelled_snomed(system) {
            examined = true;
            problems.push(format!(
                "{} uses system {system}; SNOMED CT is http://snomed.info/sct",
                coding.path.fhirpath()
            ));
            continue;
        }
        if system != SNOMED_SYSTEM {
            continue;
        }
        examined = true;
        let code = coding.code.unwrap_or("");
        if terminology::is_expression(code) {
            continue;
        }
        if let Some(problem) = terminology::sctid_problem(code) {
            problems.push(format!("{}: {problem}", coding.path.fhirpath()));
        }
    }
    examined.then_some(problems)
}

/// IOP-TERM-002: medicines are coded with dm+d (or SNOMED CT) identifiers, not free text.
pub fn medication_codes(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for (path, resource) in walk::resources(body) {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        if !MEDICATION_TYPES.contains(&kind) {
            continue;
        }
        for element in MEDICATION_ELEMENTS {
            let Some(concept) = resource.get(*element).filter(|c| c.is_object()) else {
                continue;
            };
            examined = true;
            let codings: Vec<&Value> = concept["coding"]
                .as_array()
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let coded: Vec<&&Value> = codings
                .iter()
                .filter(|c| matches!(c["system"].as_str(), Some(DMD_SYSTEM | SNOMED_SYSTEM)))
                .collect();
            if coded.is_empty() {
                problems.push(format!(
                    "{}.{element} is not coded with dm+d (only {})",
                    path.fhirpath(),
                    if codings.is_empty() {
                        "free text".to_owned()
                    } else {
                        "other code systems".to_owned()
                    }
                ));
                continue;
            }
            for coding in coded {
                if let Some(problem) =
                    terminology::sctid_problem(coding["code"].as_str().unwrap_or(""))
                {
                    problems.push(format!("{}.{element}: {problem}", path.fhirpath()));
                }
            }
        }
    }
    examined.then_some(problems)
}

/// IOP-TERM-003: SNOMED CT and dm+d codings carry a display (or their concept a text).
pub fn coding_displays(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for coding in walk::codings(body) {
        if !matches!(coding.system, Some(SNOMED_SYSTEM | DMD_SYSTEM)) {
            continue;
        }
        examined = true;
        if coding.display.is_none() && coding.concept_text.is_none() {
            problems.push(format!(
                "{} ({}) has no display and its concept no text",
                coding.path.fhirpath(),
                coding.code.unwrap_or("")
            ));
        }
    }
    examined.then_some(problems)
}

/// IOP-FHIR-008: resources returned carry meta.versionId, meta.lastUpdated and meta.profile.
pub fn resource_meta(body: &Value) -> Judgement {
    let mut examined = false;
    let mut problems = Vec::new();
    for (path, resource) in walk::resources(body) {
        let kind = resource["resourceType"].as_str().unwrap_or("");
        if matches!(
            kind,
            "Bundle" | "OperationOutcome" | "CapabilityStatement" | "Parameters"
        ) {
            continue;
        }
        examined = true;
        let at = path.fhirpath();
        let meta = &resource["meta"];
        if meta["versionId"]
            .as_str()
            .is_none_or(|v| v.trim().is_empty())
        {
            problems.push(format!("{at}.meta.versionId is missing"));
        }
        if meta["lastUpdated"].as_str().is_none() {
            problems.push(format!("{at}.meta.lastUpdated is missing"));
        }
        if meta["profile"].as_array().is_none_or(|p| p.is_empty()) {
            problems.push(format!("{at}.meta.profile names no profile"));
        }
    }
    examined.then_some(problems)
}

/// API-ERR-002: error OperationOutcomes have issues with valid severities and codes, at least
/// one of them an error or fatal.
pub fn outcome_issues(outcome: &Value) -> Vec<String> {
    const SEVERITIES: &[&str] = &["fatal", "error", "warning", "information"];
    let issues = outcome::issues(outcome);
    if issues.is_empty() {
        return vec!["the OperationOutcome has no issue".into()];
    }
    let mut problems = Vec::new();
    for (index, issue) in issues.iter().enumerate() {
        match issue["severity"].as_str() {
            Some(s) if SEVERITIES.contains(&s) => {}
            other => problems.push(format!(
                "issue[{index}].severity is {}",
                other.map_or("missing".into(), |s| format!("`{s}`"))
            )),
        }
        if issue["code"].as_str().is_none_or(|c| c.trim().is_empty()) {
            problems.push(format!("issue[{index}].code is missing"));
        }
    }
    if !issues
        .iter()
        .any(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")))
    {
        problems.push("no issue has severity error or fatal, although the request failed".into());
    }
    problems
}

/// API-ERR-003: a failed request's OperationOutcome carries exactly one Spine error coding per
/// error issue, from an allowed system, with a code and a display. Returns (problems, notes).
pub fn spine_coding(outcome: &Value) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let failing: Vec<(usize, &Value)> = outcome::issues(outcome)
        .iter()
        .enumerate()
        .filter(|(_, i)| !matches!(i["severity"].as_str(), Some("warning" | "information")))
        .collect();
    for (index, issue) in failing {
        let codings = issue
            .pointer("/details/coding")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if codings.len() != 1 {
            problems.push(format!("issue[{index}] has {} details.coding entries; exactly one Spine error code is expected", codings.len()));
            continue;
        }
        let coding = &codings[0];
        let system = coding["system"].as_str().unwrap_or("");
        let code = coding["code"].as_str().unwrap_or("");
        if !SPINE_CODE_SYSTEMS.contains(&system) {
            if system.starts_with("http://fhir.nhs.net/") {
                notes.push(format!("issue[{index}] uses the legacy system {system}"));
            } else {
                problems.push(format!(
                    "issue[{index}] coding system `{system}` is not a Spine error code system"
                ));
            }
        }
        if code.is_empty()
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        {
            problems.push(format!(
                "issue[{index}] code `{code}` is not a Spine error code"
            ));
        } else if !KNOWN_SPINE_CODES.contains(&code) {
            notes.push(format!(
                "issue[{index}] code {code} is not in mts's list of known Spine codes"
            ));
        }
        if coding["display"]
            .as_str()
            .is_none_or(|d| d.trim().is_empty())
        {
            problems.push(format!("issue[{index}] coding has no display"));
        }
    }
    (problems, notes)
}

#[cfg(test)]
mod tests;
