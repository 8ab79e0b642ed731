//! GP Connect / Spine Secure Proxy conventions.

/// The GP Connect interaction id for a request: `urn:nhs:names:services:gpconnect:fhir:rest:<verb>:<resource>-1`.
/// `target` is the path relative to the FHIR base (`Patient/9000000009`, `Patient?…`, `metadata`).
pub fn interaction_id(method: &str, target: &str) -> String {
    let path = target.split('?').next().unwrap_or("");
    let path = path
        .rsplit_once("/FHIR/R4/")
        .map_or(path, |(_, rest)| rest)
        .trim_start_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let resource = segments.first().copied().unwrap_or("").to_ascii_lowercase();
    if resource == "metadata" {
        return "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1".into();
    }
    let verb = match (method, segments.len()) {
        ("GET", 1) => "search",
        ("GET", _) => "read",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        _ => "unknown",
    };
    format!("urn:nhs:names:services:gpconnect:fhir:rest:{verb}:{resource}-1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_ids_follow_the_gp_connect_naming() {
        assert_eq!(
            interaction_id("GET", "metadata"),
            "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
        );
        assert_eq!(
            interaction_id("GET", "Patient?identifier=x"),
            "urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1"
        );
        assert_eq!(
            interaction_id("GET", "Patient/9000000009"),
            "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1"
        );
        assert_eq!(
            interaction_id("GET", "http://h/FHIR/R4/Patient/1"),
            "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1"
        );
    }
}
