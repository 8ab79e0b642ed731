//! What a run wrote on the target (`report.json` `written`): every resource a create made and
//! every resource changed in place, who wrote it, and what the cleanup after the scenarios did
//! about it. Cleanup never changes a verdict; this section only tells the supplier what mts left.

use serde::Serialize;

use super::model::ExchangeRecord;
use crate::catalogue::RequirementId;
use crate::http::ExchangeId;

/// The section: present only when writes were allowed.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct WrittenSection {
    /// One entry per resource reference, in the order of the exchanges that wrote them (by id).
    #[serde(default)]
    pub resources: Vec<WrittenResource>,
    /// The cleanup's own requests (the DELETEs, and a token fetched for them): evidence of this
    /// section only, never judged by a requirement's checks.
    #[serde(default)]
    pub exchanges: Vec<ExchangeRecord>,
}

/// How the run wrote a resource.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum WriteAction {
    /// A create (or a transaction/batch entry) answered with a new resource.
    Created,
    /// An update or patch of a resource that was already there (the test patient): mts did not
    /// create it, so never deletes it.
    Changed,
}

/// What the cleanup did about one resource.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupOutcome {
    /// The DELETE was answered 200, 202 or 204.
    Deleted,
    /// The DELETE was answered 404 or 410: it was gone already.
    AlreadyGone,
    /// The DELETE was answered with another status (in `detail`).
    DeleteRefused,
    /// The DELETE got no answer (the transport error is in `detail`).
    DeleteFailed,
    /// No DELETE was sent; `detail` says why and how to remove it.
    Left,
    /// `--keep-written`: no DELETE was sent, on purpose.
    Kept,
    /// Changed in place: not mts's to delete.
    Changed,
}

impl CleanupOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupOutcome::Deleted => "deleted",
            CleanupOutcome::AlreadyGone => "already-gone",
            CleanupOutcome::DeleteRefused => "delete-refused",
            CleanupOutcome::DeleteFailed => "delete-failed",
            CleanupOutcome::Left => "left",
            CleanupOutcome::Kept => "kept",
            CleanupOutcome::Changed => "changed",
        }
    }

    /// Whether the resource mts created is no longer on the target.
    pub fn is_gone(self) -> bool {
        matches!(self, CleanupOutcome::Deleted | CleanupOutcome::AlreadyGone)
    }
}

/// One resource the run wrote.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct WrittenResource {
    /// `Observation/123` (any `_history` version stripped).
    pub reference: String,
    pub action: WriteAction,
    /// The exchange that wrote it (an id of `exchanges[]` and `evidence.har`).
    pub exchange: ExchangeId,
    /// The scenario that sent it (`features/fhir/write.feature:12`), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The requirements of that scenario.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementId>,
    /// The mts test identifier the create carried (`system|value`), to find it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub outcome: CleanupOutcome,
    /// The status, error or reason behind the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The cleanup's DELETE (an id of `written.exchanges`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_exchange: Option<ExchangeId>,
}

impl WrittenResource {
    /// `deleted`, `delete-refused: 403`, `left: the target declares no delete of …`.
    pub fn outcome_text(&self) -> String {
        match (&self.detail, self.outcome) {
            (_, CleanupOutcome::Kept) => "kept (--keep-written)".into(),
            (Some(detail), outcome) => format!("{}: {detail}", outcome.as_str()),
            (None, outcome) => outcome.as_str().into(),
        }
    }
}

impl WrittenSection {
    /// The console line: `wrote 7 resources on the target: 7 deleted`, or with what is left
    /// `…: 5 deleted, 2 left: see report`; `None` when nothing was written.
    pub fn summary(&self) -> Option<String> {
        if self.resources.is_empty() {
            return None;
        }
        let created: Vec<&WrittenResource> = self
            .resources
            .iter()
            .filter(|r| r.action == WriteAction::Created)
            .collect();
        let changed = self.resources.len() - created.len();
        let count =
            |outcome: CleanupOutcome| created.iter().filter(|r| r.outcome == outcome).count();
        let mut parts = Vec::new();
        for (outcome, words) in [
            (CleanupOutcome::Deleted, "deleted"),
            (CleanupOutcome::AlreadyGone, "already gone"),
            (CleanupOutcome::Kept, "kept (--keep-written)"),
        ] {
            let n = count(outcome);
            if n > 0 {
                parts.push(format!("{n} {words}"));
            }
        }
        let left = created
            .iter()
            .filter(|r| !r.outcome.is_gone() && r.outcome != CleanupOutcome::Kept)
            .count();
        if left > 0 {
            parts.push(format!("{left} left: see report"));
        }
        let plural = |n: usize| if n == 1 { "resource" } else { "resources" };
        let mut line = format!(
            "wrote {} {} on the target",
            created.len(),
            plural(created.len())
        );
        if !parts.is_empty() {
            line.push_str(": ");
            line.push_str(&parts.join(", "));
        }
        if changed > 0 {
            line.push_str(&format!(
                "; changed {changed} {} in place (not deleted)",
                plural(changed)
            ));
        }
        Some(line)
    }
}
