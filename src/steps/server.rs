//! What the server says about itself: CapabilityStatement, interface descriptions, health
//! endpoints, base URL, content negotiation, GP Connect correlation.

use serde_json::Value;

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::catalogue::Profile;
use crate::checks::{Halt, assert, capability};
use crate::http::RequestSpec;
use crate::report::Failure;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        crate::target::need::STEP_PATTERN,
        r#"the target offers search of "AllergyIntolerance" by "patient""#,
        target_offers
    );
    step!(
        defs,
        Then,
        r#"^every interaction the CapabilityStatement declares is implemented$"#,
        "every interaction the CapabilityStatement declares is implemented",
        declared_implemented
    );
    step!(
        defs,
        Then,
        r#"^a resource type the CapabilityStatement does not declare is refused$"#,
        "a resource type the CapabilityStatement does not declare is refused",
        undeclared_refused
    );
    step!(
        defs,
        Then,
        r#"^the CapabilityStatement names UK Core profiles$"#,
        "the CapabilityStatement names UK Core profiles",
        names_ukcore
    );
    step!(
        defs,
        Then,
        r#"^the base URL names the FHIR release$"#,
        "the base URL names the FHIR release",
        base_url_versioned
    );
    step!(
        defs,
        Then,
        r#"^the server publishes a machine-readable interface description$"#,
        "the server publishes a machine-readable interface description",
        interface_published
    );
    step!(
        defs,
        Then,
        r#"^the OpenAPI document is a valid OpenAPI 3 description$"#,
        "the OpenAPI document is a valid OpenAPI 3 description",
        openapi_valid
    );
    step!(
        defs,
        Then,
        r#"^the health endpoint, if there is one, answers without disclosing internals$"#,
        "the health endpoint, if there is one, answers without disclosing internals",
        ping_discreet
    );
    step!(
        defs,
        Then,
        r#"^the status endpoint, if there is one, refuses a request without an API key$"#,
        "the status endpoint, if there is one, refuses a request without an API key",
        status_needs_key
    );
    step!(
        defs,
        Then,
        r#"^the body is FHIR JSON$"#,
        "the body is FHIR JSON",
        body_is_fhir_json
    );
    step!(
        defs,
        Then,
        r#"^the body is FHIR XML, or the request is refused as not acceptable$"#,
        "the body is FHIR XML, or the request is refused as not acceptable",
        xml_or_refused
    );
    step!(
        defs,
        Then,
        r#"^the Bundle id is the request's Ssp-TraceID$"#,
        "the Bundle id is the request's Ssp-TraceID",
        bundle_id_is_trace
    );
}

async fn statement(world: &mut MtsWorld) -> Result<std::sync::Arc<Value>, Halt> {
    world.run()?.clone().capability().await.ok_or_else(|| {
        Halt::not_declared(
            "the server publishes no CapabilityStatement, so its declarations cannot be checked",
        )
    })
}

/// The planner already matched this need against the target model (`checks::need`); a scenario
/// reaches here only when it is offered or nothing is declared. The same rule decides again, so
/// a run without planning (a custom runner) is judged alike.
async fn target_offers(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let step = world.current_step.clone();
    let Some(need) = crate::target::need::parse(&step) else {
        return Err(Halt::Error(format!("\"{step}\" is not a need step")));
    };
    let run = world.run()?.clone();
    match crate::checks::need::judge_need(&need, &run.model, run.profile) {
        None => Ok(()),
        Some(halt) => Err(halt),
    }
}

/// A value of a search parameter's type that a conformant server accepts as well formed.
fn probe_value(world: &MtsWorld, kind: &str, name: &str, param_type: &str) -> Option<String> {
    let data = world.data().ok()?;
    let existing = data.patient(crate::config::PatientRole::Existing);
    let with_records = data.patient(crate::config::PatientRole::WithRecords);
    Some(match (kind, name, param_type) {
        ("Patient", "identifier", _) => {
            format!("{}|{}", crate::fhir::NHS_NUMBER_SYSTEM, existing.nhs_number)
        }
        ("Patient", "_id", _) => existing.logical_id().to_owned(),
        (_, "patient" | "subject", _) => format!("Patient/{}", with_records.logical_id()),
        (_, _, "token") => format!("{}|{}", crate::fhir::NHS_NUMBER_SYSTEM, existing.nhs_number),
        (_, _, "string") => data.search.family.clone(),
        (_, _, "date") => "ge2000-01-01".into(),
        (_, _, "reference") => format!("Patient/{}", existing.logical_id()),
        (_, _, "number" | "quantity") => "1".into(),
        (_, _, "uri") => "https://example.org".into(),
        _ => return None,
    })
}

