//! Search and Bundle conventions (FHIR R4 search, catalogue §2.10).

use serde_json::Value;

pub const SEARCH_MODES: &[&str] = &["match", "include", "outcome"];

/// Problems with a searchset's shape; empty when it is one.
pub fn searchset_problems(bundle: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if bundle["resourceType"] != "Bundle" {
        problems.push(format!(
            "the body is a {}, not a Bundle",
            bundle["resourceType"].as_str().unwrap_or("non-resource")
        ));
        return problems;
    }
    if bundle["type"] != "searchset" {
        problems.push(format!(
            "Bundle.type is {}, not searchset",
            bundle["type"].as_str().unwrap_or("missing")
        ));
    }
    problems
}

/// The resources of a searchset's entries that are matches (mode `match`, or no mode given).
pub fn matches(bundle: &Value) -> Vec<&Value> {
    entries(bundle)
        .filter(|e| {
            e.pointer("/search/mode")
                .and_then(Value::as_str)
                .is_none_or(|m| m == "match")
        })
        .filter_map(|e| e.get("resource"))
        .collect()
}

pub fn entries(bundle: &Value) -> impl Iterator<Item = &Value> {
    bundle["entry"].as_array().into_iter().flatten()
}

/// `Type/id` of every matching resource.
pub fn match_keys(bundle: &Value) -> Vec<String> {
    matches(bundle)
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or("?"),
                r["id"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// IOP-SRCH-002: absolute fullUrls ending `/<type>/<id>`, and a search mode from the FHIR value
/// set where one is given. `search.mode` is optional in R4 (Bundle.entry.search.mode 0..1; the
/// specification's own example says servers are not required to populate it), so its absence
/// is noted by [`entries_without_mode`], not failed.
pub fn entry_problems(bundle: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, entry) in entries(bundle).enumerate() {
        let resource = &entry["resource"];
        let kind = resource["resourceType"].as_str().unwrap_or("");
        let id = resource["id"].as_str().unwrap_or("");
        match entry["fullUrl"].as_str() {
            None => problems.push(format!("entry[{index}] has no fullUrl")),
            Some(url) => {
                let absolute = url.starts_with("https://")
                    || url.starts_with("http://")
                    || url.starts_with("urn:uuid:");
                if !absolute {
                    problems.push(format!("entry[{index}].fullUrl `{url}` is not absolute"));
                } else if !url.starts_with("urn:") && !url.ends_with(&format!("/{kind}/{id}")) {
                    problems.push(format!(
                        "entry[{index}].fullUrl `{url}` does not end with /{kind}/{id}"
                    ));
                }
            }
        }
        match entry.pointer("/search/mode").and_then(Value::as_str) {
            Some(mode) if SEARCH_MODES.contains(&mode) => {}
            Some(mode) => problems.push(format!("entry[{index}].search.mode is `{mode}`")),
            None => {}
        }
    }
    problems
}

/// How many entries say nothing of why they are in the searchset.
pub fn entries_without_mode(bundle: &Value) -> usize {
    entries(bundle)
        .filter(|e| e.pointer("/search/mode").is_none())
        .count()
}

pub fn link<'a>(bundle: &'a Value, relation: &str) -> Option<&'a str> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
}

/// Query parameter names in a URL.
pub fn query_names(url: &str) -> Vec<String> {
    url.split_once('?')
        .map(|(_, query)| {
            query
                .split('&')
                .filter_map(|p| p.split('=').next())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Duplicate fullUrls or duplicate `Type/id` among entries.
pub fn duplicate_entries(bundle: &Value) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut duplicates = Vec::new();
    for entry in entries(bundle) {
        let key = entry["fullUrl"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "{}/{}",
                    entry["resource"]["resourceType"].as_str().unwrap_or("?"),
                    entry["resource"]["id"].as_str().unwrap_or("?")
                )
            });
        if !seen.insert(key.clone()) {
            duplicates.push(key);
        }
    }
    duplicates
}

/// Every `reference` string in the matches of a Bundle.
pub fn references(bundle: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for resource in matches(bundle) {
        collect_references(resource, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn collect_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("reference") {
                out.push(reference.clone());
            }
            map.values().for_each(|v| collect_references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bundle(entries: Value) -> Value {
        json!({"resourceType": "Bundle", "type": "searchset", "link": [{"relation": "self", "url": "https://x/Patient?identifier=a|b&_count=1"}], "entry": entries})
    }

    #[test]
    fn well_formed_entries_pass_and_broken_ones_are_named() {
        let good = bundle(
            json!([{"fullUrl": "https://x/FHIR/R4/Patient/1", "search": {"mode": "match"}, "resource": {"resourceType": "Patient", "id": "1"}}]),
        );
        assert!(searchset_problems(&good).is_empty());
        assert!(entry_problems(&good).is_empty());
        assert_eq!(match_keys(&good), ["Patient/1"]);
        let bad = bundle(
            json!([{"fullUrl": "Patient/1", "resource": {"resourceType": "Patient", "id": "1"}}]),
        );
        assert_eq!(entry_problems(&bad).len(), 1, "a relative fullUrl fails");
        assert_eq!(
            entries_without_mode(&bad),
            1,
            "a missing mode is only counted"
        );
        let odd_mode = bundle(
            json!([{"fullUrl": "https://x/Patient/1", "search": {"mode": "found"}, "resource": {"resourceType": "Patient", "id": "1"}}]),
        );
        assert_eq!(
            entry_problems(&odd_mode).len(),
            1,
            "a mode outside the value set fails"
        );
        assert_eq!(
            query_names(link(&good, "self").unwrap()),
            ["identifier", "_count"]
        );
    }

    #[test]
    fn duplicates_and_references_are_found() {
        let entry = json!({"fullUrl": "https://x/AllergyIntolerance/1", "resource": {"resourceType": "AllergyIntolerance", "id": "1", "patient": {"reference": "Patient/9"}}});
        let twice = bundle(json!([entry, entry]));
        assert_eq!(
            duplicate_entries(&twice),
            ["https://x/AllergyIntolerance/1"]
        );
        assert_eq!(references(&twice), ["Patient/9"]);
    }
}
