//! `mts diff <runA> <runB>`: what changed between two runs, requirement by requirement, for a
//! CI job that must fail when a supplier's API regresses.
//! Both reports are read with `report::read`, which also takes reports an older mts wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{Report, RequirementResult, Verdict};

/// How a requirement moved between the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Failing (or in error) now, and not before: a regression.
    NewFailure,
    /// Failing before, passing now.
    Fixed,
    /// Failing in both, for the same reasons.
    StillFailing,
    /// Failing in both, but the evidence differs (other scenarios, checks or values).
    ChangedEvidence,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::NewFailure => "new failure",
            Change::Fixed => "fixed",
            Change::StillFailing => "still failing",
            Change::ChangedEvidence => "changed evidence",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementChange {
    pub id: String,
    pub level: String,
    pub change: Change,
    pub before: String,
    pub after: String,
    /// The failure reason in the later run (or the earlier one, for a fix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunDiff {
    pub before: RunSummary,
    pub after: RunSummary,
    pub changes: Vec<RequirementChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub folder: String,
    pub verdict: String,
    pub target: String,
    pub profile: String,
    pub catalogue: String,
}

impl RunDiff {
    pub fn regressions(&self) -> usize {
        self.count(Change::NewFailure)
    }

    pub fn count(&self, change: Change) -> usize {
        self.changes.iter().filter(|c| c.change == change).count()
    }
}

fn is_failing(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Fail | Verdict::Error)
}

/// What a failure consists of: the failing scenarios and checks with their expected and actual
/// values. Exchange ids and timings are left out, since they differ between any two runs.
fn evidence(requirement: &RequirementResult) -> Vec<String> {
    let mut evidence: Vec<String> = requirement
        .failures
        .iter()
        .map(|f| {
            format!(
                "{} | {} | {} | {}",
                f.source,
                f.failure.message,
                f.failure.expected.as_deref().unwrap_or_default(),
                f.failure.actual.as_deref().unwrap_or_default()
            )
        })
        .collect();
    evidence.extend(
        requirement
            .scenarios
            .iter()
            .filter(|s| s.verdict == Verdict::Error)
            .map(|s| format!("{} | error", s.location)),
    );
    evidence.sort();
    evidence
}

fn summary(folder: &Path, report: &Report) -> RunSummary {
    RunSummary {
        folder: folder.display().to_string(),
        verdict: report.verdict.as_str().to_owned(),
        target: report.target.clone(),
        profile: report.profile.to_string(),
        catalogue: report.catalogue.version.clone(),
    }
}

/// Compares two reports. Requirements failing in neither run are left out.
pub fn diff(before_folder: &Path, before: &Report, after_folder: &Path, after: &Report) -> RunDiff {
    let by_id = |report: &'_ Report| -> BTreeMap<String, RequirementResult> {
        report
            .requirements
            .iter()
            .map(|r| (r.id.as_str().to_owned(), r.clone()))
            .collect()
    };
    let (old, new) = (by_id(before), by_id(after));
    let mut changes = Vec::new();
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for id in ids {
        let (was, now) = (old.get(id), new.get(id));
        let verdict = |r: Option<&RequirementResult>| r.map(|r| r.verdict);
        let failing = |r: Option<&RequirementResult>| verdict(r).is_some_and(is_failing);
        let name =
            |r: Option<&RequirementResult>| verdict(r).map_or("absent", Verdict::as_str).to_owned();
        let evidence_of = |r: Option<&RequirementResult>| r.map(evidence).unwrap_or_default();
        let change = match (failing(was), failing(now)) {
            (false, true) => Change::NewFailure,
            (true, false) if verdict(now) == Some(Verdict::Pass) => Change::Fixed,
            // Failing before, and now skipped or not run: nothing proves it fixed.
            (true, false) => Change::ChangedEvidence,
            (true, true)
                if verdict(was) != verdict(now) || evidence_of(was) != evidence_of(now) =>
            {
                Change::ChangedEvidence
            }
            (true, true) => Change::StillFailing,
            (false, false) => continue,
        };
        let shown = if change == Change::Fixed { was } else { now };
        changes.push(RequirementChange {
            id: id.clone(),
            level: now.or(was).map(|r| r.level.to_string()).unwrap_or_default(),
            change,
            before: name(was),
            after: name(now),
            reason: shown.and_then(|r| r.reason.clone()),
        });
    }
    changes.sort_by(|a, b| a.change.cmp(&b.change).then_with(|| a.id.cmp(&b.id)));
    RunDiff {
        before: summary(before_folder, before),
        after: summary(after_folder, after),
        changes,
    }
}