/// Signs in an answer that a search parameter or interaction is not known to the server.
pub(super) fn refused_as_unknown(exchange: &crate::http::Exchange) -> Option<String> {
    let response = exchange.response.as_ref()?;
    if matches!(response.status, 404 | 405 | 501) {
        return Some(format!("answered {}", response.status));
    }
    if response.status == 400 {
        let outcome = response.resource()?;
        let codes = crate::fhir::outcome::spine_codes(outcome);
        if codes
            .iter()
            .any(|c| c == "ADDITIONAL_PROPERTIES" || c == "UNSUPPORTED_SERVICE")
        {
            return Some(format!("answered 400 {}", codes.join(", ")));
        }
        if crate::fhir::outcome::issues(outcome)
            .iter()
            .any(|i| i["code"] == "not-supported")
        {
            return Some("answered 400 not-supported".into());
        }
    }
    None
}

async fn declared_implemented(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let statement = statement(world).await?;
    let mut problems = Vec::new();
    let mut first_exchange = None;
    for (kind, interaction) in capability::interactions(&statement) {
        let probe = match interaction.as_str() {
            "search-type" => RequestSpec::get(kind.clone()),
            "read" => {
                let id = match kind.as_str() {
                    "Patient" => world
                        .data()?
                        .patient(crate::config::PatientRole::Existing)
                        .logical_id()
                        .to_owned(),
                    _ => {
                        world.note(format!("{kind} read not probed: no known id"));
                        continue;
                    }
                };
                RequestSpec::get(format!("{kind}/{id}"))
            }
            other => {
                world.note(format!(
                    "{kind} {other} not probed: it would change data or needs an id"
                ));
                continue;
            }
        };
        let mut probe = probe;
        if interaction == "search-type" {
            for (name, param_type) in capability::search_params(&statement, &kind)
                .into_iter()
                .take(1)
            {
                if let Some(value) = probe_value(world, &kind, &name, &param_type) {
                    probe.query.push((name, value));
                }
            }
        }
        let exchange = world.send(&probe).await?;
        assert::response(&exchange)?;
        first_exchange.get_or_insert(exchange.id.clone());
        if let Some(how) = refused_as_unknown(&exchange) {
            problems.push((
                format!(
                    "{kind} {interaction} is declared but {how} ({})",
                    exchange.summary_request()
                ),
                exchange.id.clone(),
            ));
        }
        if interaction == "search-type" {
            for (name, param_type) in capability::search_params(&statement, &kind) {
                let Some(value) = probe_value(world, &kind, &name, &param_type) else {
                    continue;
                };
                let mut search = RequestSpec::get(kind.clone());
                search.query.push((name.clone(), value));
                let exchange = world.send(&search).await?;
                if let Some(how) = refused_as_unknown(&exchange) {
                    problems.push((
                        format!("search parameter {kind}.{name} is declared but {how}"),
                        exchange.id.clone(),
                    ));
                }
            }
        }
    }
    match problems.first() {
        None => Ok(()),
        Some((message, exchange)) => Err(Failure::new(message.clone())
            .expected("every declared interaction and search parameter is implemented")
            .actual(
                problems
                    .iter()
                    .map(|(m, _)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .exchange(exchange)
            .into()),
    }
}

async fn undeclared_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let statement = statement(world).await?;
    const CANDIDATES: &[&str] = &[
        "Basic",
        "Linkage",
        "Substance",
        "DeviceMetric",
        "ImmunizationEvaluation",
    ];
    let declared: Vec<String> = capability::interactions(&statement)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let Some(kind) = CANDIDATES
        .iter()
        .find(|c| !declared.iter().any(|d| d == *c))
    else {
        return Err(Halt::nothing_to_judge("every probe type is declared"));
    };
    let exchange = world
        .send(&RequestSpec::get(format!("{kind}?_count=1")))
        .await?;
    let status = assert::response(&exchange)?.status;
    if matches!(status, 400 | 403 | 404 | 405 | 501) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{kind} is not declared in the CapabilityStatement but a search of it answered {status}"
    ))
    .expected("404, 405 or 501 for a resource type the server does not declare")
    .actual(format!("HTTP {status}"))
    .exchange(&exchange.id)
    .into())
}

