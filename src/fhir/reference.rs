//! Literal references and locations: `Observation/123` from `Observation/123`,
//! `https://host/fhir/Observation/123/_history/2` or a Location header.

/// A FHIR resource type name (`Observation`), not an operation, a search or a path segment.
pub fn is_type_name(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && text.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A FHIR id: 1 to 64 of `[A-Za-z0-9-.]`.
pub fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// `Type/id` of a literal reference or location (relative or absolute, with or without
/// `_history`, query or fragment); `None` for a contained (`#…`), `urn:` or other reference.
pub fn type_and_id(reference: &str) -> Option<String> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let path = reference.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let end = segments
        .iter()
        .position(|s| *s == "_history")
        .unwrap_or(segments.len());
    match segments[..end] {
        [.., kind, id] if is_type_name(kind) && is_id(id) => Some(format!("{kind}/{id}")),
        _ => None,
    }
}

/// Whether `reference` names a resource on the server at `base`: relative, or absolute under
/// `base` (an absolute reference to another server is not this server's to hold).
pub fn is_local(reference: &str, base: &str) -> bool {
    let absolute = reference.starts_with("http://") || reference.starts_with("https://");
    !absolute || reference.starts_with(&format!("{}/", base.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_reduce_to_type_and_id() {
        assert_eq!(type_and_id("Patient/1").as_deref(), Some("Patient/1"));
        assert_eq!(
            type_and_id("https://x.org/fhir/Observation/obs-1/_history/2").as_deref(),
            Some("Observation/obs-1")
        );
        assert_eq!(
            type_and_id("/fhir/R4/Observation/7?_format=json").as_deref(),
            Some("Observation/7")
        );
        assert_eq!(type_and_id("#contained"), None);
        assert_eq!(type_and_id("urn:uuid:1234"), None);
        assert_eq!(type_and_id("Observation"), None);
    }

    #[test]
    fn only_this_server_s_references_are_local() {
        let base = "https://api.example/FHIR/R4";
        assert!(is_local("Patient/1", base));
        assert!(is_local("https://api.example/FHIR/R4/Patient/1", base));
        assert!(!is_local(
            "https://api.service.nhs.uk/personal-demographics/FHIR/R4/Patient/9000000009",
            base
        ));
        assert!(!is_local("https://api.example/FHIR/R4x/Patient/1", base));
    }
}
