//! What a CapabilityStatement declares, read into the target model.

use serde_json::Value;

use super::model::{Interaction, ResourceModel, Source, TargetModel};

/// The FHIR extension naming a set of search parameters a search must use together.
const COMBINATION: &str =
    "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination";

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Adds every resource type the statement's server `rest` entry declares.
pub fn add(model: &mut TargetModel, statement: &Value) {
    model.capability_statement = true;
    for format in strings(&statement["format"]) {
        if !model.formats.iter().any(|f| f == format) {
            model.formats.push(format.to_owned());
        }
    }
    let Some(rest) = statement["rest"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["mode"] == "server"))
    else {
        return;
    };
    for interaction in rest["interaction"].as_array().into_iter().flatten() {
        if let Some(code) = interaction["code"].as_str() {
            model.system_interactions.insert(code.to_owned());
        }
    }
    let mut patient_everything = false;
    for operation in rest["operation"].as_array().into_iter().flatten() {
        if let Some(name) = operation["name"].as_str() {
            model
                .system_operations
                .insert(name.trim_start_matches('$').to_owned());
        }
        // Some servers list Patient $everything with the system's operations.
        patient_everything |= operation["definition"]
            .as_str()
            .is_some_and(|d| d.ends_with("/OperationDefinition/Patient-everything"));
    }
    for resource in rest["resource"].as_array().into_iter().flatten() {
        let Some(kind) = resource["type"].as_str() else {
            continue;
        };
        let mut declared = resource_model(resource);
        if kind == "Patient" && patient_everything {
            declared.operations.insert("everything".into());
        }
        model.add(kind, declared, Source::CapabilityStatement);
    }
}

fn resource_model(resource: &Value) -> ResourceModel {
    let mut declared = ResourceModel {
        conditional_create: resource["conditionalCreate"] == true,
        ..ResourceModel::default()
    };
    for interaction in resource["interaction"].as_array().into_iter().flatten() {
        if let Some(known) = interaction["code"]
            .as_str()
            .and_then(Interaction::from_code)
        {
            declared.interactions.insert(known);
        }
    }
    for param in resource["searchParam"].as_array().into_iter().flatten() {
        if let Some(name) = param["name"].as_str() {
            declared.search_params.insert(
                name.to_owned(),
                param["type"].as_str().unwrap_or("").to_owned(),
            );
        }
    }
    for extension in resource["extension"].as_array().into_iter().flatten() {
        if extension["url"] != COMBINATION {
            continue;
        }
        let required: Vec<String> = extension["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["url"] == "required")
            .filter_map(|e| e["valueString"].as_str().map(str::to_owned))
            .collect();
        if !required.is_empty() {
            declared.required_search.push(required);
        }
    }
    declared.base_profile = resource["profile"].as_str().map(str::to_owned);
    declared.profiles = resource["profile"]
        .as_str()
        .into_iter()
        .chain(strings(&resource["supportedProfile"]))
        .map(str::to_owned)
        .collect();
    declared.search_include = strings(&resource["searchInclude"])
        .map(str::to_owned)
        .collect();
    declared.search_revinclude = strings(&resource["searchRevInclude"])
        .map(str::to_owned)
        .collect();
    for operation in resource["operation"].as_array().into_iter().flatten() {
        if let Some(name) = operation["name"].as_str() {
            declared
                .operations
                .insert(name.trim_start_matches('$').to_owned());
        }
    }
    declared
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Offer;
    use serde_json::json;

    #[test]
    fn interactions_parameters_combinations_and_profiles_are_read() {
        let statement = json!({
            "resourceType": "CapabilityStatement",
            "format": ["application/fhir+json"],
            "rest": [{"mode": "server", "operation": [{"name": "$export"},
                       {"name": "patient-everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
                       "interaction": [{"code": "transaction"}], "resource": [
                {"type": "Patient", "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
                 "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "made-up"}],
                 "searchParam": [{"name": "family", "type": "string"}, {"name": "birthdate", "type": "date"}],
                 "extension": [{"url": COMBINATION, "extension": [
                     {"url": "required", "valueString": "family"},
                     {"url": "required", "valueString": "birthdate"}]}],
                 "operation": [{"name": "everything"}], "searchInclude": ["Patient:general-practitioner"]},
                {"type": "Observation", "interaction": [{"code": "create"}], "conditionalCreate": true},
                {"interaction": [{"code": "read"}]}
            ]}]
        });
        let mut model = TargetModel::default();
        add(&mut model, &statement);
        assert!(model.capability_statement);
        assert_eq!(model.formats, ["application/fhir+json"]);
        assert!(model.system_operations.contains("export"));
        assert!(model.system_interactions.contains("transaction"));
        assert!(matches!(
            model.offers_include("Patient"),
            Offer::Declared(_)
        ));
        assert!(matches!(
            model.offers_include("Observation"),
            Offer::NotDeclared(_)
        ));
        assert!(matches!(
            model.offers_system("transaction"),
            Offer::Declared(_)
        ));
        assert!(matches!(
            model.offers_system("batch"),
            Offer::NotDeclared(_)
        ));
        assert!(matches!(
            model.offers_operation("Patient", "everything"),
            Offer::Declared(_)
        ));
        assert!(matches!(
            model.offers_operation("Observation", "everything"),
            Offer::NotDeclared(_)
        ));
        let patient = model.resource("Patient").unwrap();
        assert_eq!(
            patient.interactions.iter().copied().collect::<Vec<_>>(),
            [Interaction::Read, Interaction::SearchType]
        );
        assert_eq!(patient.search_params["birthdate"], "date");
        assert_eq!(patient.required_search, [["family", "birthdate"]]);
        assert!(patient.operations.contains("everything"));
        assert_eq!(patient.profiles.len(), 1);
        assert!(!patient.conditional_create);
        assert!(model.resource("Observation").unwrap().conditional_create);
        assert_eq!(
            model.resources.len(),
            2,
            "an entry without a type is ignored"
        );
    }

    #[test]
    fn patient_everything_listed_with_the_system_operations_belongs_to_patient() {
        let statement = json!({"rest": [{"mode": "server",
            "operation": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
            "resource": [{"type": "Patient", "interaction": [{"code": "read"}]},
                         {"type": "Encounter", "interaction": [{"code": "read"}]}]}]});
        let mut model = TargetModel::default();
        add(&mut model, &statement);
        assert!(matches!(
            model.offers_operation("Patient", "everything"),
            Offer::Declared(_)
        ));
        assert!(matches!(
            model.offers_operation("Encounter", "everything"),
            Offer::NotDeclared(_)
        ));
    }
}
