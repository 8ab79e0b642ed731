//! Transactions and batches (only with --allow-writes): a transaction is applied whole or not at
//! all, a batch answers each entry on its own. Entries create the type mts writes, each with a
//! fresh test identifier, so what a server wrote can be found again.

use std::sync::Arc;

use serde_json::{Value, json};

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use super::writes::{TEST_IDENTIFIER_SYSTEM, create_body, test_identifier, write_target};
use crate::checks::{Halt, assert, search};
use crate::http::{Exchange, RequestSpec};
use crate::report::Failure;
use crate::target::Offer;
use crate::target::derive::WriteTarget;

/// The type the entry a server must refuse is sent to: none FHIR R4 defines.
const UNDEFINED_TYPE: &str = "MtsUndefinedType";

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^a (transaction|batch) Bundle of ([1-9]) new test resources?$"#,
        "a transaction Bundle of 2 new test resources",
        bundle_of_creates
    );
    step!(
        defs,
        When,
        r#"^a (transaction|batch) Bundle of a new test resource and an entry the server must refuse is sent$"#,
        "a transaction Bundle of a new test resource and an entry the server must refuse is sent",
        send_bundle_with_refusal
    );
    step!(
        defs,
        Then,
        r#"^the server took the "(transaction|batch)" at all$"#,
        r#"the server took the "transaction" at all"#,
        took_at_all
    );
    step!(
        defs,
        Then,
        r#"^every entry of the Bundle was created, each readable where the answer says$"#,
        "every entry of the Bundle was created, each readable where the answer says",
        every_entry_created
    );
    step!(
        defs,
        Then,
        r#"^the transaction was refused whole and nothing of it was written$"#,
        "the transaction was refused whole and nothing of it was written",
        refused_whole
    );
    step!(
        defs,
        Then,
        r#"^the batch answered every entry on its own, the new test resource created$"#,
        "the batch answered every entry on its own, the new test resource created",
        batch_each_on_its_own
    );
}

/// The type mts creates on this target, or why it creates none.
fn create_type(world: &MtsWorld) -> Result<String, Halt> {
    match write_target(world)? {
        WriteTarget::Create { kind } => Ok(kind),
        other => Err(Halt::not_declared(format!(
            "the target declares no create mts can use in a Bundle (its writes are a {})",
            other.describe()
        ))),
    }
}

fn entry(resource: Value, url: &str) -> Value {
    json!({
        "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "resource": resource,
        "request": {"method": "POST", "url": url}
    })
}

/// Makes the Bundle the scenario's request: `refused` adds, after `creates` creates, one more
/// that a server must refuse (a valid resource sent to a type FHIR R4 does not define).
fn prepare(world: &mut MtsWorld, kind: &str, creates: usize, refused: bool) -> Result<(), Halt> {
    let resource_type = create_type(world)?;
    let mut entries = Vec::new();
    for _ in 0..creates {
        entries.push(entry(create_body(world, &resource_type)?, &resource_type));
    }
    if refused {
        entries.push(entry(create_body(world, &resource_type)?, UNDEFINED_TYPE));
    }
    let bundle = json!({"resourceType": "Bundle", "type": kind, "entry": entries});
    let mut spec = RequestSpec::get("");
    spec.method = "POST".into();
    spec.set_header("Content-Type", "application/fhir+json");
    spec.body = Some(bundle.to_string().into_bytes());
    world.request = Some(spec);
    world.sent_bundle = Some(bundle);
    Ok(())
}

async fn bundle_of_creates(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let count = args
        .get(1)
        .parse()
        .map_err(|_| Halt::Error(format!("\"{}\" is no count", args.get(1))))?;
    prepare(world, args.get(0), count, false)
}

async fn send_bundle_with_refusal(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    prepare(world, args.get(0), 1, true)?;
    let spec = world.request_mut()?.clone();
    world.send(&spec).await?;
    Ok(())
}

/// Where the interaction was declared, the answer is judged whatever it is; where nothing
/// declared it, a refusal says the server does not offer it.
async fn took_at_all(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let kind = args.get(0);
    let exchange = world.last()?.clone();
    super::compartment::processed(&exchange)?;
    let offer = world.run()?.model.offers_system(kind);
    if matches!(offer, Offer::Declared(_)) {
        // Declared: whatever the answer, the next step judges it.
        return Ok(());
    }
    // Undeclared, a success that is no `<kind>-response` Bundle (a landing page, a stored
    // Bundle) is a base URL that does not take them, not a broken transaction.
    let answer_type = format!("{kind}-response");
    let answered_as_such = exchange
        .response
        .as_ref()
        .and_then(|r| r.resource())
        .is_some_and(|b| b["resourceType"] == "Bundle" && b["type"] == answer_type.as_str());
    if exchange.status().is_some_and(|s| (200..300).contains(&s)) && !answered_as_such {
        return Err(Halt::endpoint_absent(format!(
            "the server answered a {kind} Bundle with no {answer_type} ({}), and declares no {kind} interaction, so it does not take them",
            exchange.summary()
        )));
    }
    // Not declared, so `refused` never calls its `declared` rule.
    super::compartment::refused(
        &exchange,
        &offer,
        &format!("the {kind} interaction"),
        Halt::endpoint_absent,
    )
}