async fn names_ukcore(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let statement = statement(world).await?;
    if !capability::ukcore_references(&statement).is_empty() {
        return Ok(());
    }
    Err(Failure::new("the CapabilityStatement names no UK Core profile and does not instantiate UK Core Access")
        .expected("instantiates https://fhir.hl7.org.uk/… or resource profiles https://fhir.hl7.org.uk/StructureDefinition/UKCore-*")
        .actual("none")
        .exchange(&crate::http::ExchangeId("capability#1".into()))
        .into())
}

async fn base_url_versioned(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let base = world.run()?.http.base_url().to_owned();
    let path = crate::http::exchange_path(&base).to_owned();
    let gpc = world.run()?.profile == Profile::Gpc;
    let names_release = path
        .split('/')
        .any(|segment| segment == "R4" || (gpc && segment == "STU3"));
    if names_release && !base.ends_with('/') {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the base URL {base} does not name the FHIR release"
    ))
    .expected("a base URL path such as …/FHIR/R4 (no trailing /)")
    .actual(path)
    .into())
}

async fn interface_published(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let run = world.run()?.clone();
    if run.capability().await.is_some() {
        world.note("a CapabilityStatement is published at /metadata");
        return Ok(());
    }
    match &run.openapi {
        Some(Ok(openapi)) if openapi.problems().is_empty() => {
            world.note("no CapabilityStatement; an OpenAPI 3 document describes the API");
            Ok(())
        }
        Some(Ok(_)) => Err(Failure::new(
            "no CapabilityStatement, and the OpenAPI document is not a valid OpenAPI 3 description",
        )
        .expected("a CapabilityStatement at /metadata or a valid OpenAPI 3 document")
        .actual("see the OpenAPI document scenario")
        .exchange(&crate::http::ExchangeId("capability#1".into()))
        .into()),
        Some(Err(why)) => Err(Failure::new(format!(
            "no CapabilityStatement, and the OpenAPI document could not be read: {why}"
        ))
        .expected("a CapabilityStatement at /metadata or a valid OpenAPI 3 document")
        .actual(why.clone())
        .exchange(&crate::http::ExchangeId("capability#1".into()))
        .into()),
        None => Err(Failure::new(
            "the server publishes no CapabilityStatement, and no OpenAPI document was given or found at [base]/openapi.json",
        )
        .expected("a CapabilityStatement at /metadata, or an OpenAPI 3 document (--openapi, or published at [base]/openapi.json)")
        .actual("neither")
        .exchange(&crate::http::ExchangeId("capability#1".into()))
        .into()),
    }
}

async fn openapi_valid(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let run = world.run()?.clone();
    let with_exchange = |failure: Failure| match &run.openapi_exchange {
        Some(id) => failure.exchange(id),
        None => failure,
    };
    match &run.openapi {
        // API-DOC-001 takes a CapabilityStatement or an OpenAPI document: without the latter
        // this scenario has nothing to judge, and the other one decides.
        None => Err(Halt::nothing_to_judge(
            "no OpenAPI document was given (--openapi FILE|URL) or found at [base]/openapi.json",
        )),
        Some(Err(why)) => Err(with_exchange(
            Failure::new(format!("the OpenAPI document could not be read: {why}"))
                .expected("a JSON or YAML OpenAPI 3 document")
                .actual(why.clone()),
        )
        .into()),
        Some(Ok(openapi)) => {
            let problems = openapi.problems();
            if problems.is_empty() {
                return Ok(());
            }
            Err(with_exchange(
                Failure::new(format!(
                    "the OpenAPI document has {} problem(s): {}",
                    problems.len(),
                    problems[0]
                ))
                .expected("a valid OpenAPI 3.0/3.1 document")
                .actual(problems.join("; ")),
            )
            .into())
        }
    }
}

/// Text that discloses software versions or internal hosts.
fn disclosure(text: &str) -> Option<String> {
    let patterns = [
        r"(?i)\b(apache|nginx|iis|tomcat|jetty|express|kestrel|ubuntu|debian|centos|windows server)\b[/ ]?v?\d",
        r"\b\d+\.\d+\.\d+\b",
        r"(?i)\b(ip-\d+-\d+-\d+-\d+|[a-z0-9-]+\.internal|[a-z0-9-]+\.local)\b",
        r"\b(10|172\.(1[6-9]|2\d|3[01])|192\.168)\.\d+\.\d+",
    ];
    patterns.iter().find_map(|p| {
        regex::Regex::new(p)
            .ok()?
            .find(text)
            .map(|m| m.as_str().to_owned())
    })
}

