//! Token searches on the clinical record: a search by patient narrowed by a code, category or
//! status its own matches hold returns exactly the matches that hold it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::library::{Args, StepDefinition, step};
use super::super::world::MtsWorld;
use super::searched_kind;
use crate::checks::{Halt, assert, search};
use crate::report::Failure;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^each code, category and status it declares narrows the search to exactly the matches that hold it$"#,
        "each code, category and status it declares narrows the search to exactly the matches that hold it",
        narrowed_by_tokens
    );
}

/// The code, category and status token parameters of the Patient-compartment types and the
/// elements each searches (FHIR R4 search parameter expressions; `a.b` walks into `a`).
fn token_parameters(kind: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match kind {
        "AllergyIntolerance" => &[
            ("code", &["code", "reaction.substance"]),
            ("category", &["category"]),
            ("clinical-status", &["clinicalStatus"]),
        ],
        "Condition" => &[
            ("code", &["code"]),
            ("category", &["category"]),
            ("clinical-status", &["clinicalStatus"]),
        ],
        "DocumentReference" => &[
            ("type", &["type"]),
            ("category", &["category"]),
            ("status", &["status"]),
        ],
        "Encounter" => &[
            ("type", &["type"]),
            ("class", &["class"]),
            ("status", &["status"]),
        ],
        "Immunization" => &[("vaccine-code", &["vaccineCode"]), ("status", &["status"])],
        "MedicationRequest" | "MedicationStatement" => &[
            ("code", &["medicationCodeableConcept"]),
            ("category", &["category"]),
            ("status", &["status"]),
        ],
        "DiagnosticReport" | "Observation" | "Procedure" => &[
            ("code", &["code"]),
            ("category", &["category"]),
            ("status", &["status"]),
        ],
        _ => &[],
    }
}

/// One token: a code, with the system of the Coding it came from (`None` for a plain `code`
/// element, whose system is implied).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Token {
    system: Option<String>,
    code: String,
}

impl Token {
    /// The search value: `system|code`, or the code alone.
    fn query_value(&self) -> String {
        match &self.system {
            Some(system) => format!("{system}|{}", self.code),
            None => self.code.clone(),
        }
    }

    /// FHIR's token matching: the code, and the system where the search names one.
    fn held_by(&self, held: &[Token]) -> bool {
        held.iter()
            .any(|t| t.code == self.code && (self.system.is_none() || t.system == self.system))
    }

    /// Characters FHIR's search syntax would need escaped; such tokens are not asked for.
    fn plain(&self) -> bool {
        let clean = |s: &str| !s.is_empty() && !s.contains([',', '|', '$', '\\']);
        clean(&self.code) && self.system.as_deref().is_none_or(clean)
    }
}

/// Every token a value holds: a code string, a Coding, a CodeableConcept, or arrays of them.
fn tokens_in(value: &Value, found: &mut Vec<Token>) {
    match value {
        Value::String(code) => found.push(Token {
            system: None,
            code: code.clone(),
        }),
        Value::Array(items) => items.iter().for_each(|v| tokens_in(v, found)),
        Value::Object(map) => {
            if let Some(codings) = map.get("coding") {
                tokens_in(codings, found);
            } else if let Some(code) = map.get("code").and_then(Value::as_str) {
                found.push(Token {
                    system: map.get("system").and_then(Value::as_str).map(str::to_owned),
                    code: code.to_owned(),
                });
            }
        }
        _ => {}
    }
}

/// The tokens `resource` holds through the elements of a parameter.
fn held(resource: &Value, elements: &[&str]) -> Vec<Token> {
    let mut found = Vec::new();
    for element in elements {
        let mut values = vec![resource];
        for step in element.split('.') {
            values = values
                .into_iter()
                .flat_map(|v| match &v[step] {
                    Value::Array(items) => items.iter().collect::<Vec<_>>(),
                    Value::Null => Vec::new(),
                    other => vec![other],
                })
                .collect();
        }
        values.into_iter().for_each(|v| tokens_in(v, &mut found));
    }
    found
}

