//! Value sets expanded offline, for bindings: the codes of a ValueSet computed from its compose
//! (enumerated concepts, whole code systems held locally, `is-a` filters over their
//! hierarchies, other value sets), or its expansion when it carries one. Where the codes cannot
//! be known without a terminology server (SNOMED CT and dm+d intensional sets, code systems not
//! held), the answer says so: a binding is then reported as not checked offline, never guessed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::fhir::definitions::Definitions;

/// The codes of a value set, or why they are not known offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expansion {
    /// (system, code) pairs. An empty system means "any system" (a code bound without one).
    Codes(HashSet<(String, String)>),
    NotOffline(String),
}

impl Expansion {
    /// Whether `system|code` is in the set (`system` `None` for a bare `code`).
    pub fn contains(&self, system: Option<&str>, code: &str) -> Option<bool> {
        match self {
            Expansion::Codes(codes) => Some(match system {
                Some(system) => {
                    codes.contains(&(system.to_owned(), code.to_owned()))
                        || codes.contains(&(String::new(), code.to_owned()))
                }
                None => codes.iter().any(|(_, c)| c == code),
            }),
            Expansion::NotOffline(_) => None,
        }
    }
}

/// Expansions computed once per value set.
#[derive(Debug, Default)]
pub struct ValueSets {
    cache: Mutex<HashMap<String, Arc<Expansion>>>,
}

/// Systems whose codes are never held offline.
const EXTERNAL: &[&str] = &[
    "http://snomed.info/sct",
    "https://dmd.nhs.uk",
    "http://loinc.org",
    "http://unitsofmeasure.org",
    "urn:ietf:bcp:47",
    "urn:ietf:bcp:13",
    "urn:iso:std:iso:3166",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
];

/// Nesting of value sets that include other value sets, bounded.
const MAX_DEPTH: usize = 16;

impl ValueSets {
    pub fn expand(&self, definitions: &Definitions, url: &str) -> Arc<Expansion> {
        let key = url.split('|').next().unwrap_or(url).to_owned();
        if let Some(known) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return known;
        }
        let expansion = Arc::new(expand(definitions, &key, 0));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, expansion.clone());
        }
        expansion
    }
}

fn expand(definitions: &Definitions, url: &str, depth: usize) -> Expansion {
    if depth > MAX_DEPTH {
        return Expansion::NotOffline(format!("{url}: value sets nest too deep"));
    }
    let Some(value_set) = definitions.value_set(url) else {
        return Expansion::NotOffline(format!("the value set {url} is not held offline"));
    };
    if let Some(contains) = value_set["expansion"]["contains"].as_array() {
        let mut codes = HashSet::new();
        collect_expansion(contains, &mut codes);
        // A stored expansion is used only when it is whole: not a page of a larger one.
        let total = value_set["expansion"]["total"].as_u64();
        let offset = value_set["expansion"]["offset"].as_u64().unwrap_or(0);
        if offset == 0 && total.is_none_or(|t| t as usize <= codes.len()) {
            return Expansion::Codes(codes);
        }
    }
    let mut codes = HashSet::new();
    for include in value_set["compose"]["include"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match part(definitions, include, depth) {
            Expansion::Codes(found) => codes.extend(found),
            not_offline => return not_offline,
        }
    }
    for exclude in value_set["compose"]["exclude"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match part(definitions, exclude, depth) {
            Expansion::Codes(found) => codes.retain(|c| !found.contains(c)),
            not_offline => return not_offline,
        }
    }
    Expansion::Codes(codes)
}

fn collect_expansion(contains: &[Value], codes: &mut HashSet<(String, String)>) {
    for entry in contains {
        if let (Some(system), Some(code)) = (entry["system"].as_str(), entry["code"].as_str()) {
            codes.insert((system.to_owned(), code.to_owned()));
        }
        if let Some(nested) = entry["contains"].as_array() {
            collect_expansion(nested, codes);
        }
    }
}

/// One include or exclude of a compose.
fn part(definitions: &Definitions, part: &Value, depth: usize) -> Expansion {
    let mut codes: Option<HashSet<(String, String)>> = None;
    // Value sets it draws on: the intersection of them (FHIR R4 valueset.html).
    for nested in part["valueSet"].as_array().into_iter().flatten() {
        let Some(url) = nested.as_str() else {
            continue;
        };
        match expand(definitions, url, depth + 1) {
            Expansion::Codes(found) => {
                codes = Some(match codes {
                    None => found,
                    Some(so_far) => so_far.intersection(&found).cloned().collect(),
                });
            }
            not_offline => return not_offline,
        }
    }
    let Some(system) = part["system"].as_str() else {
        return Expansion::Codes(codes.unwrap_or_default());
    };
    let from_system = system_codes(definitions, system, part);
    match (from_system, codes) {
        (Expansion::Codes(found), Some(so_far)) => {
            Expansion::Codes(found.intersection(&so_far).cloned().collect())
        }
        (found, _) => found,
    }
}

