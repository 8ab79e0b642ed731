//! Test data derived from what the target declares and from its own records, instead of
//! assumed: a Patient search built from the parameters the target takes and the test patient's
//! own demographics ("family and birthdate required" works with no configuration), and where
//! a write can go.

use serde_json::Value;

use super::model::{Interaction, PatchStyle, TargetModel};
use crate::fhir::NHS_NUMBER_SYSTEM;

/// How to search for a patient on this target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientSearch {
    /// `identifier=https://fhir.nhs.uk/Id/nhs-number|<n>` (UK Core Access's required search, and
    /// what mts does when the target declares nothing).
    Identifier,
    /// These demographic parameters, valued from the patient's own record.
    Demographics(Vec<String>),
}

/// Demographic parameters mts can value from a Patient record, in the order it prefers them.
const DEMOGRAPHICS: &[&str] = &[
    "family",
    "birthdate",
    "given",
    "gender",
    "address-postalcode",
    "address-postcode",
];

/// The search to use for patients: by NHS number where the target takes it (or declares
/// nothing), else by the demographics it declares: a required combination it names, else
/// family and birth date (the minimum the NHS demographics service asks for), else every
/// demographic parameter it takes.
pub fn patient_search(model: &TargetModel) -> PatientSearch {
    let Some(patient) = model
        .resource("Patient")
        .filter(|p| p.offers(Interaction::SearchType))
    else {
        return PatientSearch::Identifier;
    };
    // A declared combination rules: identifier alone only where no combination is required
    // or one of them is identifier alone.
    let identifier_alone = patient.required_search.is_empty()
        || patient
            .required_search
            .iter()
            .any(|c| c.len() == 1 && c[0] == "identifier");
    if patient.offers_param("identifier") && identifier_alone {
        return PatientSearch::Identifier;
    }
    if let Some(combination) = patient
        .required_search
        .iter()
        .find(|c| c.iter().all(|p| DEMOGRAPHICS.contains(&p.as_str())))
    {
        return PatientSearch::Demographics(combination.clone());
    }
    let offered: Vec<String> = DEMOGRAPHICS
        .iter()
        .filter(|p| patient.offers_param(p))
        .map(|p| (*p).to_owned())
        .collect();
    if offered.iter().any(|p| p == "family") && offered.iter().any(|p| p == "birthdate") {
        return PatientSearch::Demographics(vec!["family".into(), "birthdate".into()]);
    }
    if offered.is_empty() {
        PatientSearch::Identifier
    } else {
        PatientSearch::Demographics(offered)
    }
}

/// The query that selects one patient's records of a clinical type: `patient=Patient/<id>`, as
/// the suite's clinical searches send it (the feature files' `patient=Patient/{patient:…}`), or
/// `subject=Patient/<id>` where the target declares that type searchable by subject and not by
/// patient.
pub fn records_of_patient(model: &TargetModel, kind: &str, logical_id: &str) -> (String, String) {
    let subject_only = model.resource(kind).is_some_and(|r| {
        r.offers(Interaction::SearchType) && r.offers_param("subject") && !r.offers_param("patient")
    });
    let param = if subject_only { "subject" } else { "patient" };
    (param.to_owned(), format!("Patient/{logical_id}"))
}

/// A family name no test patient has, for searches that must match nothing.
pub const NOBODY_FAMILY: &str = "Mtsnobodyzq";

/// The query for `search`: for the patient with `record` and `nhs_number`, or (with
/// `nobody`) for no patient at all (the absent NHS number, or a family name nobody has).
pub fn patient_query(
    search: &PatientSearch,
    record: Option<&Value>,
    nhs_number: &str,
    nobody: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    match search {
        PatientSearch::Identifier => Ok(vec![(
            "identifier".into(),
            format!("{NHS_NUMBER_SYSTEM}|{}", nobody.unwrap_or(nhs_number)),
        )]),
        PatientSearch::Demographics(params) => {
            let record = record.ok_or_else(|| {
                "the test patient's record could not be read, so there is nothing to search by"
                    .to_owned()
            })?;
            let mut query = Vec::new();
            for param in params {
                let value = demographic(record, param).ok_or_else(|| {
                    format!(
                        "the test patient's record has no value for the search parameter {param}"
                    )
                })?;
                query.push((param.clone(), value));
            }
            if nobody.is_some() {
                let renamed = query
                    .iter_mut()
                    .find(|(p, _)| p == "family" || p == "given");
                match renamed {
                    Some(pair) => pair.1 = NOBODY_FAMILY.to_owned(),
                    None => return Err(
                        "the target's demographic search has no name parameter to make match nobody"
                            .into(),
                    ),
                }
            }
            Ok(query)
        }
    }
}

/// The name a person is known by: official, else usual, else the first.
fn main_name(record: &Value) -> Option<&Value> {
    let names = record["name"].as_array()?;
    names
        .iter()
        .find(|n| n["use"] == "official")
        .or_else(|| names.iter().find(|n| n["use"] == "usual"))
        .or_else(|| names.first())
}

