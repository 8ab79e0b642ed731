//! Write steps (only with --allow-writes; scenarios tagged @writes): create, retry with the same
//! X-Request-ID, Prefer, and If-Match concurrency.

use serde_json::{Value, json};

use super::library::{Args, StepDefinition, step};
use super::world::{Created, MtsWorld};
use crate::catalogue::Profile;
use crate::checks::{Halt, assert, search};
use crate::http::{Exchange, RequestIdMode, RequestSpec};
use crate::report::Failure;

/// The identifier system mts stamps on what it creates, so a run's data can be found and told
/// apart from real records.
pub const TEST_IDENTIFIER_SYSTEM: &str = "https://mts.invalid/test-data";

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^a new test resource to create$"#,
        "a new test resource to create",
        new_resource
    );
    step!(
        defs,
        Given,
        r#"^a test resource created for this scenario$"#,
        "a test resource created for this scenario",
        created_resource
    );
    step!(
        defs,
        Given,
        r#"^an update of that resource$"#,
        "an update of that resource",
        update_request
    );
    step!(
        defs,
        Given,
        r#"^the request header "If-Match" is (the current|a stale) ETag$"#,
        r#"the request header "If-Match" is the current ETag"#,
        if_match
    );
    step!(
        defs,
        When,
        r#"^the request is sent twice with the same X-Request-ID$"#,
        "the request is sent twice with the same X-Request-ID",
        send_twice
    );
    step!(
        defs,
        Then,
        r#"^the retry did not create a second resource$"#,
        "the retry did not create a second resource",
        no_duplicate
    );
    step!(
        defs,
        Then,
        r#"^an update without If-Match is refused as the profile requires$"#,
        "an update without If-Match is refused as the profile requires",
        refused_without_if_match
    );
    step!(
        defs,
        Then,
        r#"^the Location header names the created resource$"#,
        "the Location header names the created resource",
        location_names
    );
    step!(
        defs,
        Then,
        r#"^the body is the created resource$"#,
        "the body is the created resource",
        body_is_created
    );
}

