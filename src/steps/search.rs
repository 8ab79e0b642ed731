//! Search steps: searchsets, precision, unknown parameters, paging, date prefixes, references.

use std::collections::BTreeSet;

use serde_json::Value;

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, expand_placeholders};
use crate::checks::search;
use crate::checks::{Halt, assert};
use crate::http::{Exchange, RequestSpec};
use crate::report::Failure;

mod dates;
mod include;
mod revinclude;
mod tokens;
mod traversal;

use super::compartment::{points_to, refused};
use traversal::*;

/// A search that left out records it should have returned: what was expected (and from which
/// search), and what is missing.
fn left_out(
    message: String,
    expected: &BTreeSet<String>,
    expected_from: &str,
    missing: &[&String],
    exchange: &Exchange,
) -> Halt {
    let list = |keys: Vec<&str>| keys.join(", ");
    Failure::new(message)
        .expected(format!(
            "{} ({expected_from})",
            list(expected.iter().map(String::as_str).collect())
        ))
        .actual(format!(
            "missing {}",
            list(missing.iter().map(|k| k.as_str()).collect())
        ))
        .exchange(&exchange.id)
        .into()
}

/// The resource type an exchange searched (`…/Condition?patient=…` → `Condition`).
fn searched_kind(exchange: &Exchange) -> String {
    let path = crate::http::exchange_path(&exchange.request.url);
    let path = path.split('?').next().unwrap_or(path);
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

pub fn register(defs: &mut Vec<StepDefinition>) {
    dates::register(defs);
    include::register(defs);
    revinclude::register(defs);
    tokens::register(defs);
    step!(
        defs,
        Given,
        r#"^a search for "([A-Za-z]+)" with "([^"]*)"$"#,
        r#"a search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs-number:existing}""#,
        new_search
    );
    step!(
        defs,
        When,
        r#"^the search is narrowed with "([^"]*)"$"#,
        r#"the search is narrowed with "birthdate=ge1970-01""#,
        narrow
    );
    step!(
        defs,
        Then,
        r#"^the body is a searchset Bundle$"#,
        "the body is a searchset Bundle",
        is_searchset
    );
    step!(
        defs,
        Then,
        r#"^the searchset has no matches$"#,
        "the searchset has no matches",
        no_matches
    );
    step!(
        defs,
        Then,
        r#"^every search entry has an absolute fullUrl and a search mode$"#,
        "every search entry has an absolute fullUrl and a search mode",
        entries_well_formed
    );
    step!(
        defs,
        Then,
        r#"^the self link lists every search parameter sent$"#,
        "the self link lists every search parameter sent",
        self_link_complete
    );
    step!(
        defs,
        Then,
        r#"^the searchset holds only patients with NHS number "([^"]*)", at least one$"#,
        r#"the searchset holds only patients with NHS number "{nhs-number:existing}", at least one"#,
        precise_identifier
    );
    step!(
        defs,
        Then,
        r#"^the same search with the unknown parameter "([^"]+)" is rejected, or the parameter is ignored transparently$"#,
        r#"the same search with the unknown parameter "_mtsProbe=1" is rejected, or the parameter is ignored transparently"#,
        unknown_param
    );
    step!(
        defs,
        Then,
        r#"^the same search with the unknown parameter "([^"]+)" and strict handling is rejected$"#,
        r#"the same search with the unknown parameter "_mtsProbe=1" and strict handling is rejected"#,
        unknown_param_strict
    );
    step!(
        defs,
        Then,
        r#"^paging through the search with _count=1 yields distinct entries and a steady total$"#,
        "paging through the search with _count=1 yields distinct entries and a steady total",
        paging
    );
    step!(
        defs,
        Then,
        r#"^the server searched "([A-Za-z]+)" at all$"#,
        r#"the server searched "Condition" at all"#,
        searched_at_all
    );
    step!(
        defs,
        Then,
        r#"^every match refers to patient "([^"]+)"$"#,
        r#"every match refers to patient "{patient:with-records}""#,
        refers_to_patient
    );
    step!(
        defs,
        Then,
        r#"^the narrowed searchset holds exactly the earlier matches within those dates$"#,
        "the narrowed searchset holds exactly the earlier matches within those dates",
        narrowed_by_dates
    );
    step!(
        defs,
        Then,
        r#"^every reference in the searchset resolves$"#,
        "every reference in the searchset resolves",
        references_resolve
    );
    step!(
        defs,
        Then,
        r#"^the searchset has no duplicate entries$"#,
        "the searchset has no duplicate entries",
        no_duplicates
    );
}

fn parse_query(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (pair.to_owned(), String::new()),
        })
        .collect()
}

