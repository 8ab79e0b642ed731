//! The rate-limit probe (only with --allow-load): a bounded burst at three times the declared
//! limit, which must meet 429s with an OperationOutcome, never 5xx or silence.

use std::sync::Arc;

use futures::StreamExt as _;
use serde_json::Value;

use super::library::{Args, StepDefinition, step};
use super::world::MtsWorld;
use crate::catalogue::Profile;
use crate::checks::{Halt, assert};
use crate::fhir::outcome;
use crate::http::{Exchange, ExchangeId, RequestSpec};
use crate::report::Failure;

/// Never more than this many requests in one burst, whatever the declared limit.
pub const MAX_BURST: usize = 300;
/// Requests in flight at once during the burst.
const IN_FLIGHT: usize = 32;

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        When,
        r#"^a burst of three times the declared rate limit is sent within a second$"#,
        "a burst of three times the declared rate limit is sent within a second",
        burst
    );
    step!(
        defs,
        Then,
        r#"^at least one request is refused with 429 and none fails with a server error$"#,
        "at least one request is refused with 429 and none fails with a server error",
        throttled
    );
    step!(
        defs,
        Then,
        r#"^every 429 says when to retry$"#,
        "every 429 says when to retry",
        retry_after
    );
}

async fn burst(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let run = world.run()?.clone();
    let count = (run.load.rate_limit as usize * 3).clamp(1, MAX_BURST);
    let patient = run
        .data
        .patient(crate::config::PatientRole::Existing)
        .logical_id()
        .to_owned();
    let mut spec = RequestSpec::get(format!("Patient/{patient}"));
    if let Some(token) = &run.load.token {
        spec.with_credentials = false;
        spec.set_header("Authorization", format!("Bearer {token}"));
    }
    let scenario = world.scenario.clone();
    // Open the connections first (the capability statement is not metered per application), so
    // TLS handshakes do not slow the burst below the rate it has to reach.
    let in_flight = count.min(IN_FLIGHT);
    let _warm: Vec<Arc<Exchange>> = futures::stream::iter(1..=in_flight)
        .map(|n| {
            let (run, id) = (run.clone(), ExchangeId(format!("{scenario}#warm{n}")));
            async move {
                run.send_as(id, "connection warm-up", RequestSpec::get("metadata"))
                    .await
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let started = std::time::Instant::now();
    let exchanges: Vec<Arc<Exchange>> = futures::stream::iter(1..=count)
        .map(|n| {
            let (run, spec, id) = (
                run.clone(),
                spec.clone(),
                ExchangeId(format!("{scenario}#{n}")),
            );
            async move { run.send_as(id, "rate-limit burst", spec).await }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    world.burst_elapsed = started.elapsed();
    world.note(format!(
        "{count} requests in {} ms",
        world.burst_elapsed.as_millis()
    ));
    world
        .exchanges
        .extend(exchanges.iter().map(|e| e.id.clone()));
    world.burst = exchanges;
    Ok(())
}

async fn throttled(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let burst = world.burst.clone();
    if let Some(broken) = burst.iter().find(|e| e.status().is_some_and(|s| s >= 500)) {
        return assert::status_is_not_server_error(broken);
    }
    let limited: Vec<&Arc<Exchange>> = burst.iter().filter(|e| e.status() == Some(429)).collect();
    let Some(first) = limited.first() else {
        let answered = burst.iter().filter(|e| e.response.is_some()).count();
        let limit = world.run()?.load.rate_limit;
        let seconds = world.burst_elapsed.as_secs_f64();
        // Three times the limit within 1.5 s is at least twice the limit, past any bucket
        // that allows one second's worth of burst; slower than that proves nothing.
        if seconds > 1.5 {
            return Err(Halt::Error(format!(
                "the burst of {} requests took {seconds:.1} s ({:.0} per second), too slow to \
                 be sure of passing the declared limit of {limit} per second; run closer to \
                 the API",
                burst.len(),
                burst.len() as f64 / seconds
            )));
        }
        return Err(Failure::new(format!(
            "{} requests in {seconds:.1} s met no 429",
            burst.len()
        ))
        .expected(format!(
            "429 once the declared limit of {} per second is passed",
            world.run()?.load.rate_limit
        ))
        .actual(format!("{answered} answered, none with 429"))
        .exchange(
            &burst
                .last()
                .map_or_else(|| ExchangeId("none".into()), |e| e.id.clone()),
        )
        .into());
    };
    world.note(format!(
        "{} of {} requests were throttled",
        limited.len(),
        burst.len()
    ));
    let outcome = assert::operation_outcome(first)?;
    let codes: Vec<&str> = outcome::issues(outcome)
        .iter()
        .filter_map(|issue| issue.get("code").and_then(Value::as_str))
        .collect();
    if !codes.iter().any(|c| matches!(*c, "throttled" | "value")) {
        return Err(Failure::new(
            "the 429 OperationOutcome does not say the request was throttled",
        )
        .expected("an issue with code throttled (or value)")
        .actual(if codes.is_empty() {
            "no issue code".to_owned()
        } else {
            codes.join(", ")
        })
        .exchange(&first.id)
        .into());
    }
    // Spine error codes are the NHS API platform's convention; other profiles only need the
    // OperationOutcome.
    if world.run()?.profile == Profile::Apim {
        assert::spine_code(first, "TOO_MANY_REQUESTS")?;
    }
    Ok(())
}

async fn retry_after(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let limited: Vec<Arc<Exchange>> = world
        .burst
        .iter()
        .filter(|e| e.status() == Some(429))
        .cloned()
        .collect();
    if limited.is_empty() {
        return Err(Halt::nothing_to_judge("the burst met no 429 to inspect"));
    }
    for exchange in &limited {
        let value = exchange
            .response
            .as_ref()
            .and_then(|r| r.header("retry-after"))
            .unwrap_or("");
        let seconds = value.trim().parse::<u64>().is_ok();
        let date = chrono::DateTime::parse_from_rfc2822(value.trim()).is_ok();
        if !(seconds || date) {
            return Err(Failure::new("a 429 does not say when to retry")
                .expected("Retry-After: <seconds> or an HTTP date")
                .actual(if value.is_empty() {
                    "no Retry-After".to_owned()
                } else {
                    format!("Retry-After: {value}")
                })
                .exchange(&exchange.id)
                .into());
        }
    }
    Ok(())
}