/// The token to search by: the first one some but not all matches hold, so that a server
/// ignoring the parameter shows; else the first any match holds.
fn chosen_token(holdings: &[Vec<Token>]) -> Option<Token> {
    let candidates: Vec<&Token> = holdings.iter().flatten().filter(|t| t.plain()).collect();
    let holders = |token: &Token| holdings.iter().filter(|h| token.held_by(h)).count();
    candidates
        .iter()
        .find(|t| holders(t) < holdings.len())
        .or_else(|| candidates.first())
        .map(|t| (*t).clone())
}

/// What one narrowed search showed.
enum Narrowed {
    Exact(String),
    NotOffered(String),
    /// Every match holds the token, and all came back: a server ignoring the parameter would
    /// have answered the same, so it shows nothing.
    Undistinguished(String),
    NoValue,
}

async fn narrowed_by_tokens(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let baseline = world.last()?.clone();
    let kind = searched_kind(&baseline);
    let run = world.run()?.clone();
    let declared = run.model.resource(&kind);
    let candidates = token_parameters(&kind);
    // The declared token parameters mts knows the elements of; every one where nothing is
    // declared (an OpenAPI document names a parameter without its FHIR type).
    let chosen: Vec<_> = candidates
        .iter()
        .filter(|(param, _)| {
            declared.is_none_or(|r| {
                r.search_params
                    .get(*param)
                    .is_some_and(|t| t.is_empty() || t == "token")
            })
        })
        .collect();
    if chosen.is_empty() {
        return Err(Halt::not_declared(format!(
            "the target declares no search of {kind} by {} ({})",
            candidates
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", "),
            run.model.read_sources()
        )));
    }
    assert::status_is(&baseline, &[200])?;
    let base_bundle = assert::fhir_resource(&baseline, Some("Bundle"))?.clone();
    let matches: Vec<&Value> = search::matches(&base_bundle)
        .into_iter()
        .filter(|r| r["resourceType"] == kind.as_str())
        .collect();
    if matches.is_empty() {
        return Err(Halt::missing_data(format!(
            "the search found no {kind} of the patient with records, so there is no code, category or status to search by; seed some ({})",
            baseline.summary()
        )));
    }
    let mut judged = Vec::new();
    let mut not_offered = Vec::new();
    let mut undistinguished = Vec::new();
    for (param, elements) in chosen {
        let outcome =
            narrow_by(world, &kind, param, elements, &matches, declared.is_some()).await?;
        match outcome {
            Narrowed::Exact(how) => judged.push(how),
            Narrowed::NotOffered(why) => not_offered.push(why),
            Narrowed::Undistinguished(value) => undistinguished.push(value),
            Narrowed::NoValue => {}
        }
    }
    for why in &not_offered {
        world.note(why.clone());
    }
    if !judged.is_empty() {
        for value in &undistinguished {
            world.note(format!(
                "{kind}?{value}: every match holds it, so that search shows nothing"
            ));
        }
    }
    if judged.is_empty() {
        return Err(match not_offered.first() {
            Some(why) => Halt::endpoint_absent(why.clone()),
            None if !undistinguished.is_empty() => Halt::missing_data(format!(
                "every {kind} of the patient with records holds {}, so a search by it cannot show the parameter applied; seed records that differ in code, category or status",
                undistinguished.join(" and ")
            )),
            None => Halt::missing_data(format!(
                "no {kind} of the patient with records holds a value for {}; seed records that do",
                candidates
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    }
    world.note(format!(
        "{kind} searches narrowed as FHIR's token matching says: {}",
        judged.join("; ")
    ));
    Ok(())
}

/// Sends the baseline search with `param` set to a token its matches hold and judges the answer.
async fn narrow_by(
    world: &mut MtsWorld,
    kind: &str,
    param: &str,
    elements: &[&str],
    matches: &[&Value],
    is_declared: bool,
) -> Result<Narrowed, Halt> {
    let key = |r: &Value| format!("{kind}/{}", r["id"].as_str().unwrap_or("?"));
    // Counted by key: a server may list one record twice.
    let all: BTreeSet<String> = matches.iter().map(|r| key(r)).collect();
    let holdings: Vec<Vec<Token>> = matches.iter().map(|r| held(r, elements)).collect();
    let Some(token) = chosen_token(&holdings) else {
        return Ok(Narrowed::NoValue);
    };
    let value = token.query_value();
    let mut spec = world.request_mut()?.clone();
    spec.query.push((param.to_owned(), value.clone()));
    let exchange = world.send(&spec).await?;
    super::super::compartment::processed(&exchange)?;
    let status = exchange.status().unwrap_or_default();
    if (400..500).contains(&status) && !matches!(status, 401 | 403) {
        if !is_declared {
            return Ok(Narrowed::NotOffered(format!(
                "the server refused a search of {kind} by {param} ({}), which nothing declared, so it does not offer it",
                exchange.summary()
            )));
        }
        return Err(Failure::new(format!(
            "the server declares search of {kind} by {param} and refused {param}={value}"
        ))
        .expected("200 and the matches that hold the token")
        .actual(exchange.summary())
        .exchange(&exchange.id)
        .into());
    }
    assert::status_is(&exchange, &[200])?;
    let bundle = assert::fhir_resource(&exchange, Some("Bundle"))?;
    let got: Vec<&Value> = search::matches(bundle)
        .into_iter()
        .filter(|r| r["resourceType"] == kind)
        .collect();
    let without: Vec<String> = got
        .iter()
        .filter(|r| !token.held_by(&held(r, elements)))
        .map(|r| key(r))
        .collect();
    let got_keys: BTreeSet<String> = got.iter().map(|r| key(r)).collect();
    let applied = search::link(bundle, "self")
        .is_none_or(|link| search::query_names(link).iter().any(|n| n == param));
    if !without.is_empty() && !is_declared && (!applied || got_keys == all) {
        return Ok(Narrowed::NotOffered(format!(
            "the server answered {param}={value} with records that do not hold it ({}), and nothing declared that search, so it does not offer it",
            exchange.summary()
        )));
    }
    if !without.is_empty() {
        return Err(Failure::new(format!(
            "a search of {kind} by {param}={value} returned records that do not hold that token"
        ))
        .expected(format!(
            "only records holding {value} in {}",
            elements.join(" or ")
        ))
        .actual(format!(
            "{}{}",
            without.join(", "),
            if applied {
                ""
            } else {
                " (the self link leaves the parameter out: it was ignored)"
            }
        ))
        .exchange(&exchange.id)
        .into());
    }
    let expected: BTreeSet<String> = matches
        .iter()
        .zip(&holdings)
        .filter(|(_, h)| token.held_by(h))
        .map(|(r, _)| key(r))
        .collect();
    let missing: Vec<&String> = expected.difference(&got_keys).collect();
    let paged = search::link(bundle, "next").is_some();
    if !missing.is_empty() && !paged {
        return Err(super::left_out(
            format!("a search of {kind} by {param}={value} left out records that hold it"),
            &expected,
            "the unnarrowed search's matches that hold it",
            &missing,
            &exchange,
        ));
    }
    if expected.len() == all.len() {
        return Ok(Narrowed::Undistinguished(format!("{param}={value}")));
    }
    Ok(Narrowed::Exact(format!(
        "{param}={value}: {} of {}",
        got_keys.len(),
        all.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_read_from_codes_codings_and_concepts() {
        let allergy = json!({
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}]},
            "reaction": [{"substance": {"coding": [{"system": "http://snomed.info/sct", "code": "764146007"}]}}],
            "category": ["medication"],
        });
        let code = held(&allergy, &["code", "reaction.substance"]);
        assert_eq!(code.len(), 2);
        assert_eq!(code[1].code, "764146007");
        assert_eq!(held(&allergy, &["category"])[0].query_value(), "medication");
        let encounter = json!({"class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}});
        assert_eq!(
            held(&encounter, &["class"])[0].query_value(),
            "http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB"
        );
    }

    #[test]
    fn the_token_chosen_tells_the_matches_apart() {
        let token = |code: &str| Token {
            system: Some("http://snomed.info/sct".into()),
            code: code.into(),
        };
        let both = vec![vec![token("1")], vec![token("1"), token("2")]];
        assert_eq!(chosen_token(&both), Some(token("2")));
        let same = vec![vec![token("1")], vec![token("1")]];
        assert_eq!(chosen_token(&same), Some(token("1")));
        assert_eq!(chosen_token(&[vec![], vec![]]), None);
        let plain = Token {
            system: None,
            code: "active".into(),
        };
        assert!(plain.held_by(&[token("active")]));
        assert!(!token("active").held_by(&[Token {
            system: Some("http://other".into()),
            code: "active".into()
        }]));
    }
}
