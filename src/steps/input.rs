//! Hostile and malformed input: bodies, formats, sizes, injection strings, methods (catalogue §2.5).

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::catalogue::Profile;
use crate::checks::{Halt, assert, search};
use crate::report::Failure;

/// Largest oversized body mts sends (bounded, so a probe never turns into load).
const MAX_OVERSIZE_MIB: usize = 32;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Then,
        r#"^the oversized payload is refused early$"#,
        "the oversized payload is refused early",
        oversize_refused
    );
    step!(
        defs,
        Given,
        r#"^the request body is the "([a-z-]+)" sample$"#,
        r#"the request body is the "truncated-json" sample"#,
        body_sample
    );
    step!(
        defs,
        Given,
        r#"^the request body is an oversized Observation of (\d+) MiB$"#,
        "the request body is an oversized Observation of 4 MiB",
        oversized
    );
    step!(
        defs,
        Then,
        r#"^the request is refused as not acceptable$"#,
        "the request is refused as not acceptable",
        not_acceptable
    );
    step!(
        defs,
        Then,
        r#"^the status is a client error, or the searchset is empty$"#,
        "the status is a client error, or the searchset is empty",
        client_error_or_empty
    );
    step!(
        defs,
        Then,
        r#"^the body does not reflect "([^"]+)" unescaped$"#,
        r#"the body does not reflect "<script>" unescaped"#,
        not_reflected
    );
    step!(
        defs,
        Then,
        r#"^duplicate identifiers are rejected or combined with AND$"#,
        "duplicate identifiers are rejected or combined with AND",
        duplicates_rejected
    );
    step!(
        defs,
        Then,
        r#"^the method is refused as not allowed$"#,
        "the method is refused as not allowed",
        method_refused
    );
    step!(
        defs,
        Then,
        r#"^TRACE is disabled$"#,
        "TRACE is disabled",
        trace_disabled
    );
    step!(
        defs,
        Then,
        r#"^a CORS preflight from another origin is not granted credentialed access$"#,
        "a CORS preflight from another origin is not granted credentialed access",
        cors_preflight
    );
}

/// Named request bodies for malformed-input scenarios.
pub fn sample(name: &str, patient_id: &str) -> Option<Vec<u8>> {
    let observation = format!(
        r#"{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"27113001","display":"Body weight"}}]}},"subject":{{"reference":"Patient/{patient_id}"}}"#
    );
    Some(match name {
        "valid-observation" => format!("{observation}}}").into_bytes(),
        "truncated-json" => observation.as_bytes()[..observation.len() / 2].to_vec(),
        "json-array" => b"[]".to_vec(),
        "not-json" => b"status=final&code=27113001".to_vec(),
        "wrong-resource-type" => br#"{"resourceType":"Patient","gender":"female"}"#.to_vec(),
        "unknown-element" => format!(r#"{observation},"colour":"red"}}"#).into_bytes(),
        _ => return None,
    })
}

async fn body_sample(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let patient = world
        .data()?
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    let body = sample(args.get(0), &patient)
        .ok_or_else(|| Halt::Error(format!("no body sample named {}", args.get(0))))?;
    world.request_mut()?.body = Some(body);
    Ok(())
}

async fn oversized(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let mib: usize = args
        .get(0)
        .parse()
        .map_err(|_| Halt::Error("bad size".into()))?;
    let size = mib.min(MAX_OVERSIZE_MIB) * 1024 * 1024;
    let prefix = br#"{"resourceType":"Observation","status":"final","code":{"text":"oversize probe"},"note":[{"text":""#;
    let mut body = Vec::with_capacity(size + 64);
    body.extend_from_slice(prefix);
    body.resize(size, b'a');
    body.extend_from_slice(br#""}]}"#);
    world.request_mut()?.body = Some(body);
    Ok(())
}

async fn oversize_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    match (&exchange.response, &exchange.error) {
        (Some(response), _) if matches!(response.status, 400 | 413) => Ok(()),
        (Some(response), _) => Err(Failure::new(format!(
            "an oversized payload was answered {}",
            response.status
        ))
        .expected("413 or 400, early")
        .actual(format!("HTTP {}", response.status))
        .exchange(&exchange.id)
        .into()),
        // Closing the connection while the body is still arriving also refuses it early.
        (None, Some(error)) if error.kind == crate::http::TransportErrorKind::Protocol => {
            world.note(format!(
                "the server cut the upload short without an HTTP answer: {}",
                error.message
            ));
            Ok(())
        }
        (None, Some(error)) if error.kind == crate::http::TransportErrorKind::Timeout => Err(
            Failure::new("an oversized payload was not refused within the deadline")
                .expected("413 or 400, early")
                .actual(error.message.clone())
                .exchange(&exchange.id)
                .into(),
        ),
        _ => assert::response(&exchange).map(|_| ()),
    }
}

async fn not_acceptable(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let allowed: &[u16] = if world.run()?.profile == Profile::Gpc {
        &[406, 415]
    } else {
        &[406]
    };
    assert::status_is(&exchange, allowed)?;
    assert::operation_outcome(&exchange).map(|_| ())
}

async fn client_error_or_empty(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    if (400..500).contains(&response.status) {
        return assert::operation_outcome(&exchange).map(|_| ());
    }
    if response.status == 200
        && let Some(bundle) = response
            .resource()
            .filter(|r| r["resourceType"] == "Bundle")
        && search::matches(bundle).is_empty()
    {
        return Ok(());
    }
    Err(
        Failure::new(format!("a hostile value was answered {}", response.status))
            .expected("a 4xx OperationOutcome, or an empty searchset: the value handled as data")
            .actual(format!(
                "HTTP {} {}",
                response.status,
                assert::preview(&response.body.text())
            ))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn not_reflected(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let text = assert::response(&exchange)?.body.text();
    if !text.contains(args.get(0)) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the response reflects `{}` as it was sent",
        args.get(0)
    ))
    .expected("hostile markup escaped or left out")
    .actual(assert::preview(&text))
    .exchange(&exchange.id)
    .into())
}

