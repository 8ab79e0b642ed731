//! The one result model every report format is rendered from. A failing supplier is a report,
//! never an error.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalogue::{Level, Profile, RequirementId, Status};
use crate::http::{ExchangeId, TransportError};

/// Bump when a field changes meaning or disappears (adding fields is compatible). Version 2
/// added the verdict `attested` (version 1 had `attestation` alone), so an older mts says it
/// cannot read the report rather than calling it malformed.
pub const REPORT_SCHEMA_VERSION: u32 = 2;
/// The oldest version this mts still reads: a version 1 report is a version 2 report without
/// `attested` verdicts.
pub const OLDEST_READABLE_SCHEMA_VERSION: u32 = 1;

pub use crate::verdict::{ReasonKind, RunVerdict, Verdict};

/// Why something failed, with the exchange that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Failure {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default)]
    pub requirements: Vec<RequirementId>,
    pub verdict: Verdict,
    /// For skipped / not-applicable / error: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For skipped / not-applicable: the kind of reason, which decided the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_kind: Option<ReasonKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The step that decided the outcome, as written in the feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For skipped / not-applicable: the kind of reason, which decided the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_kind: Option<ReasonKind>,
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Observations that do not fail the rule but a reader should know (which profile rule
    /// applied, codes outside mts's lists…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ScenarioRef {
    pub name: String,
    pub location: String,
    pub verdict: Verdict,
    /// Why it was skipped, not applicable or in error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_kind: Option<ReasonKind>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CheckRef {
    pub check: String,
    pub verdict: Verdict,
    pub examined: usize,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RequirementResult {
    pub id: RequirementId,
    /// The level that applied under the run's profile.
    pub level: Level,
    pub title: String,
    pub area: String,
    /// What the requirement asks, in the catalogue's words.
    pub statement: String,
    /// Where it comes from.
    #[serde(default)]
    pub sources: Vec<SourceRecord>,
    pub status: Status,
    pub verdict: Verdict,
    /// Whether this verdict stops the run being conformant (an error, or a failure at a level
    /// that blocks under the run's gate). Every report format reads this flag.
    pub blocking: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For skipped / not-applicable: the kind of reason, which decided the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_kind: Option<ReasonKind>,
    /// The scenario or check, and the request, that decided the verdict:
    /// `features/fhir/read.feature:7: GET /Patient/9000000009 → 200`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Where the profile changed the rule (level override or a source conflict resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_rule: Option<String>,
    #[serde(default)]
    pub scenarios: Vec<ScenarioRef>,
    #[serde(default)]
    pub checks: Vec<CheckRef>,
    #[serde(default)]
    pub failures: Vec<FailureRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The exchanges behind the verdict: every exchange of its scenarios, and those its
    /// checks found wanting (ids of `exchanges[]` and of `evidence.har` entries).
    #[serde(default)]
    pub exchanges: Vec<ExchangeId>,
}

/// How many of a failure's exchanges a JUnit message or job summary names before it counts the
/// rest.
pub const NAMED_EXCHANGES: usize = 3;

impl RequirementResult {
    /// The exchanges its failures name (ids of `exchanges[]` and `evidence.har` entries), each
    /// once, in the order the failures give them.
    pub fn failure_exchanges(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for failure in &self.failures {
            if let Some(id) = &failure.failure.exchange
                && !ids.contains(&id.0.as_str())
            {
                ids.push(&id.0);
            }
        }
        ids
    }

    /// The first `at_most` of [`Self::failure_exchanges`], and how many more there are (a
    /// passive check can fail on every exchange of a run).
    pub fn failure_exchanges_first(&self, at_most: usize) -> (Vec<&str>, usize) {
        let mut ids = self.failure_exchanges();
        let more = ids.len().saturating_sub(at_most);
        ids.truncate(at_most);
        (ids, more)
    }
}

/// A source of a requirement: the standard or document, and where in it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SourceRecord {
    pub code: String,
    pub title: String,
    pub url: String,
    pub detail: String,
}

/// A failure with where it came from (a scenario location or a check id).
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TransportError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<String>,
    /// `oauth` for token-endpoint exchanges (FHIR checks leave them alone); FHIR otherwise.
    #[serde(default, skip_serializing_if = "is_fhir")]
    pub kind: crate::http::ExchangeKind,
}