/// The entries mts sent, with the test identifier each carries.
fn sent_entries(world: &MtsWorld) -> Result<Vec<(String, String)>, Halt> {
    let bundle = world
        .sent_bundle
        .as_ref()
        .ok_or_else(|| Halt::Error("no Bundle was prepared".into()))?;
    Ok(search::entries(bundle)
        .filter_map(|e| {
            let resource = &e["resource"];
            Some((
                resource["resourceType"].as_str()?.to_owned(),
                test_identifier(resource)?.to_owned(),
            ))
        })
        .collect())
}

/// The `response` part of each entry of a `<kind>-response` Bundle, or why the answer is none.
fn response_entries<'a>(
    exchange: &'a Exchange,
    kind: &str,
    expected: usize,
) -> Result<Vec<&'a Value>, Halt> {
    let answer_type = format!("{kind}-response");
    assert::status_is(exchange, &[200])?;
    let bundle = assert::fhir_resource(exchange, Some("Bundle"))?;
    let entries: Vec<&Value> = search::entries(bundle).map(|e| &e["response"]).collect();
    let problem = if bundle["type"] != answer_type.as_str() {
        Some(format!("Bundle.type {}", bundle["type"]))
    } else if entries.len() != expected {
        Some(format!("{} entries", entries.len()))
    } else {
        entries
            .iter()
            .position(|r| !r["status"].is_string())
            .map(|i| format!("entry {i} has no response.status"))
    };
    match problem {
        None => Ok(entries),
        Some(actual) => Err(Failure::new(format!(
            "the answer to a {kind} is no {answer_type} with an outcome per entry"
        ))
        .expected(format!(
            "a {answer_type} Bundle with {expected} entries, each with response.status"
        ))
        .actual(actual)
        .exchange(&exchange.id)
        .into()),
    }
}

fn status_of(response: &Value) -> &str {
    response["status"].as_str().unwrap_or_default()
}

async fn every_entry_created(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let sent = sent_entries(world)?;
    let bundle_type = sent_type(world)?;
    if exchange.status().is_some_and(|s| (400..500).contains(&s)) {
        // Refused whole, with nothing written, breaks no rule; but then mts has no Bundle this
        // server takes to put the rule to the test with.
        nothing_written(world, &exchange).await?;
        return Err(Halt::missing_config(format!(
            "the server refused mts's {bundle_type} of valid creates whole and wrote nothing of it ({}), so the rule could not be put to the test; give a create body it takes in [target.write] body",
            exchange.summary()
        )));
    }
    let responses = response_entries(&exchange, &bundle_type, sent.len())?;
    let fail = |what: String, actual: String, exchange: &Exchange| -> Halt {
        Failure::new(what)
            .expected("201 and a location for every entry, each readable with what was sent")
            .actual(actual)
            .exchange(&exchange.id)
            .into()
    };
    let mut reads = Vec::new();
    for (index, (response, (_, identifier))) in responses.iter().zip(&sent).enumerate() {
        let (status, location) = (status_of(response), response["location"].as_str());
        let Some(location) = location.filter(|_| status.starts_with("201")) else {
            return Err(fail(
                format!("entry {index} of the {bundle_type} was not answered as created"),
                format!("response.status {status:?}, location {location:?}"),
                &exchange,
            ));
        };
        // Read `Type/id` at the target's base: a location may name a version (vread is
        // optional where read is not) or another host, which mts's credentials never go to.
        let Some(current) = crate::fhir::reference::type_and_id(location) else {
            return Err(fail(
                format!(
                    "entry {index} of the {bundle_type} was answered with a location that names no resource"
                ),
                format!("response.location {location:?}"),
                &exchange,
            ));
        };
        reads.push((index, current, identifier.clone()));
    }
    for (index, location, identifier) in reads {
        let read = world.send(&RequestSpec::get(location.clone())).await?;
        let holds = assert::response(&read)?.status == 200
            && read
                .response
                .as_ref()
                .and_then(|r| r.resource())
                .and_then(test_identifier)
                == Some(identifier.as_str());
        if !holds {
            return Err(fail(
                format!(
                    "entry {index} of the {bundle_type} does not read back at the location it was given ({location})"
                ),
                read.summary(),
                &read,
            ));
        }
    }
    Ok(())
}