/// `{search:existing}` and `{search:nobody}` stand for a Patient search derived from what the
/// target declares and from the existing test patient's own record; other parts are taken as
/// written, with test-data placeholders expanded.
async fn new_search(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    if let Some(role) = args
        .get(1)
        .split_once("{patient:")
        .and_then(|(_, rest)| rest.split_once('}'))
        .and_then(|(role, _)| crate::config::PatientRole::parse(role))
    {
        world.patient_searches.push((role, args.get(0).to_owned()));
    }
    let mut query = Vec::new();
    for part in args.get(1).split('&').filter(|p| !p.is_empty()) {
        match part {
            "{search:existing}" => query.extend(derived_patient_search(world, false).await?),
            "{search:nobody}" => query.extend(derived_patient_search(world, true).await?),
            _ => {
                let part = expand_placeholders(part, world.data()?).map_err(Halt::Error)?;
                query.extend(parse_query(&part));
            }
        }
    }
    let mut spec = RequestSpec::get(args.get(0));
    spec.query = query;
    world.request = Some(spec);
    Ok(())
}

async fn derived_patient_search(
    world: &mut MtsWorld,
    nobody: bool,
) -> Result<Vec<(String, String)>, Halt> {
    use crate::config::PatientRole;
    use crate::target::derive::{self, PatientSearch};
    let run = world.run()?.clone();
    let search = derive::patient_search(&run.model);
    let record = match &search {
        PatientSearch::Identifier => None,
        PatientSearch::Demographics(params) => {
            world.note(format!(
                "searched by {} from the test patient's own record: the target declares no search by identifier",
                params.join(" and ")
            ));
            run.patient_record(PatientRole::Existing).await
        }
    };
    let existing = run.data.patient(PatientRole::Existing).nhs_number.clone();
    let absent = run.data.patient(PatientRole::Absent).nhs_number.clone();
    derive::patient_query(
        &search,
        record.as_deref(),
        &existing,
        nobody.then_some(absent.as_str()),
    )
    .map_err(Halt::missing_data)
}

fn bundle(exchange: &Exchange) -> Result<&Value, Halt> {
    assert::status_is(exchange, &[200])?;
    let resource = assert::fhir_resource(exchange, Some("Bundle"))?;
    let problems = search::searchset_problems(resource);
    if let Some(problem) = problems.first() {
        return Err(Failure::new(problem.clone())
            .expected("Bundle.type searchset")
            .actual(problems.join("; "))
            .exchange(&exchange.id)
            .into());
    }
    Ok(resource)
}

async fn is_searchset(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    bundle(world.last()?).map(|_| ())
}

async fn no_matches(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?;
    let matches = search::matches(bundle);
    let total = bundle["total"].as_u64();
    if matches.is_empty() && total.is_none_or(|t| t == 0) {
        return Ok(());
    }
    Err(
        Failure::new("a search that should match nothing returned matches")
            .expected("0 entries (total 0)")
            .actual(format!(
                "{} entries, total {}",
                matches.len(),
                total.map_or("absent".into(), |t| t.to_string())
            ))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn entries_well_formed(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?;
    if search::matches(bundle).is_empty() {
        // Evidence owed: the search was for a patient the target holds.
        return Err(Failure::new(format!(
            "{} found nothing, though it searched for a test patient the target holds",
            exchange.summary_request()
        ))
        .expected("at least one match")
        .actual("an empty searchset")
        .exchange(&exchange.id)
        .into());
    }
    let problems = search::entry_problems(bundle);
    let unexplained = search::entries_without_mode(bundle);
    if unexplained > 0 {
        world.note(format!(
            "{unexplained} entr{} carry no search.mode (optional in R4; FHIR recommends it)",
            if unexplained == 1 { "y" } else { "ies" }
        ));
    }
    match problems.first() {
        None => Ok(()),
        Some(first) => Err(Failure::new(first.clone())
            .expected("absolute fullUrls ending /<type>/<id> and search.mode match|include|outcome")
            .actual(problems.join("; "))
            .exchange(&exchange.id)
            .into()),
    }
}

async fn self_link_complete(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?;
    let sent: Vec<String> = world
        .request
        .as_ref()
        .map(|r| r.query.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let Some(link) = search::link(bundle, "self") else {
        world.note("the searchset has no self link (FHIR recommends one)");
        return Ok(());
    };
    let listed = search::query_names(link);
    let missing: Vec<&String> = sent
        .iter()
        .filter(|n| !listed.contains(n) && *n != "_format")
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the self link does not record the parameters used: {missing:?}"
    ))
    .expected(format!("a self link listing {sent:?}"))
    .actual(link.to_owned())
    .exchange(&exchange.id)
    .into())
}

