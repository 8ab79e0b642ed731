//! The one result model every report format is rendered from. A failing supplier is a report,
//! never an error.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalogue::{Level, Profile, RequirementId, Status};
use crate::http::{ExchangeId, TransportError};

/// Bump when a field changes meaning or disappears (adding fields is compatible).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The outcome of one scenario, one check, or a whole requirement.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The harness could not reach a judgement (timeout, unreachable target, harness fault).
    Error,
    /// Not run: not selected, data missing, writes not allowed, or not automated yet.
    Skipped,
    /// The requirement's precondition is absent (the profile or the server's declared
    /// capabilities say it does not apply).
    NotApplicable,
    /// No black-box test can show it: the supplier attests.
    Attestation,
    /// Failed, but a waiver in force (with its justification and expiry) accepts the failure.
    Waived,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
            Verdict::NotApplicable => "not-applicable",
            Verdict::Attestation => "attestation",
            Verdict::Waived => "waived",
        }
    }

    /// Combines the outcomes behind one requirement: any failure fails it; otherwise any error
    /// makes it an error; otherwise one pass is enough; otherwise not-applicable beats skipped.
    pub fn combine(outcomes: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        let mut seen = [false; 7];
        let mut any = false;
        for outcome in outcomes {
            any = true;
            seen[outcome as usize] = true;
        }
        if !any {
            return None;
        }
        let order = [
            Verdict::Fail,
            Verdict::Waived,
            Verdict::Error,
            Verdict::Pass,
            Verdict::NotApplicable,
            Verdict::Skipped,
            Verdict::Attestation,
        ];
        order.into_iter().find(|v| seen[*v as usize])
    }
}

/// The run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunVerdict {
    Conformant,
    NonConformant,
    Incomplete,
}

impl RunVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Conformant => "conformant",
            RunVerdict::NonConformant => "non-conformant",
            RunVerdict::Incomplete => "incomplete",
        }
    }
}

/// Why something failed, with the exchange that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Failure {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeId>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            expected: None,
            actual: None,
            exchange: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Self {
        self.actual = Some(actual.into());
        self
    }

    pub fn exchange(mut self, exchange: &ExchangeId) -> Self {
        self.exchange = Some(exchange.clone());
        self
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ScenarioResult {
    pub feature: String,
    pub name: String,
    pub line: usize,
    pub requirements: Vec<RequirementId>,
    pub verdict: Verdict,
    /// For skipped / not-applicable / error: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The step that decided the outcome, as written in the feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub exchanges: Vec<ExchangeId>,
    pub duration_ms: u64,
    /// What the scenario observed that a reader should know, e.g. which of two behaviours the
    /// NHS sources allow the server chose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ScenarioResult {
    /// `features/x.feature:12`
    pub fn location(&self) -> String {
        format!("{}:{}", self.feature, self.line)
    }
}

/// The outcome of one passive check (run over every exchange of the run) for one requirement.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CheckResult {
    pub check: String,
    pub requirement: RequirementId,
    pub verdict: Verdict,
    /// Exchanges the check judged.
    pub examined: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub failures: Vec<Failure>,
    /// Observations that do not fail the rule but a reader should know (which profile rule
    /// applied, codes outside mts's lists…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScenarioRef {
    pub name: String,
    pub location: String,
    pub verdict: Verdict,
    /// Why it was skipped, not applicable or in error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckRef {
    pub check: String,
    pub verdict: Verdict,
    pub examined: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RequirementResult {
    pub id: RequirementId,
    /// The level that applied under the run's profile.
    pub level: Level,
    pub title: String,
    pub area: String,
    /// What the requirement asks, in the catalogue's words.
    pub statement: String,
    /// Where it comes from.
    pub sources: Vec<SourceRecord>,
    pub status: Status,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the profile changed the rule (level override or a source conflict resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_rule: Option<String>,
    pub scenarios: Vec<ScenarioRef>,
    pub checks: Vec<CheckRef>,
    pub failures: Vec<FailureRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The exchanges behind the verdict: every exchange of its scenarios, and those its
    /// checks found wanting (ids of `exchanges[]` and of `evidence.har` entries).
    pub exchanges: Vec<ExchangeId>,
}

/// A source of a requirement: the standard or document, and where in it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SourceRecord {
    pub code: String,
    pub title: String,
    pub url: String,
    pub detail: String,
}

/// A failure with where it came from (a scenario location or a check id).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FailureRef {
    pub source: String,
    #[serde(flatten)]
    pub failure: Failure,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ExchangeRecord {
    pub id: ExchangeId,
    pub label: String,
    pub started: String,
    pub elapsed_ms: u64,
    pub request: crate::http::RecordedRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TransportError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<String>,
    /// `oauth` for token-endpoint exchanges (FHIR checks leave them alone); FHIR otherwise.
    #[serde(default, skip_serializing_if = "is_fhir")]
    pub kind: crate::http::ExchangeKind,
}

fn is_fhir(kind: &crate::http::ExchangeKind) -> bool {
    *kind == crate::http::ExchangeKind::Fhir
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ResponseRecord {
    pub status: u16,
    pub http_version: String,
    pub headers: Vec<(String, String)>,
    /// The body as text, cut at the report's body limit.
    pub body: String,
    pub body_size: usize,
    pub body_truncated: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TlsRecord {
    Negotiated(crate::tls::TlsFacts),
    Failed { error: String },
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Harness {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CatalogueInfo {
    pub version: String,
    pub digest: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema, Default)]
pub struct RunSettingsRecord {
    pub concurrency: usize,
    pub timeout_seconds: f64,
    pub allow_writes: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// `--level` filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
    /// `--area` filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub areas: Vec<String>,
    /// `--shard K/N`: this run covers only that share of the scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// SHOULD failures block as well as MUST ones (`--strict` or `[gate] strict`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// Waivers that applied to this run, in force or expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<crate::runner::Waiver>,
    /// Faults switched on in the embedded sandbox, when the run tested it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sandbox_faults: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    /// A UUID naming this run (the FHIR TestReport's identifier too).
    pub run_id: String,
    pub verdict: RunVerdict,
    /// One sentence that says why the verdict is what it is.
    pub verdict_reason: String,
    pub target: String,
    pub profile: Profile,
    pub harness: Harness,
    pub catalogue: CatalogueInfo,
    pub started: String,
    pub duration_ms: u64,
    pub settings: RunSettingsRecord,
    /// What the TLS handshake with the target negotiated, and its certificate chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRecord>,
    /// Requirement counts per verdict.
    pub counts: BTreeMap<String, usize>,
    pub requirements: Vec<RequirementResult>,
    pub scenarios: Vec<ScenarioResult>,
    pub checks: Vec<CheckResult>,
    /// Problems of the harness itself (not of the supplier) that make the run incomplete.
    pub harness_errors: Vec<String>,
    pub exchanges: Vec<ExchangeRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_combine_failure_first() {
        use Verdict::*;
        assert_eq!(Verdict::combine([Pass, Fail, Error]), Some(Fail));
        assert_eq!(Verdict::combine([Pass, Error]), Some(Error));
        assert_eq!(Verdict::combine([Pass, NotApplicable, Skipped]), Some(Pass));
        assert_eq!(
            Verdict::combine([NotApplicable, Skipped]),
            Some(NotApplicable)
        );
        assert_eq!(Verdict::combine([Skipped]), Some(Skipped));
        assert_eq!(Verdict::combine([]), None);
    }
}
