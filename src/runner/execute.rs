use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::cucumber::run_cucumber;
use super::plan::{Permissions, Plan, Selection, SelectionError};
use super::target::Target;
use super::verdict::{RunMeta, assemble};
use crate::auth::Credentials;
use crate::catalogue::{self, Catalogue, CatalogueError, Profile};
use crate::checks::{CheckJudgement, Halt, PassiveContext, aggregate, judge_exchanges};
use crate::config::{GpcSettings, PatientRole, TestData};
use crate::features::{Suite, SuiteError};
use crate::fhir::schema::FhirSchema;
use crate::http::{ClientOptions, ExchangeLog, HttpClient, HttpError, Redactor};
use crate::http::{ExchangeId, RequestSpec};
use crate::report::{ReasonKind, Report, ScenarioResult};
use crate::steps::StepLibrary;
use crate::steps::{MutualTls, RunContext};

/// Everything a run needs, after configuration layering.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// A FHIR base URL, or a server started for the run.
    pub target: Target,
    pub profile: Profile,
    pub selection: Selection,
    pub concurrency: usize,
    pub timeout: Duration,
    pub body_limit: usize,
    pub ca_cert: Option<PathBuf>,
    pub allow_writes: bool,
    /// `--keep-written`: leave what the run created on the target instead of deleting it.
    pub keep_written: bool,
    /// How the run authenticates (a `MTS_TOKEN` bearer, or OAuth2 client credentials).
    pub credentials: Credentials,
    /// A valid token that lacks write rights (`MTS_LOW_PRIVILEGE_TOKEN`), for SEC-AUTH-004.
    pub low_privilege_token: Option<String>,
    pub data: TestData,
    pub features_dir: Option<PathBuf>,
    pub catalogue_dir: Option<PathBuf>,
    /// The supplier's OpenAPI document: a file or an http(s) URL.
    pub openapi: Option<String>,
    /// Accept any server certificate (still judged by SEC-TLS-005).
    pub insecure: bool,
    /// Allow bounded request bursts (rate-limit probes).
    pub allow_load: bool,
    /// The rate limit the supplier declares, in requests per second; the probe sends three
    /// times as many within a second.
    pub rate_limit: u32,
    /// A token for the rate-limit probe (`MTS_LOAD_TOKEN`); the run's own token otherwise.
    pub load_token: Option<String>,
    /// GP Connect / Spine Secure Proxy settings (used under the gpc profile).
    pub gpc: GpcSettings,
    /// Client certificates for targets behind mutual TLS.
    pub mtls: MutualTls,
    /// Stops the run early (Ctrl-C, SIGTERM); the report still covers what finished.
    pub interrupt: super::Interrupt,
    /// Which levels block, and waivers.
    pub gate: super::Gate,
    /// The supplier's attestations (`--attestations`).
    pub attestations: super::attest::Attestations,
    /// How much progress to show while scenarios run.
    pub verbosity: super::Verbosity,
    /// What the target offers, declared in `mts.toml` (`[target.declares]`).
    pub declares: std::collections::BTreeMap<String, crate::config::DeclaredResource>,
    /// `[target] declares_complete`: the mts.toml declarations list everything offered.
    pub declares_complete: bool,
    /// Where writes go and with what body (`[target.write]`).
    pub write: Option<crate::config::WriteSection>,
}