fn has_identifier(patient: &Value, number: &str) -> bool {
    patient["identifier"].as_array().is_some_and(|ids| {
        ids.iter()
            .any(|i| i["system"] == crate::fhir::NHS_NUMBER_SYSTEM && i["value"] == number)
    })
}

async fn precise_identifier(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let number = expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?;
    let matches = search::matches(bundle);
    let strangers: Vec<String> = matches
        .iter()
        .filter(|r| r["resourceType"] != "Patient" || !has_identifier(r, &number))
        .map(|r| {
            format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or("?"),
                r["id"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if !matches.is_empty() && strangers.is_empty() {
        return Ok(());
    }
    Err(Failure::new(if matches.is_empty() {
        format!("a search for NHS number {number} found nothing")
    } else {
        format!("a search for NHS number {number} returned other patients")
    })
    .expected(format!(
        "only Patients carrying NHS number {number}, at least one"
    ))
    .actual(if matches.is_empty() {
        "no matches".to_owned()
    } else {
        format!("also {}", strangers.join(", "))
    })
    .exchange(&exchange.id)
    .into())
}

fn with_extra(world: &MtsWorld, extra: &str) -> Result<RequestSpec, Halt> {
    let mut spec = world
        .request
        .clone()
        .ok_or_else(|| Halt::Error("no search to repeat".into()))?;
    spec.query.extend(parse_query(extra));
    spec.request_id = crate::http::RequestIdMode::Fresh;
    Ok(spec)
}

async fn unknown_param(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let original = world.last()?.clone();
    let baseline = bundle(&original)?;
    let expected_keys: BTreeSet<String> = search::match_keys(baseline).into_iter().collect();
    let spec = with_extra(world, args.get(0))?;
    let name = args.get(0).split('=').next().unwrap_or("").to_owned();
    let exchange = world.send(&spec).await?;
    let response = assert::response(&exchange)?;
    if response.status == 400 || response.status == 422 {
        assert::operation_outcome(&exchange)?;
        world.note(format!(
            "the unknown parameter {name} was rejected with {} (NHS API platform behaviour)",
            response.status
        ));
        return Ok(());
    }
    let with_unknown = bundle(&exchange)?;
    let keys: BTreeSet<String> = search::match_keys(with_unknown).into_iter().collect();
    if keys != expected_keys {
        return Err(
            Failure::new(format!("the unknown parameter {name} changed the results"))
                .expected(format!(
                    "either 400, or the same matches as without it: {expected_keys:?}"
                ))
                .actual(format!("matches {keys:?}"))
                .exchange(&exchange.id)
                .into(),
        );
    }
    match search::link(with_unknown, "self") {
        Some(link) if search::query_names(link).contains(&name) => Err(Failure::new(format!(
            "the self link claims the unknown parameter {name} was used"
        ))
        .expected(format!(
            "a self link without {name} (FHIR: ignored parameters are left out of it)"
        ))
        .actual(link.to_owned())
        .exchange(&exchange.id)
        .into()),
        Some(_) => {
            world.note(format!("the unknown parameter {name} was ignored and left out of the self link (FHIR default)"));
            Ok(())
        }
        None => Err(Failure::new(format!(
            "the unknown parameter {name} was ignored without saying so"
        ))
        .expected("either 400, or a self link that shows which parameters were used")
        .actual("200 with no self link")
        .exchange(&exchange.id)
        .into()),
    }
}

async fn unknown_param_strict(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let mut spec = with_extra(world, args.get(0))?;
    spec.set_header("Prefer", "handling=strict");
    let exchange = world.send(&spec).await?;
    let status = assert::response(&exchange)?.status;
    if status == 400 || status == 422 {
        return assert::operation_outcome(&exchange).map(|_| ());
    }
    Err(Failure::new(format!(
        "with Prefer: handling=strict an unknown parameter was answered {status}"
    ))
    .expected("400 with an OperationOutcome")
    .actual(format!("HTTP {status}"))
    .exchange(&exchange.id)
    .into())
}

/// A search the server refused (a 4xx other than 401, 403 and 429) returned no record to judge:
/// where nothing declared the search, the server does not offer it; where it was declared, the
/// refusal is IOP-FHIR-003's failure (a declared search that does not work), not a leak.
async fn searched_at_all(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let kind = args.get(0);
    let offer = world.run()?.model.offers_search_by(kind, "patient");
    refused(
        &exchange,
        &offer,
        &format!("search of {kind} by patient"),
        |refusal| {
            Halt::nothing_to_judge(format!(
                "the server refused the search it declares ({refusal}), so no record came back to judge; IOP-FHIR-003 judges a declared search that does not work"
            ))
        },
    )
}

async fn refers_to_patient(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let patient = expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let exchange = world.last()?.clone();
    let bundle = bundle(&exchange)?;
    let matches = search::matches(bundle);
    let strangers: Vec<String> = matches
        .iter()
        .filter(|r| {
            let reference = r
                .pointer("/patient/reference")
                .or_else(|| r.pointer("/subject/reference"))
                .and_then(Value::as_str)
                .unwrap_or("");
            !points_to(reference, &patient)
        })
        .map(|r| {
            format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or("?"),
                r["id"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if matches.is_empty() {
        // Nothing returned is nothing shown to belong to the patient: the data is owed.
        return Err(Halt::missing_data(format!(
            "the search returned no records of this type for Patient/{patient}, so none can be shown to be theirs; seed the test patient with some ({})",
            exchange.summary()
        )));
    }
    if strangers.is_empty() {
        return Ok(());
    }
    Err(
        Failure::new("a search by patient returned another patient's records")
            .expected(format!("only records of Patient/{patient}"))
            .actual(strangers.join(", "))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn narrow(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let baseline = world.last()?.clone();
    if baseline.status() != Some(200) {
        // A family-only baseline is no search a target takes when it declares that every
        // search needs more (PDS: family and birthdate); then there is nothing to compare.
        let needs_more = world.run()?.model.resource("Patient").is_some_and(|p| {
            !p.required_search.is_empty()
                && p.required_search
                    .iter()
                    .all(|c| c.iter().any(|param| param != "family"))
        });
        if needs_more {
            return Err(Halt::not_declared(format!(
                "the target declares that a Patient search needs more than a family name, so the family-only search the narrowing is compared with is not one it takes ({})",
                baseline.summary()
            )));
        }
        // Otherwise evidence owed: the target declares search by family and birthdate.
        assert::status_is(&baseline, &[200])?;
    }
    world.baseline = Some(baseline);
    let extra = expand_placeholders(args.get(0), world.data()?).map_err(Halt::Error)?;
    let spec = with_extra(world, &extra)?;
    world.request = Some(spec.clone());
    world.send(&spec).await?;
    Ok(())
}

/// Whether a `YYYY-MM-DD` birth date satisfies a FHIR date search value such as `ge1970-01`.
pub fn date_satisfies(birth_date: &str, criterion: &str) -> Option<bool> {
    let (prefix, value) = match criterion.get(..2) {
        Some(p @ ("eq" | "ne" | "gt" | "lt" | "ge" | "le")) => (p, &criterion[2..]),
        _ => ("eq", criterion),
    };
    let low = match value.len() {
        4 => format!("{value}-01-01"),
        7 => format!("{value}-01"),
        10 => value.to_owned(),
        _ => return None,
    };
    let high = match value.len() {
        4 => format!("{value}-12-31"),
        7 => format!("{value}-31"),
        _ => value.to_owned(),
    };
    let date = birth_date.get(..10).unwrap_or(birth_date);
    Some(match prefix {
        "eq" => date >= low.as_str() && date <= high.as_str(),
        "ne" => date < low.as_str() || date > high.as_str(),
        "gt" => date > high.as_str(),
        "lt" => date < low.as_str(),
        "ge" => date >= low.as_str(),
        _ => date <= high.as_str(),
    })
}

async fn narrowed_by_dates(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let baseline = world
        .baseline
        .clone()
        .ok_or_else(|| Halt::Error("no baseline search".into()))?;
    let narrowed = world.last()?.clone();
    let base_bundle = bundle(&baseline)?;
    let criteria: Vec<String> = world
        .request
        .as_ref()
        .map(|r| {
            r.query
                .iter()
                .filter(|(n, _)| n == "birthdate")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut expected = BTreeSet::new();
    for patient in search::matches(base_bundle) {
        let born = patient["birthDate"].as_str().unwrap_or("");
        let inside = criteria
            .iter()
            .all(|c| date_satisfies(born, c).unwrap_or(false));
        if inside && !born.is_empty() {
            expected.insert(format!("Patient/{}", patient["id"].as_str().unwrap_or("?")));
        }
    }
    let narrowed_bundle = bundle(&narrowed)?;
    let actual: BTreeSet<String> = search::match_keys(narrowed_bundle).into_iter().collect();
    if expected.len() == search::matches(base_bundle).len() {
        world.note("every baseline match satisfies the dates; the test cannot show narrowing (choose [data.search] with a wider spread)");
    }
    if actual == expected {
        return Ok(());
    }
    Err(
        Failure::new("date prefixes were not applied as FHIR search defines them")
            .expected(format!(
                "{expected:?} (the earlier matches born within {criteria:?})"
            ))
            .actual(format!("{actual:?}"))
            .exchange(&narrowed.id)
            .into(),
    )
}

#[cfg(test)]
mod tests;