async fn ping_discreet(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let mut spec = RequestSpec::get("_ping");
    spec.with_credentials = false;
    let exchange = world.send(&spec).await?;
    let response = assert::response(&exchange)?;
    if matches!(response.status, 404 | 405 | 501) {
        return Err(Halt::endpoint_absent(format!(
            "no health endpoint at [base]/_ping ({})",
            response.status
        )));
    }
    if response.status != 200 {
        return Err(
            Failure::new(format!("the health endpoint answered {}", response.status))
                .expected("200 to an anonymous GET [base]/_ping")
                .actual(format!("HTTP {}", response.status))
                .exchange(&exchange.id)
                .into(),
        );
    }
    if let Some(found) = disclosure(&response.body.text()) {
        return Err(Failure::new("the health endpoint discloses internals")
            .expected("a liveness answer without versions or host names")
            .actual(format!(
                "`{found}` in {}",
                assert::preview(&response.body.text())
            ))
            .exchange(&exchange.id)
            .into());
    }
    Ok(())
}

async fn status_needs_key(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let mut spec = RequestSpec::get("_status");
    spec.with_credentials = false;
    let exchange = world.send(&spec).await?;
    let status = assert::response(&exchange)?.status;
    match status {
        404 | 405 | 501 => Err(Halt::endpoint_absent(format!(
            "no status endpoint at [base]/_status ({status})"
        ))),
        401 | 403 => Ok(()),
        _ => Err(Failure::new(format!(
            "the status endpoint answered {status} without an API key"
        ))
        .expected("401 without an apikey")
        .actual(format!("HTTP {status}"))
        .exchange(&exchange.id)
        .into()),
    }
}

async fn body_is_fhir_json(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    assert::status_is(&exchange, &[200])?;
    let media = assert::response(&exchange)?.media_type();
    assert::fhir_resource(&exchange, None)?;
    match media.as_deref() {
        Some("application/fhir+json" | "application/json") => Ok(()),
        other => Err(
            Failure::new("the body is JSON but not labelled as FHIR JSON")
                .expected("Content-Type: application/fhir+json")
                .actual(other.map_or("no Content-Type".into(), |m| format!("Content-Type: {m}")))
                .exchange(&exchange.id)
                .into(),
        ),
    }
}

async fn xml_or_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    let xml_declared = world
        .run()?
        .clone()
        .capability()
        .await
        .is_some_and(|s| capability::declares_xml(&s));
    let media = response.media_type().unwrap_or_default();
    let refusals: &[u16] = if world.run()?.profile == Profile::Gpc {
        &[406, 415]
    } else {
        &[406]
    };
    if response.status == 200 && media.contains("xml") {
        return Ok(());
    }
    if refusals.contains(&response.status) && !xml_declared {
        return Ok(());
    }
    let expected = if xml_declared {
        "FHIR XML (the CapabilityStatement declares XML)"
    } else {
        "406 Not Acceptable (XML is not declared)"
    };
    Err(Failure::new(format!(
        "XML was asked for and {} came back",
        if response.status == 200 {
            format!("200 {media}")
        } else {
            format!("HTTP {}", response.status)
        }
    ))
    .expected(expected)
    .actual(format!("HTTP {} {media}", response.status))
    .exchange(&exchange.id)
    .into())
}

async fn bundle_id_is_trace(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let bundle = assert::fhir_resource(&exchange, Some("Bundle"))?;
    let trace = exchange
        .request
        .header("ssp-traceid")
        .ok_or_else(|| Halt::Error("the request carried no Ssp-TraceID".into()))?;
    let id = bundle["id"].as_str();
    if id == Some(trace) {
        return Ok(());
    }
    Err(
        Failure::new("the Bundle is not correlated to the request's trace id")
            .expected(format!("Bundle.id {trace}"))
            .actual(id.map_or("no Bundle.id".to_owned(), |i| format!("Bundle.id {i}")))
            .exchange(&exchange.id)
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disclosures_are_spotted() {
        assert!(disclosure(r#"{"status":"pass"}"#).is_none());
        assert!(disclosure("Apache/2.4.52").is_some());
        assert!(disclosure("ip-10-0-3-17.eu-west-2.compute.internal").is_some());
        assert!(disclosure("version 1.2.3").is_some());
        assert!(disclosure("host 10.0.0.5").is_some());
    }
}
