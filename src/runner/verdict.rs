//! Per-requirement verdicts from scenarios and checks, and the run verdict from those.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::plan::{Plan, Selection};
use crate::catalogue::{Catalogue, Requirement, Status};
use crate::checks::Halt;
use crate::exit::ExitCode;
use crate::http::Exchange;
use crate::report::{
    CatalogueInfo, CheckRef, CheckResult, Coverage, ExchangeRecord, Failure, FailureRef, Harness,
    REPORT_SCHEMA_VERSION, ReasonKind, Report, RequirementResult, ResponseRecord,
    RunSettingsRecord, RunVerdict, ScenarioRef, ScenarioResult, SourceRecord, Verdict,
};
use crate::verdict::{self as rules, Tally};

/// How a scenario ended, from the halt of the step that stopped it (`None`: every step passed).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioOutcome {
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub reason_kind: Option<ReasonKind>,
    pub failure: Option<Failure>,
}

pub fn scenario_outcome(halt: Option<&Halt>) -> ScenarioOutcome {
    let (verdict, reason, reason_kind, failure) = match halt {
        None => (Verdict::Pass, None, None, None),
        Some(Halt::Fail(failure)) => (Verdict::Fail, None, None, Some(failure.clone())),
        Some(Halt::Error(reason)) => (Verdict::Error, Some(reason.clone()), None, None),
        Some(Halt::Unjudged(kind, reason)) => (
            rules::unjudged(*kind),
            Some(reason.clone()),
            Some(*kind),
            None,
        ),
    };
    ScenarioOutcome {
        verdict,
        reason,
        reason_kind,
        failure,
    }
}

/// Bodies longer than this are cut in report.json (the evidence keeps them whole).
const REPORT_BODY_LIMIT: usize = 16 * 1024;
/// The OpenAPI document a run holds responses to is kept whole up to this size, so that
/// `mts rejudge` can judge the evidence again by the same document.
const OPENAPI_BODY_LIMIT: usize = 4 * 1024 * 1024;

pub struct RunMeta {
    pub target: String,
    pub started: DateTime<Utc>,
    pub duration: Duration,
    pub concurrency: usize,
    pub timeout: Duration,
    pub allow_writes: bool,
    pub selection: Selection,
    pub sandbox_faults: Vec<String>,
    pub harness_errors: Vec<String>,
    pub tls: Option<Result<crate::tls::TlsFacts, String>>,
    /// Which levels block, and the waivers.
    pub gate: super::Gate,
    /// The supplier's answers to attestation requirements.
    pub attestations: Vec<super::attest::AttestationRecord>,
    /// The test-data kit, as the preflight found it.
    pub test_data_kit: Vec<crate::report::KitRecord>,
    /// What the target declares.
    pub model: Option<crate::target::TargetModel>,
}

pub fn assemble(
    catalogue: &Catalogue,
    plan: &Plan,
    mut scenarios: Vec<ScenarioResult>,
    checks: Vec<CheckResult>,
    exchanges: Vec<ExchangeRecord>,
    meta: RunMeta,
) -> Report {
    scenarios.sort_by(|a, b| a.feature.cmp(&b.feature).then(a.line.cmp(&b.line)));
    let mut requirements: Vec<RequirementResult> = catalogue
        .requirements
        .iter()
        .map(|requirement| {
            judge(
                catalogue,
                plan,
                requirement,
                &scenarios,
                &checks,
                &exchanges,
            )
        })
        .collect();
    meta.gate.apply(&mut requirements);
    super::attest::apply(
        &meta.attestations,
        meta.started.date_naive(),
        &mut requirements,
    );
    for result in &mut requirements {
        result.blocking =
            rules::blocking(result.verdict, result.level.strength(), meta.gate.strict);
    }
    let coverage = Coverage {
        judged: requirements
            .iter()
            .filter(|r| plan.requirements.contains(&r.id) && r.verdict.is_judged())
            .count(),
        applicable: plan.requirements.len(),
    };

    let mut counts = BTreeMap::new();
    for result in &requirements {
        *counts
            .entry(result.verdict.as_str().to_owned())
            .or_insert(0) += 1;
    }
    let (verdict, verdict_reason) =
        run_verdict(&requirements, &meta.harness_errors, &meta.gate, coverage);

    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        run_id: uuid::Uuid::new_v4().to_string(),
        verdict,
        verdict_reason,
        target: meta.target,
        profile: plan.profile,
        harness: Harness {
            name: "mts".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        catalogue: CatalogueInfo {
            version: catalogue.version.clone(),
            digest: catalogue.digest.clone(),
        },
        started: meta
            .started
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: u64::try_from(meta.duration.as_millis()).unwrap_or(u64::MAX),
        settings: RunSettingsRecord {
            concurrency: meta.concurrency,
            timeout_seconds: meta.timeout.as_secs_f64(),
            allow_writes: meta.allow_writes,
            requirements: meta.selection.requirements,
            tags: meta.selection.tags,
            shard: meta.selection.shard.map(|s| s.to_string()),
            levels: meta.selection.levels,
            areas: meta.selection.areas,
            strict: meta.gate.strict,
            waivers: meta.gate.waivers,
            attestations: meta.attestations,
            sandbox_faults: meta.sandbox_faults,
        },
        tls: meta.tls.map(|facts| match facts {
            Ok(facts) => crate::report::TlsRecord::Negotiated(facts),
            Err(error) => crate::report::TlsRecord::Failed { error },
        }),
        counts,
        coverage,
        target_model: meta.model,
        test_data_kit: meta.test_data_kit,
        requirements,
        scenarios,
        checks,
        harness_errors: meta.harness_errors,
        exchanges,
        written: None,
    }
}