impl ExchangeRecord {
    /// One line naming the exchange: `GET /Patient/1 → 404`.
    pub fn summary(&self) -> String {
        let path = crate::http::exchange_path(&self.request.url);
        match (&self.response, &self.error) {
            (Some(response), _) => {
                format!("{} {} → {}", self.request.method, path, response.status)
            }
            (None, Some(error)) => format!("{} {} → {}", self.request.method, path, error.message),
            (None, None) => format!("{} {}", self.request.method, path),
        }
    }
}

fn is_fhir(kind: &crate::http::ExchangeKind) -> bool {
    *kind == crate::http::ExchangeKind::Fhir
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ResponseRecord {
    pub status: u16,
    pub http_version: String,
    #[serde(default)]
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

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Harness {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CatalogueInfo {
    pub version: String,
    pub digest: String,
}

/// One piece of evidence, as recorded in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct EvidenceRecord {
    /// As the supplier gave it.
    pub given: String,
    /// The copy in the run folder (files only), covered by the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// An attestation as the report keeps it: what was said, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct AttestationRecord {
    pub requirement: String,
    pub statement: String,
    pub evidence: Vec<EvidenceRecord>,
    pub by: String,
    pub date: String,
    /// `yes` or `no`, for a yes-or-no question; absent means yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Why it is incomplete, found when it was read (the age is judged with the run's day).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl AttestationRecord {
    /// A yes-or-no question answered no (the Cyber Security Charter not signed).
    pub fn answered_no(&self) -> bool {
        self.answer.as_deref() == Some("no")
    }
}

/// What the preflight found of one promise of the test-data kit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum KitFinding {
    Found,
    /// The target's answer shows the promise unmet: a missing prerequisite.
    Missing,
    /// mts could not tell (a refusal, a body that is not a Bundle, no answer).
    Unknown,
}

impl KitFinding {
    pub fn as_str(self) -> &'static str {
        match self {
            KitFinding::Found => "found",
            KitFinding::Missing => "missing",
            KitFinding::Unknown => "unknown",
        }
    }
}

/// One promise of the test-data kit (`[[data.patient.<role>.promise]]`, `sensitive`), as the
/// preflight before the run found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct KitRecord {
    pub role: String,
    pub patient: String,
    /// The type promised; absent for `sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    pub promised: String,
    pub found: String,
    pub status: KitFinding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub exchanges: Vec<ExchangeId>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema, Default)]
pub struct RunSettingsRecord {
    pub concurrency: usize,
    pub timeout_seconds: f64,
    pub allow_writes: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub waivers: Vec<crate::config::Waiver>,
    /// The supplier's attestations, as given, with what is incomplete in each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationRecord>,
    /// Faults switched on in the embedded sandbox, when the run tested it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sandbox_faults: Vec<String>,
}

/// Automated requirements that apply under the profile and were selected, and how many of them
/// were judged (passed, failed or waived) rather than skipped, not applicable or in error.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Coverage {
    pub judged: usize,
    pub applicable: usize,
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} automated requirements judged",
            self.judged, self.applicable
        )
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    /// A UUID naming this run (the FHIR TestReport's identifier too).
    pub run_id: String,
    pub verdict: RunVerdict,
    /// One sentence that says why the verdict is what it is.
    #[serde(default)]
    pub verdict_reason: String,
    pub target: String,
    pub profile: Profile,
    pub harness: Harness,
    pub catalogue: CatalogueInfo,
    pub started: String,
    pub duration_ms: u64,
    #[serde(default)]
    pub settings: RunSettingsRecord,
    /// What the TLS handshake with the target negotiated, and its certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRecord>,
    /// Requirement counts per verdict.
    #[serde(default)]
    pub counts: BTreeMap<String, usize>,
    /// How much of what could be judged was: a run that judged little says so beside its
    /// verdict.
    #[serde(default)]
    pub coverage: Coverage,
    /// What the target declares, as discovered before planning (CapabilityStatement, OpenAPI,
    /// `mts.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_model: Option<crate::target::TargetModel>,
    /// The test-data kit's promises, checked before the scenarios ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_data_kit: Vec<KitRecord>,
    #[serde(default)]
    pub requirements: Vec<RequirementResult>,
    #[serde(default)]
    pub scenarios: Vec<ScenarioResult>,
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// Problems of the harness itself (not of the supplier) that make the run incomplete.
    #[serde(default)]
    pub harness_errors: Vec<String>,
    #[serde(default)]
    pub exchanges: Vec<ExchangeRecord>,
    /// What the run wrote on the target and what its cleanup did about it (only with
    /// `--allow-writes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<super::WrittenSection>,
}