fn demographic(record: &Value, param: &str) -> Option<String> {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    match param {
        "family" => text(&main_name(record)?["family"]),
        "given" => text(&main_name(record)?["given"][0]),
        "birthdate" => text(&record["birthDate"]),
        "gender" => text(&record["gender"]),
        "address-postalcode" | "address-postcode" => record["address"]
            .as_array()?
            .iter()
            .find_map(|a| text(&a["postalCode"])),
        _ => None,
    }
}

/// Where a write goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteTarget {
    /// `POST [type]` with a built-in body (or the body file given).
    Create { kind: String },
    /// `PATCH Patient/{id}` of the existing test patient, with a change that leaves it as it is.
    PatchPatient(PatchStyle),
    /// `PUT Patient/{id}` of the existing test patient, with its own record.
    UpdatePatient,
}

impl WriteTarget {
    pub fn describe(&self) -> String {
        match self {
            WriteTarget::Create { kind } => format!("create of {kind}"),
            WriteTarget::PatchPatient(_) => "patch of the existing test patient".into(),
            WriteTarget::UpdatePatient => "update of the existing test patient".into(),
        }
    }
}

/// Why no write can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoWrite {
    /// The target declares no write mts can use.
    NotDeclared(String),
    /// It declares a create mts has no body for: the user can give one.
    NoBody(String),
}

impl NoWrite {
    pub fn into_reason(self) -> (crate::verdict::ReasonKind, String) {
        match self {
            NoWrite::NotDeclared(why) => (crate::verdict::ReasonKind::NotDeclared, why),
            NoWrite::NoBody(why) => (crate::verdict::ReasonKind::MissingConfig, why),
        }
    }
}

/// Where writes go: the type configured (`[target.write]`); else a declared creatable type mts
/// has a body for (`built_in`, in order of preference); else a patch or update of the test
/// patient. Where the declarations are not a complete list, a create of the first built-in
/// type.
pub fn write_target(
    model: &TargetModel,
    configured: Option<&str>,
    built_in: &[&str],
) -> Result<WriteTarget, NoWrite> {
    if let Some(kind) = configured {
        return Ok(WriteTarget::Create {
            kind: kind.to_owned(),
        });
    }
    let creatable = model.types_offering(Interaction::Create);
    if let Some(kind) = built_in.iter().find(|k| creatable.contains(k)) {
        return Ok(WriteTarget::Create {
            kind: (*kind).to_owned(),
        });
    }
    if let Some(patient) = model.resource("Patient") {
        if patient.offers(Interaction::Patch) {
            return Ok(WriteTarget::PatchPatient(
                patient.patch.clone().unwrap_or_else(PatchStyle::json_patch),
            ));
        }
        if patient.offers(Interaction::Update) {
            return Ok(WriteTarget::UpdatePatient);
        }
    }
    // Declarations that are not a complete list leave creates open: try mts's first body.
    if !model.is_complete() && creatable.is_empty() {
        return built_in
            .first()
            .map(|kind| WriteTarget::Create {
                kind: (*kind).to_owned(),
            })
            .ok_or_else(|| NoWrite::NoBody("no built-in body".to_owned()));
    }
    match creatable.first() {
        Some(kind) => Err(NoWrite::NoBody(format!(
            "the target offers create of {} only, and mts has no built-in body for it: give one with [target.write] type = \"{kind}\" and body = \"file.json\"",
            creatable.join(", ")
        ))),
        None => Err(NoWrite::NotDeclared(format!(
            "the target declares no create, update or patch mts can use ({})",
            model.read_sources()
        ))),
    }
}

/// The JSON Patch that changes nothing: `replace` of the patient's gender with its own value
/// (a real change request a server must process), else a `test` of its id.
pub fn harmless_patch(record: &Value, style: &PatchStyle) -> Value {
    let operations = match record["gender"].as_str() {
        Some(gender) => serde_json::json!([{"op": "replace", "path": "/gender", "value": gender}]),
        None => serde_json::json!([{"op": "test", "path": "/id", "value": record["id"]}]),
    };
    envelop(operations, style)
}

