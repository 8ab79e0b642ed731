//! What a CapabilityStatement declares, and whether it describes an R4 JSON server (IOP-FHIR-002).

use serde_json::Value;

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Everything the statement gets wrong for an R4 JSON server; empty when it is right.
pub fn r4_server_problems(statement: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match text(statement, "/fhirVersion") {
        Some("4.0.1") => {}
        Some(other) => problems.push(format!("fhirVersion is {other}, not 4.0.1 (FHIR R4)")),
        None => problems.push("fhirVersion is missing".into()),
    }
    let formats = formats(statement);
    if !formats
        .iter()
        .any(|f| f.to_ascii_lowercase().contains("json"))
    {
        problems.push(format!(
            "format does not include JSON (declares {})",
            if formats.is_empty() {
                "nothing".into()
            } else {
                formats.join(", ")
            }
        ));
    }
    if text(statement, "/kind") != Some("instance") {
        problems.push(format!(
            "kind is {}, not instance",
            text(statement, "/kind").unwrap_or("missing")
        ));
    }
    if text(statement, "/status") != Some("active") {
        problems.push(format!(
            "status is {}, not active",
            text(statement, "/status").unwrap_or("missing")
        ));
    }
    if server_rest(statement).is_none() {
        problems.push("no rest entry has mode server".into());
    }
    if text(statement, "/software/name").is_none() {
        problems.push("software.name is missing".into());
    }
    if text(statement, "/software/version").is_none() {
        problems.push("software.version is missing".into());
    }
    problems
}

pub fn formats(statement: &Value) -> Vec<&str> {
    statement["format"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether the server declares it can produce XML.
pub fn declares_xml(statement: &Value) -> bool {
    formats(statement)
        .iter()
        .any(|f| f.to_ascii_lowercase().contains("xml"))
}

fn server_rest(statement: &Value) -> Option<&Value> {
    statement["rest"]
        .as_array()?
        .iter()
        .find(|r| r["mode"] == "server")
}

/// The declared resource entry for a type.
pub fn resource<'a>(statement: &'a Value, kind: &str) -> Option<&'a Value> {
    server_rest(statement)?["resource"]
        .as_array()?
        .iter()
        .find(|r| r["type"] == kind)
}

/// Every (type, interaction code) the server declares.
pub fn interactions(statement: &Value) -> Vec<(String, String)> {
    let Some(resources) = server_rest(statement).and_then(|r| r["resource"].as_array()) else {
        return Vec::new();
    };
    resources
        .iter()
        .flat_map(|resource| {
            let kind = resource["type"].as_str().unwrap_or("").to_owned();
            resource["interaction"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |i| {
                    i["code"]
                        .as_str()
                        .map(|code| (kind.clone(), code.to_owned()))
                })
        })
        .collect()
}

pub fn declares(statement: &Value, kind: &str, interaction: &str) -> bool {
    interactions(statement)
        .iter()
        .any(|(k, i)| k == kind && i == interaction)
}

/// Declared search parameters of a type: (name, type).
pub fn search_params(statement: &Value, kind: &str) -> Vec<(String, String)> {
    resource(statement, kind)
        .and_then(|r| r["searchParam"].as_array())
        .map(|params| {
            params
                .iter()
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["type"].as_str().unwrap_or("").to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// IOP-FHIR-004: the UK Core profiles (or UK Core Access) the statement names.
pub fn ukcore_references(statement: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for url in statement["instantiates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if url.starts_with("https://fhir.hl7.org.uk/") {
            found.push(url.to_owned());
        }
    }
    if let Some(resources) = server_rest(statement).and_then(|r| r["resource"].as_array()) {
        for resource in resources {
            let profiles = resource["profile"].as_str().into_iter().chain(
                resource["supportedProfile"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            );
            found.extend(
                profiles
                    .filter(|p| {
                        p.starts_with("https://fhir.hl7.org.uk/StructureDefinition/UKCore-")
                    })
                    .map(str::to_owned),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good() -> Value {
        json!({"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"], "software": {"name": "x", "version": "1"},
            "rest": [{"mode": "server", "resource": [{"type": "Patient", "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
                "interaction": [{"code": "read"}, {"code": "search-type"}], "searchParam": [{"name": "identifier", "type": "token"}]}]}]})
    }

    #[test]
    fn a_complete_statement_has_no_problems() {
        assert_eq!(r4_server_problems(&good()), Vec::<String>::new());
        assert!(declares(&good(), "Patient", "read"));
        assert!(!declares(&good(), "Observation", "read"));
        assert_eq!(
            search_params(&good(), "Patient"),
            [("identifier".to_owned(), "token".to_owned())]
        );
        assert_eq!(ukcore_references(&good()).len(), 1);
        assert!(!declares_xml(&good()));
    }

    #[test]
    fn each_gap_is_named() {
        let mut statement = good();
        statement["fhirVersion"] = json!("3.0.1");
        statement["format"] = json!(["xml"]);
        statement["kind"] = json!("capability");
        statement["status"] = json!("draft");
        statement["rest"] = json!([{"mode": "client"}]);
        statement["software"] = json!({"name": " "});
        let problems = r4_server_problems(&statement);
        assert_eq!(problems.len(), 7, "{problems:#?}");
        assert!(problems[0].contains("3.0.1"));
        assert!(r4_server_problems(&json!({})).len() >= 6);
    }
}