/// The diff as text for a terminal or a CI log.
pub fn render_text(diff: &RunDiff) -> String {
    let mut out = format!(
        "before: {} ({}, {} profile, catalogue {})\nafter:  {} ({}, {} profile, catalogue {})\n",
        diff.before.folder,
        diff.before.verdict,
        diff.before.profile,
        diff.before.catalogue,
        diff.after.folder,
        diff.after.verdict,
        diff.after.profile,
        diff.after.catalogue,
    );
    if diff.before.target != diff.after.target {
        out.push_str(&format!(
            "note: the targets differ ({} then {})\n",
            diff.before.target, diff.after.target
        ));
    }
    for change in [
        Change::NewFailure,
        Change::ChangedEvidence,
        Change::StillFailing,
        Change::Fixed,
    ] {
        let rows: Vec<&RequirementChange> =
            diff.changes.iter().filter(|c| c.change == change).collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({}):\n", change.label(), rows.len()));
        for row in rows {
            out.push_str(&format!(
                "  {:<14} {:<8} {} -> {}{}\n",
                row.id,
                row.level,
                row.before,
                row.after,
                row.reason
                    .as_deref()
                    .map(|r| format!(": {}", crate::fhir::schema::shorten(r)))
                    .unwrap_or_default()
            ));
        }
    }
    out.push_str(&format!(
        "\n{} new failure(s), {} fixed, {} still failing, {} with changed evidence\n",
        diff.count(Change::NewFailure),
        diff.count(Change::Fixed),
        diff.count(Change::StillFailing),
        diff.count(Change::ChangedEvidence)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn report(requirements: Value) -> Report {
        serde_json::from_value(
            json!({"schema_version": 1, "run_id": "r", "verdict": "incomplete",
            "target": "t", "profile": "apim", "harness": {"name": "mts", "version": "0"},
            "catalogue": {"version": "1", "digest": "d"}, "started": "2026-12-04T00:00:00Z",
            "duration_ms": 0, "counts": {}, "requirements": requirements}),
        )
        .unwrap()
    }

    fn requirement(id: &str, verdict: &str, message: &str) -> Value {
        json!({"id": id, "level": "MUST", "title": "", "area": "", "statement": "", "sources": [],
            "status": "automated", "verdict": verdict, "blocking": false, "reason": message,
            "scenarios": [], "checks": [], "exchanges": [],
            "failures": if verdict == "fail" { json!([{"source": "a.feature:1", "message": message}]) } else { json!([]) }})
    }
    #[test]
    fn each_kind_of_change_is_told_apart() {
        let before = report(json!([
            requirement("IOP-TST-001", "pass", ""),
            requirement("IOP-TST-002", "fail", "x"),
            requirement("IOP-TST-003", "fail", "x"),
            requirement("IOP-TST-004", "fail", "x"),
            requirement("IOP-TST-005", "pass", ""),
            requirement("IOP-TST-006", "fail", "x"),
        ]));
        let after = report(json!([
            requirement("IOP-TST-001", "fail", "broke"),
            requirement("IOP-TST-002", "pass", ""),
            requirement("IOP-TST-003", "fail", "x"),
            requirement("IOP-TST-004", "fail", "y"),
            requirement("IOP-TST-005", "pass", ""),
            requirement("IOP-TST-006", "skipped", "not selected"),
            requirement("IOP-TST-007", "error", "timeout"),
        ]));
        let diff = diff(Path::new("a"), &before, Path::new("b"), &after);
        let kinds: Vec<(&str, Change)> = diff
            .changes
            .iter()
            .map(|c| (c.id.as_str(), c.change))
            .collect();
        assert_eq!(
            kinds,
            [
                ("IOP-TST-001", Change::NewFailure),
                ("IOP-TST-007", Change::NewFailure),
                ("IOP-TST-002", Change::Fixed),
                ("IOP-TST-003", Change::StillFailing),
                ("IOP-TST-004", Change::ChangedEvidence),
                ("IOP-TST-006", Change::ChangedEvidence),
            ]
        );
        assert_eq!(diff.regressions(), 2);
        let text = render_text(&diff);
        assert!(text.contains("new failure (2)"), "{text}");
        assert!(
            text.contains("2 new failure(s), 1 fixed, 1 still failing, 2 with changed evidence")
        );
    }
}