/// Operations as the target takes them: the array itself, or inside the declared envelope.
pub fn envelop(operations: Value, style: &PatchStyle) -> Value {
    match &style.envelope {
        Some(member) => serde_json::json!({ member.as_str(): operations }),
        None => operations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::model::{ResourceModel, Source};
    use serde_json::json;

    #[test]
    fn records_are_searched_by_patient_unless_only_subject_is_declared() {
        let by = |model: &TargetModel| records_of_patient(model, "Condition", "p1");
        let patient = ("patient".to_owned(), "Patient/p1".to_owned());
        assert_eq!(by(&TargetModel::default()), patient, "nothing declared");
        let both = model_with(
            "Condition",
            &[Interaction::SearchType],
            &["patient", "subject"],
        );
        assert_eq!(by(&both), patient);
        let subject = model_with("Condition", &[Interaction::SearchType], &["subject"]);
        assert_eq!(
            by(&subject),
            ("subject".to_owned(), "Patient/p1".to_owned())
        );
    }

    fn model_with(kind: &str, interactions: &[Interaction], params: &[&str]) -> TargetModel {
        let mut model = TargetModel::default();
        model.add(
            kind,
            ResourceModel {
                interactions: interactions.iter().copied().collect(),
                search_params: params
                    .iter()
                    .map(|p| ((*p).to_owned(), String::new()))
                    .collect(),
                params_complete: true,
                ..ResourceModel::default()
            },
            Source::Openapi,
        );
        model
    }

    fn jane() -> Value {
        json!({"resourceType": "Patient", "id": "9000000009", "gender": "female", "birthDate": "2010-10-22",
            "name": [{"use": "usual", "family": "Smith", "given": ["Jane"]}],
            "address": [{"postalCode": "LS1 6AE"}]})
    }

    #[test]
    fn patients_are_searched_by_nhs_number_when_offered_or_nothing_is_declared() {
        assert_eq!(
            patient_search(&TargetModel::default()),
            PatientSearch::Identifier
        );
        let model = model_with(
            "Patient",
            &[Interaction::SearchType],
            &["identifier", "family"],
        );
        assert_eq!(patient_search(&model), PatientSearch::Identifier);
        let query = patient_query(
            &PatientSearch::Identifier,
            None,
            "9000000009",
            Some("9111231130"),
        )
        .unwrap();
        assert_eq!(
            query,
            [(
                "identifier".into(),
                format!("{NHS_NUMBER_SYSTEM}|9111231130")
            )]
        );
    }

    #[test]
    fn a_pds_style_target_is_searched_by_family_and_birth_date_from_the_record() {
        let model = model_with(
            "Patient",
            &[Interaction::SearchType, Interaction::Read],
            &["family", "given", "gender", "birthdate", "_max-results"],
        );
        let search = patient_search(&model);
        assert_eq!(
            search,
            PatientSearch::Demographics(vec!["family".into(), "birthdate".into()])
        );
        let record = jane();
        assert_eq!(
            patient_query(&search, Some(&record), "9000000009", None).unwrap(),
            [
                ("family".to_owned(), "Smith".to_owned()),
                ("birthdate".to_owned(), "2010-10-22".to_owned())
            ]
        );
        let nobody = patient_query(&search, Some(&record), "9000000009", Some("9111231130"));
        assert_eq!(nobody.unwrap()[0].1, NOBODY_FAMILY);
        let no_birth_date = json!({"name": [{"family": "Smith"}]});
        assert!(
            patient_query(&search, Some(&no_birth_date), "9000000009", None)
                .unwrap_err()
                .contains("birthdate")
        );
    }

    #[test]
    fn a_declared_required_combination_wins() {
        let mut model = model_with(
            "Patient",
            &[Interaction::SearchType],
            &["given", "gender", "address-postalcode"],
        );
        if let Some(patient) = model.resources.get_mut("Patient") {
            patient.required_search = vec![vec!["gender".into(), "address-postalcode".into()]];
        }
        assert_eq!(
            patient_query(&patient_search(&model), Some(&jane()), "9000000009", None).unwrap(),
            [
                ("gender".to_owned(), "female".to_owned()),
                ("address-postalcode".to_owned(), "LS1 6AE".to_owned())
            ]
        );
    }

    #[test]
    fn writes_go_where_the_target_allows_them() {
        let built_in = ["Observation", "AllergyIntolerance"];
        assert_eq!(
            write_target(&TargetModel::default(), None, &built_in),
            Ok(WriteTarget::Create {
                kind: "Observation".into()
            })
        );
        let allergies = model_with("AllergyIntolerance", &[Interaction::Create], &[]);
        assert_eq!(
            write_target(&allergies, None, &built_in),
            Ok(WriteTarget::Create {
                kind: "AllergyIntolerance".into()
            })
        );
        let mut pds = model_with("Patient", &[Interaction::Read, Interaction::Patch], &[]);
        let style = PatchStyle {
            media_type: "application/json-patch+json".into(),
            envelope: Some("patches".into()),
        };
        if let Some(patient) = pds.resources.get_mut("Patient") {
            patient.patch = Some(style.clone());
        }
        assert_eq!(
            write_target(&pds, None, &built_in),
            Ok(WriteTarget::PatchPatient(style.clone()))
        );
        assert_eq!(
            harmless_patch(&jane(), &style),
            json!({"patches": [{"op": "replace", "path": "/gender", "value": "female"}]})
        );
        let read_only = model_with("Patient", &[Interaction::Read], &[]);
        assert!(matches!(
            write_target(&read_only, None, &built_in),
            Err(NoWrite::NotDeclared(why)) if why.contains("declares no create")
        ));
        let devices = model_with("Device", &[Interaction::Create], &[]);
        assert!(matches!(
            write_target(&devices, None, &built_in),
            Err(NoWrite::NoBody(why)) if why.contains("[target.write]")
        ));
    }
}