async fn duplicates_rejected(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    if response.status == 400 {
        world.note("duplicate identifier parameters were rejected with 400 (GP Connect behaviour)");
        return assert::operation_outcome(&exchange).map(|_| ());
    }
    if response.status == 200
        && let Some(bundle) = response
            .resource()
            .filter(|r| r["resourceType"] == "Bundle")
    {
        if search::matches(bundle).is_empty() {
            world.note("duplicate identifier parameters were combined with AND, matching nothing (FHIR R4 semantics)");
            return Ok(());
        }
        return Err(
            Failure::new("two different NHS numbers were merged into one search")
                .expected("400, or AND semantics (no patient has both NHS numbers)")
                .actual(search::match_keys(bundle).join(", "))
                .exchange(&exchange.id)
                .into(),
        );
    }
    Err(Failure::new(format!(
        "duplicate identifier parameters were answered {}",
        response.status
    ))
    .expected("400, or 200 with AND semantics")
    .actual(format!("HTTP {}", response.status))
    .exchange(&exchange.id)
    .into())
}

async fn method_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let allowed: &[u16] = if world.run()?.profile == Profile::Gpc {
        &[405, 404, 400]
    } else {
        &[405]
    };
    assert::status_is(&exchange, allowed)?;
    assert::operation_outcome(&exchange)?;
    if exchange.status() == Some(405) && assert::response(&exchange)?.header("allow").is_none() {
        world.note(format!(
            "{} answered 405 without an Allow header (RFC 9110 asks for one)",
            exchange.summary_request()
        ));
    }
    Ok(())
}

async fn trace_disabled(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    if (200..300).contains(&response.status) {
        return Err(Failure::new("TRACE is enabled")
            .expected("TRACE refused (405, 501 or another 4xx)")
            .actual(format!(
                "HTTP {} {}",
                response.status,
                response.media_type().unwrap_or_default()
            ))
            .exchange(&exchange.id)
            .into());
    }
    assert::status_is_not_server_error(&exchange)
}

async fn cors_preflight(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let patient = world
        .data()?
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    let mut spec = crate::http::RequestSpec::get(format!("Patient/{patient}"));
    spec.method = "OPTIONS".into();
    spec.with_credentials = false;
    spec.set_header("Origin", "https://evil.example");
    spec.set_header("Access-Control-Request-Method", "GET");
    spec.set_header(
        "Access-Control-Request-Headers",
        "authorization, x-request-id",
    );
    let exchange = world.send(&spec).await?;
    let response = assert::response(&exchange)?;
    let Some(allow_origin) = response.header("access-control-allow-origin") else {
        world.note(
            "the API answers no CORS preflight (browser clients from other origins are refused)",
        );
        return Ok(());
    };
    if let Some(Err(problem)) =
        crate::checks::security::cors(response, Some("https://evil.example"))
    {
        return Err(Failure::new(
            "a preflight from an arbitrary origin is granted credentialed access",
        )
        .expected("no Access-Control-Allow-Credentials: true for * or an echoed arbitrary origin")
        .actual(problem)
        .exchange(&exchange.id)
        .into());
    }
    let methods = response
        .header("access-control-allow-methods")
        .unwrap_or("");
    if !methods.to_ascii_uppercase().contains("GET") {
        world.note(format!(
            "the preflight allows origin {allow_origin} but lists methods `{methods}` without GET"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_what_they_say() {
        let valid = sample("valid-observation", "1").unwrap();
        assert!(serde_json::from_slice::<serde_json::Value>(&valid).is_ok());
        assert!(
            serde_json::from_slice::<serde_json::Value>(&sample("truncated-json", "1").unwrap())
                .is_err()
        );
        let unknown: serde_json::Value =
            serde_json::from_slice(&sample("unknown-element", "1").unwrap()).unwrap();
        assert_eq!(unknown["colour"], "red");
        assert!(sample("nope", "1").is_none());
    }
}
