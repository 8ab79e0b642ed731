//! Write steps (only with --allow-writes; scenarios tagged @writes): create, retry with the same
//! X-Request-ID, Prefer, and If-Match concurrency.

use std::sync::Arc;

use serde_json::{Value, json};

use super::library::{Args, StepDefinition, step};
use super::world::{Created, MtsWorld, UpdateHow};
use crate::catalogue::Profile;
use crate::checks::{Halt, assert, search};
use crate::http::{Exchange, RequestIdMode, RequestSpec};
use crate::report::Failure;
use crate::target::derive::WriteTarget;
use crate::target::{Interaction, PatchStyle};

/// The identifier system mts stamps on what it creates, so a run's data can be found and told
/// apart from real records.
pub const TEST_IDENTIFIER_SYSTEM: &str = "https://mts.invalid/test-data";

mod prepare;

use prepare::*;
pub(crate) use prepare::{
    create_body, restore_if_taken, test_identifier, valid_write, write_target,
};

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
        r#"^a resource to update$"#,
        "a resource to update",
        resource_to_update
    );
    step!(
        defs,
        Given,
        r#"^a write the target takes$"#,
        "a write the target takes",
        valid_write_step
    );
    step!(
        defs,
        Given,
        r#"^the request body is the test patient's record$"#,
        "the request body is the test patient's record",
        patient_record_body
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
        r#"^the request header "If-Match" is (the current|a stale) ETag(, where it has one)?$"#,
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
        When,
        r#"^the created resource is read back$"#,
        "the created resource is read back",
        read_back
    );
    step!(
        defs,
        When,
        r#"^the updated resource is read back$"#,
        "the updated resource is read back",
        read_back_update
    );
    step!(
        defs,
        Then,
        r#"^the read holds every element that was written$"#,
        "the read holds every element that was written",
        holds_what_was_written
    );
    step!(
        defs,
        Given,
        r#"^a new test resource to create only if none with its test identifier exists$"#,
        "a new test resource to create only if none with its test identifier exists",
        conditional_resource
    );
    step!(
        defs,
        When,
        r#"^the request is sent twice, each time with its own X-Request-ID$"#,
        "the request is sent twice, each time with its own X-Request-ID",
        send_twice_afresh
    );
    step!(
        defs,
        Then,
        r#"^the second create made nothing new$"#,
        "the second create made nothing new",
        conditional_no_duplicate
    );
    step!(
        defs,
        Then,
        r#"^a stale update is refused as the profile requires$"#,
        "a stale update is refused as the profile requires",
        refused_when_stale
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

/// The test patient's own current record as the body: a probe a lax server took would store
/// what is already there.
async fn patient_record_body(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let patient = read_test_patient(world).await?;
    world.request_mut()?.body = Some(patient.body.to_string().into_bytes());
    Ok(())
}

async fn valid_write_step(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (_, spec) = valid_write(world).await?;
    world.request = Some(spec);
    Ok(())
}

async fn new_resource(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    match write_target(world)? {
        WriteTarget::Create { kind } => {
            let body = create_body(world, &kind)?;
            world.request = Some(post(&body));
            world.created = Some(Created {
                resource_type: kind,
                id: String::new(),
                version: String::new(),
                body,
                how: None,
            });
            Ok(())
        }
        other => Err(Halt::not_declared(format!(
            "the target declares no create mts can use (its writes are a {})",
            other.describe()
        ))),
    }
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

/// A resource this scenario may update: one it creates where the target takes creates and
/// updates (or patches) of the same type, else the existing test patient where the target
/// takes a patch or update of it.
async fn resource_to_update(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let run = world.run()?.clone();
    let target = write_target(world)?;
    let how = |kind: &str| -> Option<UpdateHow> {
        let declared = run.model.resource(kind);
        if declared.is_some_and(|r| r.offers(Interaction::Update)) {
            return Some(UpdateHow::Put);
        }
        if let Some(patch) = declared.filter(|r| r.offers(Interaction::Patch)) {
            return Some(UpdateHow::Patch(
                patch.patch.clone().unwrap_or_else(PatchStyle::json_patch),
            ));
        }
        // Not declared, but the declarations are no complete list: try a PUT.
        (!run.model.is_complete()).then_some(UpdateHow::Put)
    };
    let patient_how = how("Patient");
    match (&target, patient_how) {
        (WriteTarget::Create { kind }, _) if how(kind).is_some() => {
            let body = create_body(world, kind)?;
            let exchange = world.send(&post(&body)).await?;
            let status = assert::response(&exchange)?.status;
            // Whether the create itself answered as FHIR says is API-HDR-008's question; here
            // any success that names the new resource will do.
            let named = (200..300)
                .contains(&status)
                .then(|| created_id(&exchange))
                .flatten();
            let Some((id, version)) = named else {
                return Err(Halt::Error(format!(
                    "could not create the test resource to update ({}: {}), so there is nothing to update; see API-HDR-008",
                    exchange.summary(),
                    if (200..300).contains(&status) {
                        "no Location header and no id in the body"
                    } else {
                        "not a success"
                    }
                )));
            };
            let version = version_of(&exchange).or(version).unwrap_or_default();
            world.created = Some(Created {
                resource_type: kind.clone(),
                id,
                version,
                body,
                how: how(kind),
            });
            Ok(())
        }
        (_, Some(patient_how)) => {
            let mut patient = read_test_patient(world).await?;
            patient.how = Some(patient_how);
            world.created = Some(patient);
            Ok(())
        }
        _ => Err(Halt::not_declared(format!(
            "the target declares no update or patch mts can use (its writes are a {})",
            target.describe()
        ))),
    }
}

async fn update_request(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let resource = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource to update in this scenario".into()))?;
    let mut spec = match &resource.how {
        Some(UpdateHow::Patch(style)) => patch_request(&resource, style),
        _ => {
            let mut body = resource.body.clone();
            if body["resourceType"] == "Observation" {
                body["valueQuantity"]["value"] = json!(73);
            }
            // What is written now, for a later read-back to compare with.
            if let Some(created) = world.created.as_mut() {
                created.body = body.clone();
            }
            put_request(&resource, body)
        }
    };
    // The scenario decides whether If-Match is sent, and which.
    spec.headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("if-match"));
    world.request = Some(spec);
    Ok(())
}

/// API-HDR-006 judges version-aware updates only: a resource served with no version has none.
fn unversioned(created: &crate::steps::world::Created) -> Halt {
    Halt::nothing_to_judge(format!(
        "{}/{} came with no version (no ETag, no meta.versionId): its updates are not version-aware, which API-HDR-006 exempts",
        created.resource_type, created.id
    ))
}

async fn if_match(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource was created in this scenario".into()))?;
    if created.version.is_empty() {
        if !args.get(1).is_empty() {
            // An unversioned resource takes its update without If-Match.
            return Ok(());
        }
        return Err(unversioned(&created));
    }
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
    let same = RequestIdMode::Value(uuid::Uuid::new_v4().to_string());
    send_request_twice(world, same).await
}

/// Sends the request twice, the first answer kept as the baseline.
async fn send_request_twice(world: &mut MtsWorld, request_id: RequestIdMode) -> Result<(), Halt> {
    let mut spec = world.request_mut()?.clone();
    spec.request_id = request_id;
    let first = world.send(&spec).await?;
    world.baseline = Some(first);
    world.send(&spec).await?;
    Ok(())
}

/// The two answers of `send_request_twice`.
fn both_answers(world: &MtsWorld) -> Result<(Arc<Exchange>, Arc<Exchange>), Halt> {
    let first = world
        .baseline
        .clone()
        .ok_or_else(|| Halt::Error("no first attempt".into()))?;
    Ok((first, world.last()?.clone()))
}

async fn no_duplicate(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (first, second) = both_answers(world)?;
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
    one_with_test_identifier(world, "one create and its retry").await
}

/// Where the target searches the created type by identifier, exactly one resource carries the
/// test identifier of what was created (`after` says after what, for the message).
async fn one_with_test_identifier(world: &mut MtsWorld, after: &str) -> Result<(), Halt> {
    let Some(created) = world.created.clone() else {
        return Ok(());
    };
    let identifier = test_identifier(&created.body).map(str::to_owned);
    let run = world.run()?.clone();
    let searchable = matches!(
        run.model
            .offers_search_by(&created.resource_type, "identifier"),
        crate::target::Offer::Declared(_)
    );
    if let (Some(identifier), true) = (identifier, searchable) {
        let mut spec = RequestSpec::get(created.resource_type.clone());
        spec.query.push((
            "identifier".into(),
            format!("{TEST_IDENTIFIER_SYSTEM}|{identifier}"),
        ));
        let found = world.send(&spec).await?;
        if let Some(bundle) = assert::response(&found)?.resource() {
            let count = search::matches(bundle).len();
            if count != 1 {
                return Err(Failure::new(format!(
                    "{count} resources carry the test identifier after {after}"
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

/// A create of the write target's type with `If-None-Exist` on its own test identifier, where
/// the target declares conditional create of that type (an optional FHIR feature: a server that
/// does not declare it is not held to it).
async fn conditional_resource(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    new_resource(world, args).await?;
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("no resource to create".into()))?;
    let run = world.run()?.clone();
    let kind = &created.resource_type;
    if !conditional_create_declared(world, kind)? {
        if run.model.is_complete() {
            return Err(Halt::not_declared(format!(
                "the target declares no conditional create of {kind} (CapabilityStatement rest.resource.conditionalCreate), the type mts creates"
            )));
        }
        world.note(format!(
            "nothing declares whether {kind} takes conditional creates, so mts sends one anyway; a server that ignores If-None-Exist does not offer them"
        ));
    }
    let identifier = test_identifier(&created.body)
        .ok_or_else(|| Halt::Error("the body to create carries no test identifier".into()))?;
    world.request_mut()?.set_header(
        "If-None-Exist",
        format!("identifier={TEST_IDENTIFIER_SYSTEM}|{identifier}"),
    );
    Ok(())
}

/// Both sends get a fresh X-Request-ID, so a server that recognises retries by it cannot pass
/// for one that honours If-None-Exist.
async fn send_twice_afresh(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    send_request_twice(world, RequestIdMode::Fresh).await
}

/// Whether the target declares conditional create of `kind`.
fn conditional_create_declared(world: &MtsWorld, kind: &str) -> Result<bool, Halt> {
    Ok(world
        .run()?
        .model
        .resource(kind)
        .is_some_and(|r| r.conditional_create))
}

/// FHIR R4 (http.html, conditional create): one match, and the server ignores the create and
/// answers 200 OK; the first create, with none, answers 201.
async fn conditional_no_duplicate(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let (first, second) = both_answers(world)?;
    let kind = world
        .created
        .as_ref()
        .map(|c| c.resource_type.clone())
        .unwrap_or_default();
    if !conditional_create_declared(world, &kind)? {
        // Sent only because nothing is declared: a server that honours If-None-Exist is judged,
        // one that does not shows it does not offer conditional create (optional in FHIR R4).
        let (first_status, second_status) = (first.status(), second.status());
        if first_status != Some(201) {
            return Err(Halt::nothing_to_judge(format!(
                "the first create was answered {} rather than 201 Created ({}), so whether If-None-Exist is honoured cannot be told, and nothing declares conditional create",
                first_status.map_or("with no status".into(), |s| s.to_string()),
                first.summary()
            )));
        }
        if second_status != Some(200) {
            return Err(Halt::endpoint_absent(format!(
                "the server did not ignore a create whose If-None-Exist matched ({}), so it does not offer conditional create, which nothing declared",
                second.summary()
            )));
        }
    }
    if assert::response(&first)?.status != 201 {
        return Err(Failure::new(
            "the first conditional create, with nothing matching, did not create",
        )
        .expected("201 Created")
        .actual(first.summary())
        .exchange(&first.id)
        .into());
    }
    let status = assert::response(&second)?.status;
    if status != 200 {
        let made = if status == 201 {
            format!(
                "201 Created, id {}",
                created_id(&second).map_or("none".into(), |(id, _)| id)
            )
        } else {
            format!("HTTP {status}")
        };
        return Err(Failure::new(
            "a conditional create whose If-None-Exist matched the resource just created was not ignored",
        )
        .expected("200 OK, nothing created")
        .actual(made)
        .exchange(&second.id)
        .into());
    }
    one_with_test_identifier(world, "two conditional creates").await
}

/// A stale If-Match: FHIR R4 (http.html, managing resource contention) and RFC 9110 §13.1.1
/// answer 412 Precondition Failed; GP Connect answers 409, and the PDS specification names 409
/// RESOURCE_VERSION_MISMATCH. Under gpc 409 is required; elsewhere either, and the report says
/// which the server chose.
async fn refused_when_stale(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let profile = world.run()?.profile;
    let allowed: &[u16] = match profile {
        Profile::Gpc => &[409],
        Profile::All | Profile::Apim | Profile::Ukca => &[409, 412],
    };
    assert::status_is(&exchange, allowed)?;
    world.note(format!(
        "an update with a stale If-Match was answered {} ({profile} profile accepts {})",
        exchange.status().unwrap_or(0),
        if profile == Profile::Gpc {
            "409"
        } else {
            "409 or 412"
        }
    ));
    Ok(())
}

/// An update without If-Match: PDS (apim) answers 412 PRECONDITION_FAILED and GP Connect 409.
/// FHIR R4 leaves it to the server, so elsewhere the refusal is required only where the target
/// declares If-Match required (`[target.declares.<Type>] if-match-required`, or its OpenAPI
/// document marks the header required); otherwise taking the update is also conformant. A
/// refusal must be an OperationOutcome.
async fn refused_without_if_match(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let run = world.run()?.clone();
    if let Some(created) = world.created.as_ref().filter(|c| c.version.is_empty()) {
        return Err(unversioned(created));
    }
    let kind = world
        .created
        .as_ref()
        .map_or("Patient", |c| c.resource_type.as_str());
    let declared_required = run
        .model
        .resource(kind)
        .is_some_and(|r| r.if_match_required);
    let status = exchange.status().unwrap_or(0);
    let (allowed, why): (&[u16], &str) = match run.profile {
        Profile::Apim => (&[412], "PDS answers 412 PRECONDITION_FAILED"),
        Profile::Gpc => (&[409], "GP Connect answers 409"),
        Profile::All | Profile::Ukca if declared_required => (
            &[409, 412],
            "the target declares If-Match required; 409 or 412 accepted",
        ),
        Profile::All | Profile::Ukca => (
            &[409, 412],
            "FHIR R4 lets the server choose whether If-Match is required, and the target does not declare it required: a success or 409/412 accepted",
        ),
    };
    // Where the server may choose, any success (200, or 204 with return=minimal) is taking it.
    let may_take = matches!(run.profile, Profile::All | Profile::Ukca) && !declared_required;
    if !(may_take && (200..300).contains(&status)) {
        assert::status_is(&exchange, allowed)?;
    }
    // A refusal explains itself; an update the profile lets the server take has nothing to.
    if status >= 400 {
        assert::operation_outcome(&exchange)?;
    }
    world.note(format!(
        "an update without If-Match was answered {status} ({} profile: {why})",
        run.profile
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

/// Reads the resource the last create named (Location, else the body's id).
async fn read_back(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let kind = world
        .created
        .as_ref()
        .map_or("Observation".to_owned(), |c| c.resource_type.clone());
    let status = assert::response(&exchange)?.status;
    if !(200..300).contains(&status) {
        return Err(
            Failure::new(format!("the create of a valid {kind} was refused"))
                .expected("201 Created")
                .actual(exchange.summary())
                .exchange(&exchange.id)
                .into(),
        );
    }
    let Some((id, _)) = created_id(&exchange) else {
        // FHIR R4 (http.html, create): the server SHALL answer with a Location.
        return Err(
            Failure::new("the create answer names no id to read the resource back by")
                .expected(format!(
                    "Location: [base]/{kind}/<id>, or the created {kind} with its id"
                ))
                .actual(exchange.summary())
                .exchange(&exchange.id)
                .into(),
        );
    };
    world
        .send(&RequestSpec::get(format!("{kind}/{id}")))
        .await?;
    Ok(())
}

/// Reads the resource the last update changed, once the update succeeded.
async fn read_back_update(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("nothing was updated".into()))?;
    let status = assert::response(&exchange)?.status;
    if !(200..300).contains(&status) {
        return Err(Failure::new(format!(
            "the update of a valid {} was refused",
            created.resource_type
        ))
        .expected("200 OK")
        .actual(exchange.summary())
        .exchange(&exchange.id)
        .into());
    }
    world
        .send(&RequestSpec::get(format!(
            "{}/{}",
            created.resource_type, created.id
        )))
        .await?;
    Ok(())
}

/// Every element sent in the create (bar `id` and `meta`, which the server assigns) comes back
/// in the read as it was written: nothing dropped, nothing changed.
async fn holds_what_was_written(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let created = world
        .created
        .clone()
        .ok_or_else(|| Halt::Error("nothing was created".into()))?;
    if assert::response(&exchange)?.status != 200 {
        return Err(Failure::new(format!(
            "the {} that was written could not be read back",
            created.resource_type
        ))
        .expected("200 with the resource as written")
        .actual(exchange.summary())
        .exchange(&exchange.id)
        .into());
    }
    let read = assert::fhir_resource(&exchange, Some(&created.resource_type))?;
    let mut lost = Vec::new();
    for (key, sent) in created.body.as_object().into_iter().flatten() {
        if !matches!(key.as_str(), "id" | "meta" | "resourceType") {
            differences(key, sent, &read[key], &mut lost);
        }
    }
    if lost.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the {} read back lacks or changed what was written",
        created.resource_type
    ))
    .expected("every element written, as sent")
    .actual(lost.join("; "))
    .exchange(&exchange.id)
    .into())
}

/// Where `read` lacks or differs from `sent`: objects may gain elements (a server adds
/// narrative or extensions), arrays keep their items in order, values are equal (numbers by
/// value, so 72 and 72.0 agree).
fn differences(path: &str, sent: &Value, read: &Value, out: &mut Vec<String>) {
    match (sent, read) {
        (_, Value::Null) => out.push(format!("{path} missing")),
        (Value::Object(sent), Value::Object(read)) => {
            for (key, value) in sent {
                differences(
                    &format!("{path}.{key}"),
                    value,
                    read.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(sent), Value::Array(read)) if sent.len() <= read.len() => {
            for (index, value) in sent.iter().enumerate() {
                differences(&format!("{path}[{index}]"), value, &read[index], out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (sent, read) if sent == read => {}
        (sent, read) => out.push(format!("{path} sent {sent}, read {read}")),
    }
}

#[cfg(test)]
mod tests;
