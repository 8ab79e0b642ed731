//! The cucumber-rs run: our own parsed features, hooks that bind each scenario to the run's
//! context and record its result, bounded concurrency, and no output of cucumber's own.

use std::sync::Arc;

use cucumber::event::{ScenarioFinished, StepError};
use cucumber::gherkin;
use futures::future::LocalBoxFuture;

use crate::checks::Halt;
use crate::features::scenario_info;
use crate::report::{ScenarioResult, Verdict};
use crate::steps::{MtsWorld, RunContext, StepLibrary};

/// Drives cucumber-rs: our own parser output, our hooks, no argv parsing, bounded concurrency.
pub(super) async fn run_cucumber(
    context: Arc<RunContext>,
    steps: StepLibrary,
    features: Vec<gherkin::Feature>,
    concurrency: usize,
) {
    let bind_context = context.clone();
    let before = before_hook(move |feature, rule, scenario, world| {
        let info = scenario_info(feature, rule, scenario);
        world.bind(bind_context.clone(), info.location());
        Box::pin(async {})
    });
    let record_context = context.clone();
    let after = after_hook(move |feature, rule, scenario, finished, world| {
        let info = scenario_info(feature, rule, scenario);
        let result = scenario_result(info, finished, world.map(|w| &*w));
        record_context.record(result);
        Box::pin(async {})
    });
    let runner = cucumber::runner::Basic::default()
        .max_concurrent_scenarios(concurrency.max(1))
        .steps(steps.collection())
        .before(before)
        .after(after);
    let writer = cucumber::writer::AssertNormalized::new(Sink);
    let cli = cucumber::cli::Opts::<
        cucumber::cli::Empty,
        cucumber::runner::basic::Cli,
        cucumber::cli::Empty,
        cucumber::cli::Empty,
    >::default();
    let cucumber: cucumber::Cucumber<
        MtsWorld,
        Preparsed,
        Vec<gherkin::Feature>,
        _,
        _,
        cucumber::cli::Empty,
    > = cucumber::Cucumber::custom(Preparsed, runner, writer);
    cucumber.with_cli(cli).run(features).await;
}

fn before_hook<F>(f: F) -> F
where
    F: for<'a> Fn(
        &'a gherkin::Feature,
        Option<&'a gherkin::Rule>,
        &'a gherkin::Scenario,
        &'a mut MtsWorld,
    ) -> LocalBoxFuture<'a, ()>,
{
    f
}

fn after_hook<F>(f: F) -> F
where
    F: for<'a> Fn(
        &'a gherkin::Feature,
        Option<&'a gherkin::Rule>,
        &'a gherkin::Scenario,
        &'a ScenarioFinished,
        Option<&'a mut MtsWorld>,
    ) -> LocalBoxFuture<'a, ()>,
{
    f
}

/// Turns cucumber's account of a finished scenario into our result.
fn scenario_result(
    info: crate::features::ScenarioInfo,
    finished: &ScenarioFinished,
    world: Option<&MtsWorld>,
) -> ScenarioResult {
    let harness_fault = |reason: String| Halt::Error(reason);
    let halt = match finished {
        ScenarioFinished::StepPassed => None,
        ScenarioFinished::StepSkipped => Some(harness_fault("a step has no definition".into())),
        ScenarioFinished::BeforeHookFailed(info) => Some(harness_fault(format!(
            "the scenario could not start: {}",
            panic_text(info)
        ))),
        ScenarioFinished::StepFailed(_, _, StepError::Panic(payload)) => {
            Some(match payload.downcast_ref::<Halt>() {
                Some(halt) => halt.clone(),
                None => harness_fault(format!("harness fault in a step: {}", panic_text(payload))),
            })
        }
        ScenarioFinished::StepFailed(_, _, other) => Some(harness_fault(other.to_string())),
    };
    let outcome = super::verdict::scenario_outcome(halt.as_ref());
    let verdict = outcome.verdict;
    // Data the scenario lacked that the test-data kit promised and the preflight found missing:
    // said as a missing prerequisite, with what the preflight saw.
    let reason = match (outcome.reason_kind, world.and_then(MtsWorld::kit_shortfall)) {
        (Some(crate::verdict::ReasonKind::MissingData), Some(shortfall)) => Some(format!(
            "{}; {}",
            shortfall.text,
            outcome.reason.unwrap_or_default()
        )),
        _ => outcome.reason,
    };
    let notes = world.map(|w| w.notes.clone()).unwrap_or_default();
    let step = world
        .map(|w| w.current_step.clone())
        .filter(|s| !s.is_empty() && verdict != Verdict::Pass);
    ScenarioResult {
        feature: info.feature,
        name: info.name,
        line: info.line,
        requirements: info.requirements,
        verdict,
        reason,
        reason_kind: outcome.reason_kind,
        failure: outcome.failure,
        step,
        exchanges: world.map(|w| w.exchanges.clone()).unwrap_or_default(),
        notes,
        duration_ms: world.and_then(|w| w.started).map_or(0, |s| {
            u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX)
        }),
    }
}

fn panic_text(payload: &cucumber::event::Info) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Feeds already-parsed, already-selected features to cucumber.
struct Preparsed;

impl cucumber::Parser<Vec<gherkin::Feature>> for Preparsed {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

/// Cucumber insists on a writer; results reach us through the after-hook instead.
struct Sink;

impl cucumber::Writer<MtsWorld> for Sink {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        _: cucumber::parser::Result<cucumber::Event<cucumber::event::Cucumber<MtsWorld>>>,
        _: &Self::Cli,
    ) {
    }
}