/// Problems with the run's inputs, found before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid requirement catalogue")]
    Catalogue(#[from] CatalogueError),
    #[error("invalid feature suite")]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error("invalid HTTP settings")]
    Http(#[from] HttpError),
    #[error("failed to start the embedded sandbox")]
    Sandbox(#[source] std::io::Error),
    #[error("failed to read the CA certificate {path}")]
    CaFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid gating policy: {0}")]
    Gate(String),
    #[error("invalid target declarations: {0}")]
    Declarations(String),
    #[error("failed to read the OpenAPI document {path}")]
    OpenApiFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Checks that the test patients scenarios rely on exist, so a missing fixture is reported as
/// "not run (test data missing)" rather than as the supplier's failure. Only a clear "not found"
/// counts as missing: any other answer is left for the scenarios to judge.
async fn preflight(context: &Arc<RunContext>, plan: &Plan) -> Vec<(PatientRole, String)> {
    let mut missing = Vec::new();
    for (index, role) in [
        PatientRole::Existing,
        PatientRole::Restricted,
        PatientRole::WithRecords,
    ]
    .into_iter()
    .enumerate()
    {
        if !plan.scenarios.iter().any(|s| s.uses_patient(role.as_str())) {
            continue;
        }
        let patient = context.data.patient(role);
        let spec = RequestSpec::get(format!("Patient/{}", patient.logical_id()));
        let id = ExchangeId(format!("preflight#{}", index + 1));
        let exchange = context
            .send_as(
                id,
                &format!("preflight: does the {} test patient exist?", role.as_str()),
                spec,
            )
            .await;
        context.remember_record(role, &exchange).await;
        if let Some(status @ (404 | 410)) = exchange.status() {
            missing.push((
                role,
                format!(
                    "{} was not found (GET Patient/{} answered {status})",
                    patient.nhs_number,
                    patient.logical_id()
                ),
            ));
        }
    }
    missing
}

pub fn load_inputs(options: &RunOptions) -> Result<(Catalogue, Suite, StepLibrary), RunError> {
    let catalogue = match &options.catalogue_dir {
        Some(dir) => catalogue::load_dir(dir)?,
        None => catalogue::load_embedded()?,
    };
    let suite = match &options.features_dir {
        Some(dir) => Suite::load_dir(dir)?,
        None => Suite::load_embedded()?,
    };
    let steps = StepLibrary::new();
    let problems = suite.lint(&catalogue, &steps);
    if !problems.is_empty() {
        return Err(SuiteError::Lint(problems).into());
    }
    Ok((catalogue, suite, steps))
}

/// Runs the suite and returns the report. A failing, slow or unreachable supplier is a normal
/// report; only bad inputs (catalogue, features, selection, settings) are errors.
pub async fn execute(options: RunOptions) -> Result<Executed, RunError> {
    let started = Utc::now();
    let clock = Instant::now();
    let (catalogue, suite, steps) = load_inputs(&options)?;
    options.gate.check(&catalogue).map_err(RunError::Gate)?;
    let plan = Plan::new(
        &catalogue,
        &suite,
        options.profile,
        &options.selection,
        Permissions {
            writes: options.allow_writes,
            load: options.allow_load,
        },
    )?;

    // Compile the schema while the scenarios talk to the target.
    let schema_task = tokio::task::spawn_blocking(FhirSchema::embedded);

    let mut harness_errors = Vec::new();
    let mut ca_pem = match &options.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|source| RunError::CaFile {
            path: path.display().to_string(),
            source,
        })?),
        None => None,
    };
    let mut credentials = options.credentials.clone();
    let mut low_privilege_token = options.low_privilege_token.clone();
    let mut load = crate::runner::LoadSettings {
        rate_limit: options.rate_limit,
        token: options.load_token.clone(),
    };
    let mut mtls = options.mtls.clone();
    let (server, target) = match &options.target {
        Target::Remote(url) => (None, url.clone()),
        Target::Started(starter) => {
            let started = starter
                .start(options.profile)
                .await
                .map_err(RunError::Sandbox)?;
            ca_pem = started.ca_pem.clone();
            if let Some(started_mtls) = &started.mtls {
                mtls = started_mtls.clone();
            }
            credentials = started.credentials.clone();
            low_privilege_token = started.low_privilege_token.clone();
            load = started.load.clone();
            let url = started.base_url.clone();
            (Some(started), url)
        }
    };
    let redactor = Redactor::new(low_privilege_token.iter().chain(load.token.iter()).cloned());
    if let Credentials::Bearer(token) = &credentials {
        redactor.add(token.clone());
    }
    let log = Arc::new(ExchangeLog::default());
    let http = HttpClient::new(
        ClientOptions {
            base_url: target.clone(),
            timeout: options.timeout,
            body_limit: options.body_limit,
            ca_pem,
            insecure: options.insecure,
            max_in_flight: options.concurrency.max(1),
            redactor,
            client_identity: mtls.identity.clone(),
        },
        log.clone(),
    )?;
    // Each network phase gives way to an interrupt; what finished is still reported.
    let interrupt = options.interrupt.clone();
    let mut interrupted: Option<String> = None;
    let tls_facts = crate::tls::probe::endpoint(&target).filter(|_| target.starts_with("https://"));
    let tls_facts = match tls_facts {
        Some((host, port)) => interrupt
            .guard(crate::tls::probe::target_facts(
                http.verifier(),
                http.client_identity(),
                &host,
                port,
                options.timeout,
            ))
            .await
            .map_err(|reason| interrupted = Some(reason))
            .ok(),
        None => None,
    };
    let mut openapi_source = options.openapi.clone();
    let mut openapi = match (&openapi_source, &interrupted) {
        (Some(source), None) => match interrupt
            .guard(super::discover::load_openapi(&http, source))
            .await
        {
            Ok(loaded) => Some(loaded?),
            Err(reason) => {
                interrupted = Some(reason);
                None
            }
        },
        _ => None,
    };
    // Not given: look where OpenAPI tooling publishes it by default. Only a real OpenAPI
    // document counts; anything else there (a 404, an HTML catch-all) is no document.
    if openapi_source.is_none() && interrupted.is_none() {
        let url = format!("{}/openapi.json", target.trim_end_matches('/'));
        match interrupt
            .guard(super::discover::probe_openapi(&http, &url))
            .await
        {
            Ok(Some(found)) => {
                openapi = Some(found);
                openapi_source = Some(url);
            }
            Ok(None) => {}
            Err(reason) => interrupted = Some(reason),
        }
    }
    let tokens = crate::auth::TokenManager::new(credentials);
    let mut context = RunContext::new(
        http,
        options.data.clone(),
        options.profile,
        options.allow_writes,
    );
    context.gpc = options.gpc.clone();
    context.tokens = tokens;
    context.low_privilege_token = low_privilege_token;
    context.load = load;
    context.mtls = mtls;
    context.tls_facts = tls_facts.clone();
    context.openapi = openapi.clone();
    context.openapi_exchange = openapi_source
        .as_deref()
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
        .map(|_| ExchangeId("openapi#1".into()));
    // Discover what the target declares, then plan from it.
    let mut model_evidence = None;
    if interrupted.is_none() {
        match interrupt
            .guard(super::discover::discover(
                &context,
                &options.declares,
                options.declares_complete,
            ))
            .await
        {
            Ok(Ok((model, evidence))) => {
                context.model = Arc::new(model);
                model_evidence = Some(evidence);
            }
            Ok(Err(why)) => return Err(RunError::Declarations(why)),
            Err(reason) => interrupted = Some(reason),
        }
    }
    let mut plan = plan;
    plan.apply_model(&context.model, model_evidence.as_ref());
    context.write = options.write.clone();
    // The test-data kit, checked before any scenario: a promise the target does not meet is a
    // missing prerequisite, said as such, not a failed requirement later.
    let model = context.model.clone();
    let kit = interrupt
        .unless_interrupted(
            &mut interrupted,
            super::kit::preflight(&context, &options.data, &model),
        )
        .await;
    context.kit_shortfalls = kit
        .iter()
        .filter(|item| item.status == super::kit::KitStatus::Missing)
        .map(|item| crate::steps::KitShortfall {
            role: item.role,
            resource_type: item.resource_type.clone(),
            text: item.shortfall_text(),
        })
        .collect();
    if options.verbosity != super::Verbosity::Quiet {
        for shortfall in &context.kit_shortfalls {
            eprintln!("test data missing before the run: {}", shortfall.text);
        }
    }
    let context = Arc::new(context);

    let missing = interrupt
        .unless_interrupted(&mut interrupted, preflight(&context, &plan))
        .await;
    for (role, why) in &missing {
        harness_errors.push(format!(
            "test data missing: the {} patient {why}; scenarios that need it were not run (configure [data.patient.{}] in mts.toml)",
            role.as_str(),
            role.as_str()
        ));
    }
    let needs_missing = |scenario: &crate::features::ScenarioInfo| -> Option<Halt> {
        missing
            .iter()
            .find(|(role, _)| scenario.uses_patient(role.as_str()))
            .map(|(role, why)| {
                Halt::missing_data(format!(
                    "not run (test data missing): the {} patient {why}",
                    role.as_str()
                ))
            })
    };
    let (runnable, unrunnable): (Vec<_>, Vec<_>) = plan
        .scenarios
        .drain(..)
        .partition(|s| needs_missing(s).is_none());
    for scenario in unrunnable {
        if let Some(halt) = needs_missing(&scenario) {
            plan.not_run.push((scenario, halt));
        }
    }
    plan.scenarios = runnable;

    let features = plan.filtered_features(&suite);
    if !features.is_empty() && interrupted.is_none() {
        let progress = super::progress::Progress::start(
            context.clone(),
            plan.scenarios.len(),
            options.verbosity,
        );
        let cucumber = run_cucumber(context.clone(), steps, features, options.concurrency);
        if let Err(reason) = interrupt.guard(cucumber).await {
            interrupted = Some(reason);
        }
        progress.finish().await;
    }
    let mut scenario_results = context.take_results();
    for (scenario, halt) in &plan.not_run {
        let outcome = super::verdict::scenario_outcome(Some(halt));
        scenario_results.push(ScenarioResult {
            feature: scenario.feature.clone(),
            name: scenario.name.clone(),
            line: scenario.line,
            requirements: scenario.requirements.clone(),
            verdict: outcome.verdict,
            reason: outcome.reason,
            reason_kind: outcome.reason_kind,
            exchanges: outcome
                .failure
                .as_ref()
                .and_then(|f| f.exchange.clone())
                .into_iter()
                .collect(),
            failure: outcome.failure,
            step: None,
            duration_ms: 0,
            notes: Vec::new(),
        });
    }
    let mut unfinished = 0;
    for planned in &plan.scenarios {
        let finished = scenario_results
            .iter()
            .any(|r| r.feature == planned.feature && r.line == planned.line);
        if finished {
            continue;
        }
        if interrupted.is_some() {
            unfinished += 1;
            scenario_results.push(ScenarioResult {
                feature: planned.feature.clone(),
                name: planned.name.clone(),
                line: planned.line,
                requirements: planned.requirements.clone(),
                verdict: crate::verdict::unjudged(ReasonKind::Interrupted),
                reason: Some("not run to the end: the run was interrupted".into()),
                reason_kind: Some(ReasonKind::Interrupted),
                failure: None,
                step: None,
                exchanges: Vec::new(),
                duration_ms: 0,
                notes: Vec::new(),
            });
        } else {
            harness_errors.push(format!(
                "{}: scenario \"{}\" did not report a result",
                planned.location(),
                planned.name
            ));
        }
    }
    // A scenario that could not judge for want of a prerequisite the kit promised is not a
    // pass either: the run is incomplete, never conformant, until the test data is right. A
    // shortfall no selected scenario needed does not hold the run up.
    for shortfall in &context.kit_shortfalls {
        let needed = scenario_results.iter().any(|r| {
            r.reason
                .as_deref()
                .is_some_and(|why| why.contains(&shortfall.text))
        });
        if needed {
            harness_errors.push(format!("test data missing: {}", shortfall.text));
        }
    }
    if let Some(reason) = &interrupted {
        harness_errors.push(format!(
            "the run was interrupted ({reason}) after {:.1} s: {unfinished} of {} scenario(s) did not finish; the report covers what did",
            clock.elapsed().as_secs_f64(),
            plan.scenarios.len()
        ));
    }

    // What requirements are judged on is fixed before cleanup sends anything.
    let exchanges = log.snapshot();
    let cleanup = super::cleanup::CleanupSettings::for_run(
        options.keep_written,
        options.concurrency,
        options.timeout,
    );
    let written = super::cleanup::written_section(
        &context,
        &exchanges,
        &scenario_results,
        &cleanup,
        interrupted.as_deref(),
        &interrupt,
    )
    .await;
    let openapi_given = matches!(openapi, Some(Ok(_)));
    let judgements = match schema_task.await {
        Ok(Ok(schema)) => {
            let selected = plan.requirements.clone();
            let profile = options.profile;
            let checked = exchanges.clone();
            let base_url = target.clone();
            let openapi = openapi.and_then(Result::ok);
            let json_declared = crate::target::declares_json(Some(&context.model));
            let declared_profiles = crate::target::declared_profiles(Some(&context.model));
            tokio::task::spawn_blocking(move || {
                let context = PassiveContext {
                    schema,
                    profile,
                    base_url,
                    openapi,
                    json_declared,
                    declared_profiles,
                };
                judge_exchanges(&checked, &context, |id| {
                    selected.iter().any(|r| r.as_str() == id)
                })
            })
            .await
            .unwrap_or_else(|e| {
                harness_errors.push(format!("the passive checks stopped: {e}"));
                Vec::new()
            })
        }
        Ok(Err(error)) => {
            harness_errors.push(format!("the FHIR schema could not be loaded: {error}"));
            Vec::new()
        }
        Err(error) => {
            harness_errors.push(format!("the FHIR schema task stopped: {error}"));
            Vec::new()
        }
    };

    let (label, faults) = match server {
        Some(started) => {
            started.stop.await;
            (started.label, started.faults)
        }
        None => (target, Vec::new()),
    };

    let meta = RunMeta {
        target: label,
        started,
        duration: clock.elapsed(),
        concurrency: options.concurrency,
        timeout: options.timeout,
        allow_writes: options.allow_writes,
        selection: options.selection.clone(),
        sandbox_faults: faults,
        harness_errors,
        tls: tls_facts,
        gate: options.gate.clone(),
        attestations: options.attestations.records.clone(),
        test_data_kit: kit.iter().map(super::kit::KitItem::record).collect(),
        model: Some((*context.model).clone()),
    };
    let selected = |id: &str| plan.requirements.iter().any(|r| r.as_str() == id);
    let openapi_use = match (&openapi_source, openapi_given) {
        (_, true) => crate::checks::OpenApiUse::Read,
        (Some(_), false) => crate::checks::OpenApiUse::Unreadable,
        (None, false) => crate::checks::OpenApiUse::NotGiven,
    };
    let check_results = aggregate(&judgements, openapi_use, selected);
    let records = exchanges
        .iter()
        .map(|e| super::verdict::record(e))
        .collect();
    let mut report = assemble(
        &catalogue,
        &plan,
        scenario_results,
        check_results,
        records,
        meta,
    );
    report.written = written;
    Ok(Executed {
        report,
        shard: options.selection.shard.map(|shard| ShardRecord {
            shard: shard.to_string(),
            openapi_given,
            openapi_unreadable: openapi_use == crate::checks::OpenApiUse::Unreadable,
            judgements,
        }),
    })
}

/// What a run produced: the report, and for a shard what merging needs besides.
pub struct Executed {
    pub report: Report,
    pub shard: Option<ShardRecord>,
}

/// `shard.json` in a shard's run folder: every passive check's judgement of every exchange,
/// so that `mts merge` re-aggregates them exactly as one unsharded run would have.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ShardRecord {
    /// `K/N`.
    pub shard: String,
    /// Whether an OpenAPI document was given (it changes why openapi checks were skipped).
    pub openapi_given: bool,
    /// An OpenAPI document was given but could not be read.
    #[serde(default)]
    pub openapi_unreadable: bool,
    pub judgements: Vec<CheckJudgement>,
}
