//! Hostile and malformed input: bodies, formats, sizes, injection strings, methods (catalogue §2.5).

use serde_json::{Value, json};

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, UpdateHow};
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
        r#"^the request body is padded to (\d+) MiB$"#,
        "the request body is padded to 4 MiB",
        oversized
    );
    step!(
        defs,
        Then,
        r#"^the body's media type is refused as unsupported$"#,
        "the body's media type is refused as unsupported",
        unsupported_media_refused
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

/// A malformed version of a valid write body, by name. Resource bodies (create, update) and
/// JSON Patch bodies go wrong in their own ways; each sample is something a server must refuse,
/// and none would change data if a lax server took it (a patch's operations are invalid, not
/// merely unusual).
pub fn sample(name: &str, valid: &Value, patch_envelope: Option<Option<&str>>) -> Option<Vec<u8>> {
    let text = valid.to_string();
    Some(match (name, patch_envelope) {
        ("truncated-json", _) => text.as_bytes()[..text.len() / 2].to_vec(),
        // A resource where an array came; for a patch, the operations without their envelope,
        // or one operation without the array.
        ("wrong-shape", None) => json!([valid]).to_string().into_bytes(),
        ("wrong-shape", Some(Some(member))) => valid[member].to_string().into_bytes(),
        ("wrong-shape", Some(None)) => valid[0].to_string().into_bytes(),
        ("wrong-type", None) => {
            let mut body = valid.clone();
            body["resourceType"] = json!(if valid["resourceType"] == "Patient" {
                "Observation"
            } else {
                "Patient"
            });
            body.to_string().into_bytes()
        }
        ("wrong-type", Some(envelope)) => with_operations(
            json!([{"op": "frobnicate", "path": "/gender", "value": "female"}]),
            envelope,
        ),
        ("unknown-content", None) => {
            let mut body = valid.clone();
            body["mtsUnknownElement"] = json!("red");
            body.to_string().into_bytes()
        }
        // A path that is not a JSON Pointer (RFC 6901 pointers start with "/").
        ("unknown-content", Some(envelope)) => with_operations(
            json!([{"op": "replace", "path": "gender", "value": "female"}]),
            envelope,
        ),
        _ => return None,
    })
}

fn with_operations(operations: Value, envelope: Option<&str>) -> Vec<u8> {
    match envelope {
        Some(member) => json!({ member: operations }).to_string().into_bytes(),
        None => operations.to_string().into_bytes(),
    }
}

/// The patch envelope of the scenario's write, when it is a patch: `Some(Some("patches"))` for
/// PDS, `Some(None)` for a bare RFC 6902 array, `None` for a resource body.
fn patch_envelope(world: &MtsWorld) -> Result<Option<Option<String>>, Halt> {
    Ok(if world.request_mut_ref()?.method == "PATCH" {
        Some(match world.created.as_ref().and_then(|c| c.how.as_ref()) {
            Some(UpdateHow::Patch(style)) => style.envelope.clone(),
            _ => world
                .run()?
                .model
                .resource("Patient")
                .and_then(|p| p.patch.as_ref())
                .and_then(|p| p.envelope.clone()),
        })
    } else {
        None
    })
}

async fn body_sample(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let envelope = patch_envelope(world)?;
    let request = world.request_mut()?;
    let valid: Value = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| Halt::Error("the write has no valid JSON body to start from".into()))?;
    let body = sample(args.get(0), &valid, envelope.as_ref().map(|e| e.as_deref()))
        .ok_or_else(|| Halt::Error(format!("no body sample named {}", args.get(0))))?;
    let replaces_existing = request.method == "PUT";
    request.body = Some(body);
    // A lax server may store a malformed update of the test patient: put its record back then.
    if replaces_existing {
        world.restore_after_send = world.created.clone();
    }
    Ok(())
}