fn test_resource(world: &MtsWorld) -> Result<Value, Halt> {
    let data = world.data()?;
    let patient = data
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    Ok(json!({
        "resourceType": "Observation",
        "status": "final",
        "identifier": [{"system": TEST_IDENTIFIER_SYSTEM, "value": uuid::Uuid::new_v4().to_string()}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "27113001", "display": "Body weight"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2026-11-21T09:00:00+00:00",
        "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
    }))
}

fn post(body: &Value) -> RequestSpec {
    let mut spec = RequestSpec::get(body["resourceType"].as_str().unwrap_or("Observation"));
    spec.method = "POST".into();
    spec.set_header("Content-Type", "application/fhir+json");
    spec.body = Some(body.to_string().into_bytes());
    spec
}

async fn new_resource(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let body = test_resource(world)?;
    world.request = Some(post(&body));
    world.created = Some(Created {
        resource_type: "Observation".into(),
        id: String::new(),
        version: String::new(),
        body,
    });
    Ok(())
}

/// The id (and version) a create answer names: from Location, else from the body.
fn created_id(exchange: &Exchange) -> Option<(String, Option<String>)> {
    let response = exchange.response.as_ref()?;
    if let Some(location) = response.header("location") {
        let path = location.split('?').next().unwrap_or(location);
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if let Some(history) = parts.iter().position(|p| *p == "_history")
            && history >= 1
        {
            return Some((
                parts[history - 1].to_owned(),
                parts.get(history + 1).map(|v| (*v).to_owned()),
            ));
        }
        return parts.last().map(|id| ((*id).to_owned(), None));
    }
    let resource = response.resource()?;
    Some((
        resource["id"].as_str()?.to_owned(),
        resource
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    ))
}

async fn created_resource(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let body = test_resource(world)?;
    let exchange = world.send(&post(&body)).await?;
    let status = assert::response(&exchange)?.status;
    if status != 201 {
        return Err(Halt::Error(format!(
            "could not create the test resource to update ({}); see API-HDR-008",
            exchange.summary()
        )));
    }
    let (id, version) =
        created_id(&exchange).ok_or_else(|| Halt::Error("the create answer names no id".into()))?;
    let etag_version = exchange
        .response
        .as_ref()
        .and_then(|r| r.header("etag"))
        .and_then(|e| {
            e.trim()
                .strip_prefix("W/\"")
                .and_then(|e| e.strip_suffix('"'))
        })
        .map(str::to_owned);
    let version = etag_version.or(version).unwrap_or_else(|| "1".into());
    world.created = Some(Created {
        resource_type: "Observation".into(),
        id,
        version,
        body,
    });
    Ok(())
}

async fn update_request(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource was created in this scenario".into()))?;
    let mut body = created.body.clone();
    body["id"] = json!(created.id);
    body["valueQuantity"]["value"] = json!(73);
    let mut spec = RequestSpec::get(format!("{}/{}", created.resource_type, created.id));
    spec.method = "PUT".into();
    spec.set_header("Content-Type", "application/fhir+json");
    spec.body = Some(body.to_string().into_bytes());
    world.request = Some(spec);
    Ok(())
}

async fn if_match(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource was created in this scenario".into()))?;
    let tag = if args.get(0) == "the current" {
        format!("W/\"{}\"", created.version)
    } else {
        let stale = created.version.parse::<u64>().map_or_else(
            |_| format!("{}-stale", created.version),
            |v| v.saturating_sub(1).to_string(),
        );
        format!("W/\"{stale}\"")
    };
    world.request_mut()?.set_header("If-Match", tag);
    Ok(())
}

async fn send_twice(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let mut spec = world.request_mut()?.clone();
    spec.request_id = RequestIdMode::Value(uuid::Uuid::new_v4().to_string());
    let first = world.send(&spec).await?;
    world.baseline = Some(first);
    world.send(&spec).await?;
    Ok(())
}

async fn no_duplicate(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let first = world
        .baseline
        .clone()
        .ok_or_else(|| Halt::Error("no first attempt".into()))?;
    let second = world.last()?.clone();
    if assert::response(&first)?.status != 201 {
        return Err(Halt::Error(format!(
            "the first create did not succeed ({}), so the retry cannot be judged",
            first.summary()
        )));
    }
    let (first_id, _) =
        created_id(&first).ok_or_else(|| Halt::Error("the create answer names no id".into()))?;
    let second_status = assert::response(&second)?.status;
    let retry_ok = match second_status {
        409 => {
            world.note("the retry was rejected as a duplicate (409)");
            true
        }
        200 | 201 => created_id(&second).is_some_and(|(id, _)| id == first_id),
        _ => false,
    };
    if !retry_ok {
        return Err(Failure::new(
            "retrying a create with the same X-Request-ID made a second resource",
        )
        .expected(format!(
            "the original answer (id {first_id}) or 409 duplicate rejected"
        ))
        .actual(format!(
            "HTTP {second_status}, id {}",
            created_id(&second).map_or("none".into(), |(id, _)| id)
        ))
        .exchange(&second.id)
        .into());
    }
    // Where the server supports it, count what exists with the test identifier.
    let identifier = world.created.as_ref().and_then(|c| {
        c.body
            .pointer("/identifier/0/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let searchable = world.run()?.clone().capability().await.is_some_and(|s| {
        crate::checks::capability::search_params(&s, "Observation")
            .iter()
            .any(|(n, _)| n == "identifier")
    });
    if let (Some(identifier), true) = (identifier, searchable) {
        let mut spec = RequestSpec::get("Observation");
        spec.query.push((
            "identifier".into(),
            format!("{TEST_IDENTIFIER_SYSTEM}|{identifier}"),
        ));
        let found = world.send(&spec).await?;
        if let Some(bundle) = assert::response(&found)?.resource() {
            let count = search::matches(bundle).len();
            if count != 1 {
                return Err(Failure::new(format!(
                    "{count} resources carry the test identifier after one create and its retry"
                ))
                .expected("exactly 1")
                .actual(format!("{count}"))
                .exchange(&found.id)
                .into());
            }
        }
    }
    Ok(())
}

async fn refused_without_if_match(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let allowed: &[u16] = match world.run()?.profile {
        Profile::Apim => &[412],
        Profile::Gpc => &[409],
        Profile::All | Profile::Ukca => &[409, 412],
    };
    assert::status_is(&exchange, allowed)?;
    world.note(format!(
        "an update without If-Match was answered {} ({} profile: {})",
        exchange.status().unwrap_or(0),
        world.run()?.profile,
        match world.run()?.profile {
            Profile::Apim => "PDS answers 412 PRECONDITION_FAILED",
            Profile::Gpc => "GP Connect answers 409",
            _ => "409 or 412 accepted",
        }
    ));
    Ok(())
}

async fn location_names(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    let location = response.header("location").unwrap_or("");
    let kind = world
        .created
        .as_ref()
        .map_or("Observation".to_owned(), |c| c.resource_type.clone());
    let pattern = regex::Regex::new(&format!(
        r"(^|/){kind}/[A-Za-z0-9\-.]{{1,64}}(/_history/[A-Za-z0-9\-.]{{1,64}})?$"
    ))
    .map_err(|e| Halt::Error(e.to_string()))?;
    if pattern.is_match(location) {
        return Ok(());
    }
    Err(
        Failure::new("the create answer does not say where the new resource is")
            .expected(format!("Location: [base]/{kind}/<id>[/_history/<version>]"))
            .actual(if location.is_empty() {
                "no Location header".into()
            } else {
                format!("Location: {location}")
            })
            .exchange(&exchange.id)
            .into(),
    )
}

async fn body_is_created(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let kind = world
        .created
        .as_ref()
        .map_or("Observation".to_owned(), |c| c.resource_type.clone());
    let resource = assert::fhir_resource(&exchange, Some(&kind))?;
    let id = resource["id"].as_str();
    let named = created_id(&exchange).map(|(id, _)| id);
    if id.is_some() && (named.is_none() || named.as_deref() == id) {
        return Ok(());
    }
    Err(Failure::new("the body is not the created resource")
        .expected(format!("the {kind} with the id in Location"))
        .actual(format!("id {}", id.unwrap_or("missing")))
        .exchange(&exchange.id)
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::assert::tests::exchange;

    #[test]
    fn created_ids_come_from_location_or_body() {
        let with_location = exchange(
            201,
            &[("location", "https://x/FHIR/R4/Observation/obs-1/_history/3")],
            "",
        );
        assert_eq!(
            created_id(&with_location),
            Some(("obs-1".into(), Some("3".into())))
        );
        let plain = exchange(201, &[("location", "Observation/obs-2")], "");
        assert_eq!(created_id(&plain), Some(("obs-2".into(), None)));
        let body = exchange(
            201,
            &[],
            r#"{"resourceType":"Observation","id":"obs-3","meta":{"versionId":"1"}}"#,
        );
        assert_eq!(created_id(&body), Some(("obs-3".into(), Some("1".into()))));
    }
}