/// How many resources of `kind` carry the test identifier `value`, counted in the answer (a
/// server that ignores the parameter and returns everything is counted right too).
async fn written_with(
    world: &mut MtsWorld,
    kind: &str,
    value: &str,
) -> Result<(usize, Arc<Exchange>), Halt> {
    let mut spec = RequestSpec::get(kind.to_owned());
    spec.query.push((
        "identifier".into(),
        format!("{TEST_IDENTIFIER_SYSTEM}|{value}"),
    ));
    let found = world.send(&spec).await?;
    if found.status() == Some(404) {
        // The type took creates in this very scenario, so a 404 is a search answering "no
        // match" the wrong way (IOP-SRCH-001 judges that), not an absent type.
        world.note(format!(
            "the search for what the refused Bundle might have written answered 404, read as no match ({})",
            found.summary()
        ));
        return Ok((0, found));
    }
    let bundle = found
        .response
        .as_ref()
        .filter(|r| r.status == 200)
        .and_then(|r| r.resource())
        .filter(|b| b["resourceType"] == "Bundle")
        .ok_or_else(|| {
            Halt::Error(format!(
                "mts could not read back what the Bundle wrote: the search by test identifier answered {}",
                found.summary()
            ))
        })?;
    let count = search::matches(bundle)
        .iter()
        .filter(|r| test_identifier(r) == Some(value))
        .count();
    Ok((count, found))
}

async fn refused_whole(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let status = assert::response(&exchange)?.status;
    if (200..300).contains(&status) {
        let responses = response_entries(&exchange, "transaction", 2)?;
        if responses.iter().all(|r| status_of(r).starts_with('2')) {
            return Err(Halt::nothing_to_judge(format!(
                "the server applied every entry, including a create sent to {UNDEFINED_TYPE}, a type FHIR R4 does not define ({}), so all-or-nothing was not put to the test",
                exchange.summary()
            )));
        }
        let outcomes: Vec<&str> = responses.iter().map(|r| status_of(r)).collect();
        return Err(Failure::new(
            "a transaction with an entry that failed was answered as a success: it was applied in part",
        )
        .expected("the whole transaction refused with a 4xx or 5xx")
        .actual(format!("{status}, entry outcomes {}", outcomes.join(", ")))
        .exchange(&exchange.id)
        .into());
    }
    if matches!(status, 401 | 403 | 429) {
        return Err(Halt::Error(format!(
            "the transaction was not processed at all ({}), so it cannot be judged",
            exchange.summary()
        )));
    }
    nothing_written(world, &exchange).await
}

/// After `refusal` of the Bundle mts sent, no entry of it is found by its test identifier.
async fn nothing_written(world: &mut MtsWorld, refusal: &Exchange) -> Result<(), Halt> {
    let bundle_type = sent_type(world)?;
    for (kind, identifier) in sent_entries(world)? {
        let (count, found) = written_with(world, &kind, &identifier).await?;
        if count > 0 {
            return Err(Failure::new(format!(
                "the {bundle_type} was refused, yet part of it was written"
            ))
            .expected(format!(
                "no {kind} with test identifier {identifier} after the refusal"
            ))
            .actual(format!(
                "{count} found ({}) after the {bundle_type} was refused ({})",
                found.summary(),
                refusal.summary()
            ))
            .exchange(&found.id)
            .into());
        }
    }
    Ok(())
}

/// `transaction` or `batch`: the type of the Bundle mts sent.
fn sent_type(world: &MtsWorld) -> Result<String, Halt> {
    world
        .sent_bundle
        .as_ref()
        .and_then(|b| b["type"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| Halt::Error("no Bundle was prepared".into()))
}

async fn batch_each_on_its_own(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let status = assert::response(&exchange)?.status;
    if (400..600).contains(&status) && !matches!(status, 401 | 403 | 429) {
        return Err(Failure::new("the whole batch was refused for one entry")
            .expected("200 and a batch-response with each entry's own outcome")
            .actual(exchange.summary())
            .exchange(&exchange.id)
            .into());
    }
    let responses = response_entries(&exchange, "batch", 2)?;
    let created = responses[0];
    if !status_of(created).starts_with("201") || !created["location"].is_string() {
        return Err(
            Failure::new("the valid create in the batch was not answered as created")
                .expected("response.status 201 and a location")
                .actual(format!(
                    "response.status {:?}, location {}",
                    status_of(created),
                    created["location"]
                ))
                .exchange(&exchange.id)
                .into(),
        );
    }
    if status_of(responses[1]).starts_with('2') {
        world.note(format!(
            "the server applied the entry sent to {UNDEFINED_TYPE}, a type FHIR R4 does not define"
        ));
    }
    Ok(())
}
