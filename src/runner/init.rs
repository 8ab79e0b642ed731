//! `mts init`: look at a new target the way a run would (its CapabilityStatement, its OpenAPI
//! document, how it answers a patient it does not hold, the test patients asked for) and say
//! what a configuration for it should hold. Reads only: nothing is written to the target.

use std::sync::Arc;

use serde_json::Value;

use super::{RunContext, RunError, RunOptions};
use crate::catalogue::Profile;
use crate::config::PatientRole;
use crate::fhir::NHS_NUMBER_SYSTEM;
use crate::http::{Exchange, ExchangeId, RequestSpec};
use crate::target::{Source, TargetModel};

/// The Patient-compartment types a patient's records are looked for in.
const CLINICAL_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Procedure",
];

/// The Spine error code system the NHS API platform answers errors with.
const SPINE_CODES: &str = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";

/// A test patient looked for by NHS number.
#[derive(Debug, Clone)]
pub struct PatientFound {
    pub nhs_number: String,
    /// The logical id it reads at, when that is not the NHS number (a UUID-keyed record).
    pub id: Option<String>,
    pub family: Option<String>,
    /// Clinical types with at least one record of the patient.
    pub records: Vec<String>,
}

/// What a survey saw.
#[derive(Debug, Clone)]
pub struct Survey {
    pub target: String,
    pub profile: Profile,
    /// Why that profile.
    pub profile_reason: String,
    pub model: TargetModel,
    /// The OpenAPI document given, or found at `[base]/openapi.json` (then nothing to configure).
    pub openapi_found_at_base: bool,
    pub patients: Vec<PatientFound>,
    /// NHS numbers asked for and not found, with what the target answered.
    pub not_found: Vec<(String, String)>,
    /// The NHS number a run uses as absent, and whether the target holds it after all.
    pub absent: (String, bool),
    /// The target asked for credentials (401/403) that were not given or not accepted.
    pub needs_credentials: Option<String>,
    /// Some clinical type may be searched by patient (declared, or nothing declared).
    pub clinical_record: bool,
}

fn patient_family(patient: &Value) -> Option<String> {
    patient["name"]
        .as_array()?
        .iter()
        .find_map(|n| n["family"].as_str())
        .map(str::to_owned)
}

fn resource(exchange: &Exchange, kind: &str) -> Option<Value> {
    let response = exchange.response.as_ref().filter(|r| r.status == 200)?;
    response
        .body
        .json()
        .filter(|v| v["resourceType"] == kind)
        .map(|v| Value::clone(v))
}

fn denied(exchange: &Exchange) -> Option<String> {
    exchange
        .status()
        .filter(|s| matches!(s, 401 | 403))
        .map(|_| exchange.summary())
}

/// The profile a target looks like, and why: the NHS API platform answers errors with Spine
/// codes; a GP Connect provider names GP Connect in its CapabilityStatement; a server that
/// declares UK Core profiles is a UK Core Access provider; anything else is judged by FHIR's
/// and the NHS's common rules.
fn profile_for(statement: Option<&Value>, error: Option<&Value>) -> (Profile, String) {
    let text = statement.map(Value::to_string).unwrap_or_default();
    if error.is_some_and(|outcome| outcome.to_string().contains(SPINE_CODES)) {
        return (
            Profile::Apim,
            "it answers a patient it does not hold with a Spine error code, as services on the NHS API platform do".into(),
        );
    }
    if text.to_ascii_lowercase().contains("gpconnect") {
        return (
            Profile::Gpc,
            "its CapabilityStatement names GP Connect".into(),
        );
    }
    if text.contains("https://fhir.hl7.org.uk/StructureDefinition/UKCore-") {
        return (
            Profile::Ukca,
            "its CapabilityStatement declares UK Core profiles".into(),
        );
    }
    (
        Profile::All,
        "it shows no sign of the NHS API platform, GP Connect or UK Core, so the rules every profile shares apply".into(),
    )
}