/// The codes of `system` an include names: its concepts, else the whole system (filtered).
fn system_codes(definitions: &Definitions, system: &str, part: &Value) -> Expansion {
    if let Some(concepts) = part["concept"].as_array() {
        return Expansion::Codes(
            concepts
                .iter()
                .filter_map(|c| c["code"].as_str())
                .map(|code| (system.to_owned(), code.to_owned()))
                .collect(),
        );
    }
    if EXTERNAL.contains(&system) {
        return Expansion::NotOffline(format!(
            "codes of {system} are not held offline (no terminology server)"
        ));
    }
    let Some(code_system) = definitions.code_system(system) else {
        return Expansion::NotOffline(format!("the code system {system} is not held offline"));
    };
    if code_system["content"]
        .as_str()
        .is_some_and(|c| c != "complete")
    {
        return Expansion::NotOffline(format!(
            "the code system {system} is held only in part ({})",
            code_system["content"].as_str().unwrap_or("")
        ));
    }
    let mut all: Vec<(String, Vec<String>)> = Vec::new();
    flatten(code_system["concept"].as_array(), None, &mut all);
    let filters: Vec<&Value> = part["filter"].as_array().into_iter().flatten().collect();
    let mut selected: BTreeSet<String> = all.iter().map(|(code, _)| code.clone()).collect();
    for filter in filters {
        let property = filter["property"].as_str().unwrap_or("");
        let op = filter["op"].as_str().unwrap_or("");
        let value = filter["value"].as_str().unwrap_or("");
        let matching: BTreeSet<String> = match (property, op) {
            ("concept", "is-a") => descendants(&all, value, true),
            ("concept", "descendent-of") => descendants(&all, value, false),
            ("concept", "is-not-a") => {
                let excluded = descendants(&all, value, true);
                all.iter()
                    .map(|(c, _)| c.clone())
                    .filter(|c| !excluded.contains(c))
                    .collect()
            }
            ("concept", "=") | ("code", "=") => [value.to_owned()].into_iter().collect(),
            _ => {
                return Expansion::NotOffline(format!(
                    "the filter {property} {op} {value} on {system} is not computed offline"
                ));
            }
        };
        selected.retain(|c| matching.contains(c));
    }
    Expansion::Codes(
        selected
            .into_iter()
            .map(|code| (system.to_owned(), code))
            .collect(),
    )
}

/// Every concept with the chain of its ancestors.
fn flatten(
    concepts: Option<&Vec<Value>>,
    parent: Option<&[String]>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    for concept in concepts.into_iter().flatten() {
        let Some(code) = concept["code"].as_str() else {
            continue;
        };
        let ancestors: Vec<String> = parent.map(<[String]>::to_vec).unwrap_or_default();
        out.push((code.to_owned(), ancestors.clone()));
        let mut chain = ancestors;
        chain.push(code.to_owned());
        flatten(concept["concept"].as_array(), Some(&chain), out);
    }
}

fn descendants(all: &[(String, Vec<String>)], root: &str, and_self: bool) -> BTreeSet<String> {
    all.iter()
        .filter(|(code, ancestors)| {
            ancestors.iter().any(|a| a == root) || (and_self && code == root)
        })
        .map(|(code, _)| code.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_value_sets_expand_offline_and_snomed_ones_say_they_cannot() {
        let core = Definitions::core().unwrap();
        let sets = ValueSets::default();
        let gender = sets.expand(
            &core,
            "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1",
        );
        assert_eq!(
            gender.contains(Some("http://hl7.org/fhir/administrative-gender"), "female"),
            Some(true)
        );
        assert_eq!(gender.contains(None, "F"), Some(false));
        let status = sets.expand(&core, "http://hl7.org/fhir/ValueSet/observation-status");
        assert_eq!(status.contains(None, "final"), Some(true));
        let snomed = sets.expand(&core, "http://hl7.org/fhir/ValueSet/clinical-findings");
        assert!(
            matches!(&*snomed, Expansion::NotOffline(why) if why.contains("snomed")),
            "{snomed:?}"
        );
        let unknown = sets.expand(&core, "https://example.org/ValueSet/none");
        assert!(matches!(&*unknown, Expansion::NotOffline(_)));
    }

    #[test]
    fn a_stored_expansion_is_used_only_when_whole() {
        let mut definitions = Definitions::clone(&Definitions::core().unwrap());
        let page = |url: &str, total: u64| {
            serde_json::json!({
                "resourceType": "ValueSet", "url": url, "status": "active",
                "compose": {"include": [{"system": "http://snomed.info/sct"}]},
                "expansion": {"timestamp": "2026-01-01", "total": total, "contains": [
                    {"system": "http://snomed.info/sct", "code": "1"}
                ]}
            })
        };
        definitions
            .add(page("https://example.org/vs/whole", 1))
            .unwrap();
        definitions
            .add(page("https://example.org/vs/page", 500))
            .unwrap();
        let sets = ValueSets::default();
        let whole = sets.expand(&definitions, "https://example.org/vs/whole");
        assert_eq!(
            whole.contains(Some("http://snomed.info/sct"), "2"),
            Some(false)
        );
        // One page of 500 codes cannot say a code is outside: the compose decides (SNOMED CT,
        // not held offline).
        let page = sets.expand(&definitions, "https://example.org/vs/page");
        assert!(matches!(&*page, Expansion::NotOffline(_)), "{page:?}");
    }
}
