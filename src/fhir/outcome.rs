//! OperationOutcome and Spine error-code knowledge (catalogue §2.7 and §6.3).

use serde_json::Value;

/// Code systems that carry Spine error codes, across API generations (catalogue §6.3).
pub const SPINE_CODE_SYSTEMS: &[&str] = &[
    "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
    "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode",
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-SpineErrorOrWarningCode",
    "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
    "https://fhir.nhs.uk/ValueSet/spine-error-or-warning-code-1",
    "https://fhir.nhs.uk/spine-error-or-warning-code-1",
];

/// The code system the NHS API platform (PDS and siblings) uses for R4.
pub const APIM_SPINE_SYSTEM: &str = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";

/// HTTP status ↔ Spine code agreement (catalogue §2.7, API-ERR-004).
pub const STATUS_FOR_SPINE_CODE: &[(u16, &[&str])] = &[
    (
        400,
        &[
            "BAD_REQUEST",
            "INVALID_VALUE",
            "MISSING_VALUE",
            "INVALID_NHS_NUMBER",
            "INVALID_RESOURCE_ID",
            "INVALID_SEARCH_DATA",
            "INVALID_IDENTIFIER_SYSTEM",
            "INVALID_IDENTIFIER_VALUE",
            "ADDITIONAL_PROPERTIES",
            "UNSUPPORTED_SERVICE",
            "VALIDATION_ERROR",
            "INVALID_UPDATE",
        ],
    ),
    (401, &["ACCESS_DENIED"]),
    (
        403,
        &[
            "ACCESS_DENIED",
            "NO_PATIENT_CONSENT",
            "NON_AUTHORITATIVE",
            "FORBIDDEN_UPDATE",
            "INVALID_METHOD",
        ],
    ),
    (
        404,
        &[
            "PATIENT_NOT_FOUND",
            "RESOURCE_NOT_FOUND",
            "ORGANISATION_NOT_FOUND",
            "PRACTITIONER_NOT_FOUND",
            "NO_RECORD_FOUND",
            "INVALIDATED_RESOURCE",
        ],
    ),
    (408, &["UNABLE_TO_CALL_SERVICE"]),
    (409, &["RESOURCE_VERSION_MISMATCH", "DUPLICATE_REJECTED"]),
    (412, &["PRECONDITION_FAILED"]),
    (
        422,
        &[
            "INVALID_RESOURCE",
            "INVALID_PARAMETER",
            "REFERENCE_NOT_FOUND",
            "INVALID_NHS_NUMBER",
        ],
    ),
    (429, &["TOO_MANY_REQUESTS"]),
    (500, &["INTERNAL_SERVER_ERROR"]),
    (501, &["NOT_IMPLEMENTED"]),
];

/// A coding found in `issue[].details.coding[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCoding {
    pub issue: usize,
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

pub fn is_operation_outcome(value: &Value) -> bool {
    value.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome")
}

pub fn issues(outcome: &Value) -> &[Value] {
    outcome
        .get("issue")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Every `details.coding` of every issue.
pub fn codings(outcome: &Value) -> Vec<IssueCoding> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    issues(outcome)
        .iter()
        .enumerate()
        .flat_map(|(index, issue)| {
            issue
                .pointer("/details/coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(move |coding| IssueCoding {
                    issue: index,
                    system: text(coding, "system"),
                    code: text(coding, "code"),
                    display: text(coding, "display"),
                })
        })
        .collect()
}

/// The Spine codes an OperationOutcome carries (codings from any Spine code system).
pub fn spine_codes(outcome: &Value) -> Vec<String> {
    codings(outcome)
        .into_iter()
        .filter(|c| {
            c.system
                .as_deref()
                .is_some_and(|s| SPINE_CODE_SYSTEMS.contains(&s))
        })
        .filter_map(|c| c.code)
        .collect()
}

/// The statuses a Spine code is documented for; empty when the code is not in the table.
pub fn statuses_for(code: &str) -> Vec<u16> {
    STATUS_FOR_SPINE_CODE
        .iter()
        .filter(|(_, codes)| codes.contains(&code))
        .map(|(status, _)| *status)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn spine_codes_are_read_from_any_known_system() {
        let outcome = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "value", "details": {"coding": [
                {"system": APIM_SPINE_SYSTEM, "code": "INVALID_VALUE", "display": "Provided value is invalid"}]}},
            {"severity": "error", "code": "value", "details": {"coding": [
                {"system": "https://example.org/other", "code": "X"}]}}
        ]});
        assert!(is_operation_outcome(&outcome));
        assert_eq!(spine_codes(&outcome), ["INVALID_VALUE"]);
        assert_eq!(codings(&outcome).len(), 2);
    }

    #[test]
    fn the_status_table_agrees_with_the_catalogue() {
        assert_eq!(statuses_for("ACCESS_DENIED"), [401, 403]);
        assert_eq!(statuses_for("RESOURCE_NOT_FOUND"), [404]);
        assert!(statuses_for("MADE_UP").is_empty());
    }
}
