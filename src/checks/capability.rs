//! What a CapabilityStatement must declare (IOP-FHIR-002).

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
    let formats: Vec<&str> = statement
        .get("format")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !formats
        .iter()
        .any(|f| *f == "json" || f.to_ascii_lowercase().contains("json"))
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
    let modes: Vec<&str> = statement
        .get("rest")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|rest| rest.get("mode").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if !modes.contains(&"server") {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good() -> Value {
        json!({"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"], "software": {"name": "x", "version": "1"}, "rest": [{"mode": "server"}]})
    }

    #[test]
    fn a_complete_statement_has_no_problems() {
        assert_eq!(r4_server_problems(&good()), Vec::<String>::new());
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