fn judge(
    catalogue: &Catalogue,
    plan: &Plan,
    requirement: &Requirement,
    scenarios: &[ScenarioResult],
    checks: &[CheckResult],
    exchanges: &[ExchangeRecord],
) -> RequirementResult {
    let profile = plan.profile;
    let level = requirement.level_for(profile);
    let profile_rule = (level != requirement.level).then(|| {
        format!(
            "{} under the {profile} profile (the catalogue's default is {})",
            level, requirement.level
        )
    });
    let mut result = RequirementResult {
        id: requirement.id.clone(),
        level,
        title: requirement.title.clone(),
        area: catalogue
            .area_of(&requirement.id)
            .map(|a| a.title.clone())
            .unwrap_or_default(),
        statement: requirement.statement.clone(),
        sources: requirement
            .sources
            .iter()
            .map(|source| {
                let known = catalogue.sources.iter().find(|s| s.code == source.code);
                SourceRecord {
                    code: source.code.clone(),
                    title: known.map(|s| s.title.clone()).unwrap_or_default(),
                    url: source
                        .url
                        .clone()
                        .or_else(|| known.map(|s| s.url.clone()))
                        .unwrap_or_default(),
                    detail: source.detail.clone(),
                }
            })
            .collect(),
        status: requirement.status,
        verdict: Verdict::Skipped,
        blocking: false,
        reason: None,
        reason_kind: None,
        evidence: None,
        profile_rule,
        scenarios: Vec::new(),
        checks: Vec::new(),
        failures: Vec::new(),
        notes: Vec::new(),
        exchanges: Vec::new(),
    };
    if !requirement.applies_to(profile) {
        let profiles: Vec<&str> = requirement.profiles.iter().map(|p| p.as_str()).collect();
        result.verdict = rules::unjudged(ReasonKind::ExcludedByProfile);
        result.reason_kind = Some(ReasonKind::ExcludedByProfile);
        result.reason = Some(format!(
            "applies to the {} profile(s), not {profile}",
            profiles.join(", ")
        ));
        return result;
    }
    match requirement.status {
        Status::Attestation => {
            result.verdict = Verdict::Attestation;
            result.reason = requirement.reason.clone();
            return result;
        }
        Status::Planned => {
            result.verdict = rules::unjudged(ReasonKind::NotAutomated);
            result.reason_kind = Some(ReasonKind::NotAutomated);
            result.reason = Some(format!(
                "not automated yet: {}",
                requirement.reason.as_deref().unwrap_or("planned")
            ));
            return result;
        }
        Status::Automated => {}
    }
    if plan.excluded.contains(&requirement.id) {
        result.verdict = rules::unjudged(ReasonKind::NotSelected);
        result.reason_kind = Some(ReasonKind::NotSelected);
        result.reason = Some("not selected (--requirements, --level or --area)".into());
        return result;
    }

    let mine: Vec<&ScenarioResult> = scenarios
        .iter()
        .filter(|s| s.requirements.contains(&requirement.id))
        .collect();
    let my_checks: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.requirement == requirement.id)
        .collect();
    for scenario in &mine {
        result.notes.extend(
            scenario
                .notes
                .iter()
                .map(|n| format!("{}: {n}", scenario.location())),
        );
        result.scenarios.push(ScenarioRef {
            name: scenario.name.clone(),
            location: scenario.location(),
            verdict: scenario.verdict,
            reason: scenario.reason.clone(),
            reason_kind: scenario.reason_kind,
        });
        if let Some(failure) = &scenario.failure {
            result.failures.push(FailureRef {
                source: scenario.location(),
                failure: failure.clone(),
            });
        }
    }
    for check in &my_checks {
        result
            .notes
            .extend(check.notes.iter().map(|n| format!("{}: {n}", check.check)));
        result.checks.push(CheckRef {
            check: check.check.clone(),
            verdict: check.verdict,
            examined: check.examined,
        });
        for failure in &check.failures {
            result.failures.push(FailureRef {
                source: check.check.clone(),
                failure: failure.clone(),
            });
        }
    }
    let evidence = mine.iter().flat_map(|s| s.exchanges.iter()).chain(
        my_checks
            .iter()
            .flat_map(|c| c.failures.iter().filter_map(|f| f.exchange.as_ref())),
    );
    for exchange in evidence {
        if !result.exchanges.contains(exchange) {
            result.exchanges.push(exchange.clone());
        }
    }
    let outcomes = mine
        .iter()
        .map(|s| s.verdict)
        .chain(my_checks.iter().map(|c| c.verdict));
    let Some(verdict) = rules::of_requirement(outcomes) else {
        result.verdict = rules::unjudged(ReasonKind::NotSelected);
        result.reason_kind = Some(ReasonKind::NotSelected);
        result.reason = Some("no scenario or check for it was selected (see --tags)".into());
        return result;
    };
    result.verdict = verdict;
    let decided = decisive(verdict, &mine, &my_checks);
    (result.reason, result.reason_kind) = match (verdict, decided) {
        (Verdict::Fail, _) => (
            result.failures.first().map(|f| f.failure.message.clone()),
            None,
        ),
        (_, Some(Decisive::Scenario(scenario))) => (
            scenario
                .reason
                .clone()
                .map(|r| format!("{}: {r}", scenario.location())),
            scenario.reason_kind,
        ),
        (_, Some(Decisive::Check(check))) => (check.reason.clone(), check.reason_kind),
        (_, None) => (None, None),
    };
    if verdict == Verdict::Skipped
        && let Some(passed) = Some(mine.iter().filter(|s| s.verdict == Verdict::Pass).count())
        && passed > 0
    {
        result.reason = result.reason.map(|r| {
            format!(
                "{passed} of {} scenario(s) passed, but not all ran: {r}",
                mine.len()
            )
        });
    }
    result.evidence = evidence_sentence(verdict, &result, decided, exchanges);
    result
}

