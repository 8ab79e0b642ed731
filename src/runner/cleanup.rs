//! After the scenarios, before the report: each resource the run created is deleted again where
//! the target declares delete of its type (or declares nothing at all), through the run's own
//! client, so every DELETE is redacted and recorded like any request. Cleanup never changes a
//! verdict and never fails the run: its exchanges are kept apart from the ones requirements are
//! judged on, and whatever it could not remove is listed with the reason.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;

use super::Interrupt;
use super::written::written_resources;
use crate::http::{Exchange, ExchangeId, RequestSpec};
use crate::report::{CleanupOutcome, ScenarioResult, WriteAction, WrittenResource, WrittenSection};
use crate::steps::RunContext;
use crate::target::{Interaction, Offer, TargetModel};

/// At most this many DELETEs in one run; what else was created is listed as left.
pub(crate) const MOST_DELETES: usize = 500;

/// How the cleanup runs.
#[derive(Debug, Clone)]
pub(crate) struct CleanupSettings {
    /// `--keep-written`: delete nothing, list everything as kept.
    pub keep: bool,
    /// DELETEs in flight at once (the run's concurrency).
    pub concurrency: usize,
    /// The whole cleanup's deadline; each DELETE also has the run's per-request one.
    pub budget: Duration,
}

impl CleanupSettings {
    /// Four request timeouts in all: ample for hundreds of DELETEs to a server that answers,
    /// and a bound on one that does not.
    pub fn for_run(keep: bool, concurrency: usize, timeout: Duration) -> Self {
        Self {
            keep,
            concurrency: concurrency.max(1),
            budget: timeout.saturating_mul(4),
        }
    }
}

/// Decides, before anything is sent, what happens to each resource, and returns the indices of
/// those to delete.
pub(crate) fn plan_cleanup(
    resources: &mut [WrittenResource],
    model: &TargetModel,
    keep: bool,
) -> Vec<usize> {
    let mut to_delete = Vec::new();
    for (index, resource) in resources.iter_mut().enumerate() {
        if resource.action != WriteAction::Created {
            continue;
        }
        let kind = resource.reference.split('/').next().unwrap_or_default();
        let remove_by = match &resource.identifier {
            Some(identifier) => format!("remove it by its identifier {identifier}"),
            None => "remove it by its id".to_owned(),
        };
        let left = |why: String| (CleanupOutcome::Left, Some(why));
        let (outcome, detail) = if keep {
            (CleanupOutcome::Kept, None)
        } else if kind == "Patient" {
            // mts creates no patients; a Patient here is one it must not risk deleting.
            left(format!("mts never deletes a Patient; {remove_by}"))
        } else if let Offer::NotDeclared(_) = model.offers(kind, Interaction::Delete) {
            left(format!(
                "the target declares no delete of {kind}; {remove_by}"
            ))
        } else if to_delete.len() >= MOST_DELETES {
            left(format!(
                "cleanup deletes at most {MOST_DELETES} resources a run; {remove_by}"
            ))
        } else {
            to_delete.push(index);
            continue;
        };
        resource.outcome = outcome;
        resource.detail = detail;
    }
    to_delete
}

/// The outcome of one cleanup DELETE.
pub(crate) fn outcome_of(exchange: &Exchange) -> (CleanupOutcome, Option<String>) {
    match (exchange.status(), &exchange.error) {
        (Some(200 | 202 | 204), _) => (CleanupOutcome::Deleted, None),
        (Some(status @ (404 | 410)), _) => (CleanupOutcome::AlreadyGone, Some(status.to_string())),
        (Some(status), _) => (CleanupOutcome::DeleteRefused, Some(status.to_string())),
        (None, Some(error)) => (CleanupOutcome::DeleteFailed, Some(error.message.clone())),
        (None, None) => (CleanupOutcome::DeleteFailed, Some("no answer".into())),
    }
}

/// Deletes what `plan_cleanup` chose, recording each outcome on its resource. Bounded by the
/// budget, the cap and the interrupt; what it did not get to is listed as left, saying why.
pub(crate) async fn clean_up(
    context: &RunContext,
    resources: &mut [WrittenResource],
    settings: &CleanupSettings,
    interrupt: &Interrupt,
) {
    let to_delete = plan_cleanup(resources, &context.model, settings.keep);
    let requests: Vec<(usize, ExchangeId, String)> = to_delete
        .iter()
        .enumerate()
        .map(|(n, index)| {
            (
                *index,
                ExchangeId(format!("cleanup#{}", n + 1)),
                resources[*index].reference.clone(),
            )
        })
        .collect();
    let mut answers = futures::stream::iter(requests)
        .map(|(index, id, reference)| async move {
            let mut spec = RequestSpec::get(reference.clone());
            spec.method = "DELETE".into();
            let label = format!("cleanup: delete {reference}, which the run created");
            (index, context.send_as(id, &label, spec).await)
        })
        .buffer_unordered(settings.concurrency);
    let deadline = tokio::time::Instant::now() + settings.budget;
    let mut stopped = None;
    loop {
        let next = interrupt.guard(tokio::time::timeout_at(deadline, answers.next()));
        match next.await {
            Ok(Ok(Some((index, exchange)))) => {
                let (outcome, detail) = outcome_of(&exchange);
                let resource = &mut resources[index];
                resource.outcome = outcome;
                resource.detail = detail;
                resource.cleanup_exchange = Some(exchange.id.clone());
            }
            Ok(Ok(None)) => break,
            Ok(Err(_)) => {
                stopped = Some(format!(
                    "no answer to its DELETE within the cleanup's {} s",
                    settings.budget.as_secs()
                ));
                break;
            }
            Err(reason) => {
                stopped = Some(format!("the run was interrupted ({reason}) during cleanup"));
                break;
            }
        }
    }
    if let Some(why) = stopped {
        for index in to_delete {
            let resource = &mut resources[index];
            if resource.cleanup_exchange.is_none() {
                resource.detail = Some(why.clone());
            }
        }
    }
}

/// The report's `written` section: what the judged exchanges wrote, and the cleanup of it, with
/// the cleanup's own exchanges (every one the log gained after `judged` was taken). `None`
/// without `--allow-writes`: nothing was written.
pub(crate) async fn written_section(
    context: &RunContext,
    judged: &[Arc<Exchange>],
    scenarios: &[ScenarioResult],
    settings: &CleanupSettings,
    interrupted: Option<&str>,
    interrupt: &Interrupt,
) -> Option<WrittenSection> {
    if !context.allow_writes {
        return None;
    }
    let mut resources = written_resources(context.http.base_url(), judged, scenarios);
    match interrupted {
        Some(reason) => leave_all(
            &mut resources,
            &format!("the run was interrupted ({reason}) before cleanup"),
        ),
        None => clean_up(context, &mut resources, settings, interrupt).await,
    }
    let before: BTreeSet<&ExchangeId> = judged.iter().map(|e| &e.id).collect();
    let exchanges = context
        .http
        .log()
        .snapshot()
        .iter()
        .filter(|e| !before.contains(&e.id))
        .map(|e| super::verdict::record(e))
        .collect();
    Some(WrittenSection {
        resources,
        exchanges,
    })
}

/// Lists every created resource as left, saying why no cleanup ran.
pub(crate) fn leave_all(resources: &mut [WrittenResource], why: &str) {
    for resource in resources
        .iter_mut()
        .filter(|r| r.action == WriteAction::Created)
    {
        resource.outcome = CleanupOutcome::Left;
        resource.detail = Some(why.to_owned());
    }
}

#[cfg(test)]
mod tests;