/// Pads the write's valid body to the size asked for without changing what it says: JSON
/// whitespace inside a resource body (so a server that took it, even an update of the test
/// patient, would store what the valid write stores), a `test` operation (which fails, so the
/// patch changes nothing) for a patch.
async fn oversized(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let mib: usize = args
        .get(0)
        .parse()
        .map_err(|_| Halt::Error("bad size".into()))?;
    let size = mib.min(MAX_OVERSIZE_MIB) * 1024 * 1024;
    let envelope = patch_envelope(world)?;
    let request = world.request_mut()?;
    let mut valid: Value = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| Halt::Error("the write has no valid JSON body to start from".into()))?;
    let body = match &envelope {
        None => padded_with_whitespace(&valid, size),
        Some(envelope) => {
            let padding = "a".repeat(size);
            let operation = json!({"op": "test", "path": "/id", "value": padding});
            let list = match envelope {
                Some(member) => &mut valid[member.as_str()],
                None => &mut valid,
            };
            if let Some(operations) = list.as_array_mut() {
                operations.push(operation);
            }
            valid.to_string().into_bytes()
        }
    };
    request.body = Some(body);
    Ok(())
}

/// `value` serialised with `size` bytes of insignificant whitespace after its opening brace,
/// so a parser has to read through all of it.
fn padded_with_whitespace(value: &Value, size: usize) -> Vec<u8> {
    let text = value.to_string();
    let (open, rest) = text.split_at(text.find('{').map_or(0, |i| i + 1));
    let mut body = Vec::with_capacity(text.len() + size);
    body.extend_from_slice(open.as_bytes());
    body.extend(std::iter::repeat_n(b' ', size));
    body.extend_from_slice(rest.as_bytes());
    body
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

/// 415 (RFC 9110 §15.5.16, FHIR R4). The NHS API platform's PDS answers an unsupported patch
/// media type with 400 UNSUPPORTED_SERVICE, so under apim a PATCH may be refused with 400 too
/// (catalogue SEC-INP-002; the report says which applied).
async fn unsupported_media_refused(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let patch_under_apim =
        world.run()?.profile == Profile::Apim && exchange.request.method == "PATCH";
    let allowed: &[u16] = if patch_under_apim {
        &[415, 400]
    } else {
        &[415]
    };
    assert::status_is(&exchange, allowed)?;
    if exchange.status() == Some(400) {
        world.note(
            "a patch in an unsupported media type was refused with 400, which the apim profile accepts (PDS answers UNSUPPORTED_SERVICE); FHIR and RFC 9110 give 415",
        );
    }
    assert::operation_outcome(&exchange).map(|_| ())
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
    // A refusal is handling the value as data; whether the refusal is an OperationOutcome is
    // API-ERR-001's question (the catalogue asks no more of SEC-INP-005).
    if (400..500).contains(&response.status) {
        return Ok(());
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
    // As a browser sends it: a preflight carries no custom headers, only the names of those the
    // real request would (Access-Control-Request-Headers).
    spec.request_id = crate::http::RequestIdMode::Omit;
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
    fn samples_are_malformed_versions_of_the_valid_body() {
        let resource = json!({"resourceType": "Observation", "status": "final"});
        let parse = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes);
        assert!(parse(sample("truncated-json", &resource, None).unwrap()).is_err());
        assert!(
            parse(sample("wrong-shape", &resource, None).unwrap())
                .unwrap()
                .is_array()
        );
        assert_eq!(
            parse(sample("wrong-type", &resource, None).unwrap()).unwrap()["resourceType"],
            "Patient"
        );
        assert_eq!(
            parse(sample("unknown-content", &resource, None).unwrap()).unwrap()["mtsUnknownElement"],
            "red"
        );
        assert!(sample("nope", &resource, None).is_none());

        // Patches: the envelope PDS declares, and a bare RFC 6902 array.
        let operations = json!([{"op": "replace", "path": "/gender", "value": "female"}]);
        let enveloped = json!({"patches": operations});
        assert!(
            parse(sample("wrong-shape", &enveloped, Some(Some("patches"))).unwrap())
                .unwrap()
                .is_array()
        );
        assert!(
            parse(sample("wrong-shape", &operations, Some(None)).unwrap())
                .unwrap()
                .is_object()
        );
        assert_eq!(
            parse(sample("wrong-type", &enveloped, Some(Some("patches"))).unwrap()).unwrap()["patches"]
                [0]["op"],
            "frobnicate"
        );
        assert_eq!(
            parse(sample("unknown-content", &operations, Some(None)).unwrap()).unwrap()[0]["path"],
            "gender"
        );
    }
}