/// The scenario or check whose outcome decided a requirement's verdict: the first failure, error
/// or skip; for a pass or not-applicable verdict the first with that verdict.
#[derive(Clone, Copy)]
enum Decisive<'a> {
    Scenario(&'a ScenarioResult),
    Check(&'a CheckResult),
}

fn decisive<'a>(
    verdict: Verdict,
    scenarios: &[&'a ScenarioResult],
    checks: &[&'a CheckResult],
) -> Option<Decisive<'a>> {
    scenarios
        .iter()
        .find(|s| s.verdict == verdict)
        .map(|s| Decisive::Scenario(s))
        .or_else(|| {
            checks
                .iter()
                .find(|c| c.verdict == verdict)
                .map(|c| Decisive::Check(c))
        })
}

/// `features/fhir/read.feature:7: GET /Patient/9000000009 → 200`: the scenario or check, and the
/// request, that decided the verdict.
fn evidence_sentence(
    verdict: Verdict,
    result: &RequirementResult,
    decided: Option<Decisive>,
    exchanges: &[ExchangeRecord],
) -> Option<String> {
    let describe = |id: &crate::http::ExchangeId| {
        exchanges
            .iter()
            .find(|e| &e.id == id)
            .map(|e| e.summary())
            .unwrap_or_else(|| id.0.clone())
    };
    if verdict == Verdict::Fail {
        let first = result.failures.first()?;
        return Some(match &first.failure.exchange {
            Some(id) => format!("{}: {}", first.source, describe(id)),
            None => first.source.clone(),
        });
    }
    match decided? {
        Decisive::Scenario(scenario) => Some(match scenario.exchanges.last() {
            Some(id) => format!("{}: {}", scenario.location(), describe(id)),
            None => format!("{}: sent no request", scenario.location()),
        }),
        Decisive::Check(check) => Some(format!(
            "{}: judged {} exchange(s)",
            check.check, check.examined
        )),
    }
}

fn run_verdict(
    requirements: &[RequirementResult],
    harness_errors: &[String],
    gate: &super::Gate,
    coverage: Coverage,
) -> (RunVerdict, String) {
    let count = |verdict: Verdict, blocking: Option<bool>| {
        requirements
            .iter()
            .filter(|r| r.verdict == verdict && blocking.is_none_or(|b| r.blocking == b))
            .count()
    };
    let tally = Tally {
        errors: count(Verdict::Error, None),
        blocking_failures: count(Verdict::Fail, Some(true)),
        other_failures: count(Verdict::Fail, Some(false)),
        waived: count(Verdict::Waived, None),
        passed: count(Verdict::Pass, None),
        harness_errors: harness_errors.len(),
    };
    let verdict = rules::of_run(tally);
    let blocking = if gate.strict { "MUST/SHOULD" } else { "MUST" };
    let reason = match verdict {
        RunVerdict::Incomplete => {
            let mut parts = Vec::new();
            if tally.errors > 0 {
                parts.push(format!(
                    "{} requirement(s) could not be judged (errors or timeouts)",
                    tally.errors
                ));
            }
            if tally.harness_errors > 0 {
                parts.push(format!("{} harness error(s)", tally.harness_errors));
            }
            if coverage.judged == 0 {
                parts.push("no requirement was judged".into());
            }
            if tally.blocking_failures > 0 {
                parts.push(format!(
                    "{} {blocking} requirement(s) failed",
                    tally.blocking_failures
                ));
            }
            format!("incomplete: {}", parts.join("; "))
        }
        RunVerdict::NonConformant => format!(
            "{} {blocking} requirement(s) failed ({coverage})",
            tally.blocking_failures
        ),
        RunVerdict::Conformant => {
            let mut reason = format!(
                "all {} judged requirement(s) met every {blocking} ({coverage})",
                tally.passed
            );
            if tally.other_failures > 0 {
                let which = if gate.strict { "MAY" } else { "SHOULD/MAY" };
                reason.push_str(&format!(
                    "; {} {which} requirement(s) failed (warnings)",
                    tally.other_failures
                ));
            }
            if tally.waived > 0 {
                reason.push_str(&format!(
                    "; {} failure(s) waived (see each waiver's justification and expiry)",
                    tally.waived
                ));
            }
            reason
        }
    };
    (verdict, reason)
}

pub fn exit_code_for(report: &Report) -> ExitCode {
    match report.verdict {
        RunVerdict::Conformant => ExitCode::Success,
        RunVerdict::NonConformant => ExitCode::NonConformant,
        RunVerdict::Incomplete => ExitCode::Incomplete,
    }
}

/// An exchange as the report keeps it (bodies cut at the report's limit).
pub(crate) fn record(exchange: &Exchange) -> ExchangeRecord {
    ExchangeRecord {
        id: exchange.id.clone(),
        label: exchange.label.clone(),
        started: exchange
            .started
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        elapsed_ms: exchange.elapsed_ms,
        request: exchange.request.clone(),
        response: exchange.response.as_ref().map(|response| {
            let text = response.body.text();
            let limit = if exchange.id.0 == "openapi#1" {
                OPENAPI_BODY_LIMIT
            } else {
                REPORT_BODY_LIMIT
            };
            let (body, cut) = if text.len() > limit {
                let mut end = limit;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                (text[..end].to_owned(), true)
            } else {
                (text, false)
            };
            ResponseRecord {
                status: response.status,
                http_version: response.http_version.clone(),
                headers: response.headers.clone(),
                body,
                body_size: response.body.bytes().len(),
                body_truncated: cut || response.body.truncated,
            }
        }),
        error: exchange.error.clone(),
        retried: exchange.retried.clone(),
        kind: exchange.kind,
    }
}

#[cfg(test)]
mod tests;
