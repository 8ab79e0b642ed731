//! Passive checks: rules judged on every exchange of the run, not on one chosen request. A
//! server that gets a rule right on the happy path but wrong on an error path is caught.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::catalogue::{Profile, RequirementCode};
use crate::fhir::schema::FhirSchema;
use crate::http::{Exchange, ExchangeId};
use crate::openapi::OpenApi;
use crate::report::{CheckResult, Failure, ReasonKind, Verdict};

/// Most failures listed per check; the rest are counted.
const FAILURE_LIMIT: usize = 25;

pub struct PassiveContext {
    pub schema: Arc<FhirSchema>,
    pub profile: Profile,
    /// The FHIR base URL of the target, to relate request paths to documented operations.
    pub base_url: String,
    /// The supplier's OpenAPI document, when one was given.
    pub openapi: Option<Arc<OpenApi>>,
    /// The supplier's CapabilityStatement declares `application/json`, so FHIR JSON labelled so
    /// is not a mislabel (SEC-HDR-005); its OpenAPI document may declare it per response.
    pub json_declared: bool,
    /// The profile the target declares for every resource of a type (IOP-UKC-008).
    pub declared_profiles: std::collections::BTreeMap<String, String>,
}

/// What a check concluded about one exchange.
pub struct Judged {
    pub result: Result<(), Failure>,
    /// Something worth telling the reader that does not fail the rule.
    pub note: Option<String>,
}

impl Judged {
    pub fn pass() -> Self {
        Self {
            result: Ok(()),
            note: None,
        }
    }

    pub fn fail(failure: Failure) -> Self {
        Self {
            result: Err(failure),
            note: None,
        }
    }

    pub fn from_problems(
        exchange: &Exchange,
        what: &str,
        expected: &str,
        problems: Vec<String>,
    ) -> Self {
        if problems.is_empty() {
            return Self::pass();
        }
        let shown: Vec<&String> = problems.iter().take(5).collect();
        let more = if problems.len() > 5 {
            format!(" (+{} more)", problems.len() - 5)
        } else {
            String::new()
        };
        Self::fail(
            Failure::new(format!(
                "{} {what}: {}",
                exchange.summary_request(),
                problems[0]
            ))
            .expected(expected)
            .actual(format!(
                "{}{more}",
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        )
    }
}

/// A rule judged per exchange. `judge` returns `None` when the exchange is not one the rule is
/// about (e.g. a success response for an error-format rule).
pub struct PassiveCheck {
    pub id: &'static str,
    pub requirement: RequirementCode,
    pub summary: &'static str,
    pub judge: fn(&Exchange, &PassiveContext) -> Option<Judged>,
    /// Why the rule judged nothing in a run, when that is more than "no exchange was one it
    /// applies to" (`None`).
    pub unjudged: Option<fn(OpenApiUse) -> (ReasonKind, String)>,
}

pub use super::rules::PASSIVE_CHECKS;

/// What became of the supplier's OpenAPI document, for why the openapi checks judged nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiUse {
    NotGiven,
    /// Given, but it could not be fetched or parsed (API-DOC-001 fails and says why).
    Unreadable,
    Read,
}

/// Runs the checks for the selected requirements over all exchanges.
pub fn run_passive_checks(
    exchanges: &[Arc<Exchange>],
    context: &PassiveContext,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckResult> {
    let judgements = judge_exchanges(exchanges, context, &selected);
    let openapi = if context.openapi.is_some() {
        OpenApiUse::Read
    } else {
        OpenApiUse::NotGiven
    };
    aggregate(&judgements, openapi, &selected)
}

/// One check's judgement of one exchange: what a shard keeps, so that shards merge into
/// exactly the check results of one unsharded run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckJudgement {
    pub check: String,
    pub exchange: ExchangeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every selected check over every exchange with a response, in exchange order.
pub fn judge_exchanges(
    exchanges: &[Arc<Exchange>],
    context: &PassiveContext,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckJudgement> {
    let mut judgements = Vec::new();
    for check in PASSIVE_CHECKS
        .iter()
        .filter(|c| selected(c.requirement.as_str()))
    {
        for exchange in exchanges.iter().filter(|e| e.response.is_some()) {
            let Some(judged) = (check.judge)(exchange, context) else {
                continue;
            };
            judgements.push(CheckJudgement {
                check: check.id.to_owned(),
                exchange: exchange.id.clone(),
                failure: judged.result.err().map(|f| f.exchange(&exchange.id)),
                note: judged.note,
            });
        }
    }
    judgements
}

/// The check results from the judgements (each check's judgements in exchange order).
pub fn aggregate(
    judgements: &[CheckJudgement],
    openapi: OpenApiUse,
    selected: impl Fn(&str) -> bool,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in PASSIVE_CHECKS
        .iter()
        .filter(|c| selected(c.requirement.as_str()))
    {
        let requirement = check.requirement.id();
        let mut examined = 0;
        let mut failures = Vec::new();
        let mut failed = 0usize;
        let mut notes = BTreeSet::new();
        for judgement in judgements.iter().filter(|j| j.check == check.id) {
            examined += 1;
            if let Some(note) = &judgement.note {
                notes.insert(note.clone());
            }
            if let Some(failure) = &judgement.failure {
                failed += 1;
                if failures.len() < FAILURE_LIMIT {
                    failures.push(failure.clone());
                }
            }
        }
        if failed > failures.len() {
            failures.push(Failure::new(format!(
                "…and {} more failing exchanges",
                failed - failures.len()
            )));
        }
        let (verdict, reason, reason_kind) = match crate::verdict::of_check(examined, failed) {
            None => {
                let (kind, why) = unjudged_reason(check, openapi);
                (crate::verdict::unjudged(kind), Some(why), Some(kind))
            }
            Some(Verdict::Fail) => (
                Verdict::Fail,
                Some(format!("{failed} of {examined} exchanges break the rule")),
                None,
            ),
            Some(verdict) => (verdict, None, None),
        };
        results.push(CheckResult {
            check: check.id.to_owned(),
            requirement,
            verdict,
            examined,
            reason,
            reason_kind,
            failures,
            notes: notes.into_iter().take(10).collect(),
        });
    }
    results
}

/// Why a check judged nothing: its own reason, or no exchange it is about.
fn unjudged_reason(check: &PassiveCheck, openapi: OpenApiUse) -> (ReasonKind, String) {
    match check.unjudged {
        Some(reason) => reason(openapi),
        None => (
            ReasonKind::NothingToJudge,
            "no exchange of this run was one the check applies to".into(),
        ),
    }
}