/// Looks the target over. `nhs_numbers` are the test patients to look for (the configured
/// existing patient when empty).
pub async fn survey(options: RunOptions, nhs_numbers: &[String]) -> Result<Survey, RunError> {
    let target = options
        .target
        .url()
        .map(str::to_owned)
        .ok_or_else(|| RunError::Declarations("mts init needs --target URL".into()))?;
    let http = super::doctor::client(&options, &target)?;
    let context = Arc::new(super::doctor::context(&options, &target, http).await?);
    let mut sequence = 0;
    let mut send = |spec: RequestSpec, label: &'static str| {
        sequence += 1;
        let context: Arc<RunContext> = context.clone();
        let id = ExchangeId(format!("init#{sequence}"));
        async move { context.send_as(id, label, spec).await }
    };
    let (model, _) = super::discover::discover(&context, &options.declares, false)
        .await
        .map_err(RunError::Declarations)?;
    let (statement, capability) = context.capability_exchange().await;
    let mut needs_credentials = denied(&capability);

    // How it answers a patient it does not hold: the error model tells the NHS API platform.
    let absent = options.data.patient(PatientRole::Absent).nhs_number.clone();
    let missing = send(
        RequestSpec::get(format!("Patient/{absent}")),
        "init: read a patient the target should not hold",
    )
    .await;
    needs_credentials = needs_credentials.or_else(|| denied(&missing));
    let outcome = missing
        .response
        .as_ref()
        .and_then(|r| r.body.json())
        .filter(|v| v["resourceType"] == "OperationOutcome");
    let absent_held = missing.status() == Some(200);
    let (profile, profile_reason) = profile_for(statement.as_deref(), outcome.map(|o| o.as_ref()));

    let wanted: Vec<String> = if nhs_numbers.is_empty() {
        vec![
            options
                .data
                .patient(PatientRole::Existing)
                .nhs_number
                .clone(),
        ]
    } else {
        nhs_numbers.to_vec()
    };
    // The clinical types a patient's records are looked for in: those searchable by patient,
    // all where nothing is declared.
    let searchable: Vec<&str> = CLINICAL_TYPES
        .iter()
        .copied()
        .filter(|kind| {
            !matches!(
                model.offers_search_by(kind, "patient"),
                crate::target::Offer::NotDeclared(_)
            )
        })
        .collect();
    let mut patients = Vec::new();
    let mut not_found = Vec::new();
    for nhs_number in wanted {
        let read = send(
            RequestSpec::get(format!("Patient/{nhs_number}")),
            "init: read a test patient",
        )
        .await;
        needs_credentials = needs_credentials.or_else(|| denied(&read));
        let (patient, id) = match resource(&read, "Patient") {
            Some(patient) => (Some(patient), None),
            None => {
                // A record keyed by another id: find it by NHS number.
                let mut search = RequestSpec::get("Patient");
                search.query = vec![(
                    "identifier".into(),
                    format!("{NHS_NUMBER_SYSTEM}|{nhs_number}"),
                )];
                let found = send(search, "init: search a test patient by NHS number").await;
                let first = resource(&found, "Bundle").and_then(|bundle| {
                    crate::checks::search::matches(&bundle)
                        .into_iter()
                        .find(|r| r["resourceType"] == "Patient")
                        .cloned()
                });
                let id = first
                    .as_ref()
                    .and_then(|p| p["id"].as_str())
                    .map(str::to_owned);
                (first, id)
            }
        };
        let Some(patient) = patient else {
            not_found.push((nhs_number, read.summary()));
            continue;
        };
        let logical = id.clone().unwrap_or_else(|| nhs_number.clone());
        let mut records = Vec::new();
        for kind in &searchable {
            let mut search = RequestSpec::get(*kind);
            search.query = vec![("patient".into(), format!("Patient/{logical}"))];
            let answer = send(search, "init: look for the patient's records").await;
            let holds = resource(&answer, "Bundle").is_some_and(|bundle| {
                crate::checks::search::matches(&bundle)
                    .iter()
                    .any(|r| r["resourceType"] == *kind)
            });
            if holds {
                records.push((*kind).to_owned());
            }
        }
        patients.push(PatientFound {
            nhs_number,
            id,
            family: patient_family(&patient),
            records,
        });
    }
    let openapi_found_at_base = options.openapi.is_none()
        && model
            .declarations
            .iter()
            .any(|d| d.source == Source::Openapi && d.read);
    Ok(Survey {
        clinical_record: !searchable.is_empty(),
        target,
        profile,
        profile_reason,
        model,
        openapi_found_at_base,
        patients,
        not_found,
        absent: (absent, absent_held),
        needs_credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_profile_follows_what_the_target_shows() {
        let spine = json!({"resourceType": "OperationOutcome", "issue": [{"details": {"coding": [{"system": SPINE_CODES, "code": "RESOURCE_NOT_FOUND"}]}}]});
        assert_eq!(profile_for(None, Some(&spine)).0, Profile::Apim);
        let ukcore = json!({"rest": [{"resource": [{"type": "Patient", "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"}]}]});
        assert_eq!(profile_for(Some(&ukcore), None).0, Profile::Ukca);
        let gpc = json!({"name": "GP Connect", "url": "https://fhir.nhs.uk/STU3/CapabilityStatement/gpconnect-capabilitystatement-1"});
        assert_eq!(profile_for(Some(&gpc), None).0, Profile::Gpc);
        assert_eq!(profile_for(Some(&json!({})), None).0, Profile::All);
    }
}
