//! `mts diff <runA> <runB>`: what changed between two runs, requirement by requirement, for a
//! CI job that must fail when a supplier's API regresses.
//!
//! Reports are read as JSON values rather than the Rust types, so that runs written by an older
//! mts (or by a shard merge) can still be compared.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

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

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an mts report: {message}")]
    Invalid { path: String, message: String },
}

/// Reads `report.json` from a run folder.
pub fn read_report(folder: &Path) -> Result<Value, DiffError> {
    let path = folder.join("report.json");
    let text = std::fs::read(&path).map_err(|source| DiffError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let report: Value = serde_json::from_slice(&text).map_err(|e| DiffError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if !report["requirements"].is_array() {
        return Err(DiffError::Invalid {
            path: path.display().to_string(),
            message: "no requirements[]".into(),
        });
    }
    Ok(report)
}

fn is_failing(verdict: &str) -> bool {
    matches!(verdict, "fail" | "error")
}

/// What a failure consists of: the failing scenarios and checks with their expected and actual
/// values. Exchange ids and timings are left out, since they differ between any two runs.
fn evidence(requirement: &Value) -> Vec<String> {
    let mut evidence: Vec<String> = requirement["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} | {} | {} | {}",
                f["source"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default(),
                f["expected"].as_str().unwrap_or_default(),
                f["actual"].as_str().unwrap_or_default()
            )
        })
        .collect();
    evidence.extend(
        requirement["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["verdict"] == "error")
            .map(|s| format!("{} | error", s["location"].as_str().unwrap_or_default())),
    );
    evidence.sort();
    evidence
}

fn summary(folder: &Path, report: &Value) -> RunSummary {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    RunSummary {
        folder: folder.display().to_string(),
        verdict: text(&report["verdict"]),
        target: text(&report["target"]),
        profile: text(&report["profile"]),
        catalogue: text(&report["catalogue"]["version"]),
    }
}

/// Compares two reports. Requirements failing in neither run are left out.
pub fn diff(before_folder: &Path, before: &Value, after_folder: &Path, after: &Value) -> RunDiff {
    let by_id = |report: &Value| -> BTreeMap<String, Value> {
        report["requirements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r.clone())))
            .collect()
    };
    let (old, new) = (by_id(before), by_id(after));
    let absent = Value::Null;
    let mut changes = Vec::new();
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for id in ids {
        let was = old.get(id).unwrap_or(&absent);
        let now = new.get(id).unwrap_or(&absent);
        let verdict = |r: &Value| r["verdict"].as_str().unwrap_or("absent").to_owned();
        let (before_verdict, after_verdict) = (verdict(was), verdict(now));
        let change = match (is_failing(&before_verdict), is_failing(&after_verdict)) {
            (false, true) => Change::NewFailure,
            (true, false) if after_verdict == "pass" => Change::Fixed,
            // Failing before, and now skipped or not run: nothing proves it fixed.
            (true, false) => Change::ChangedEvidence,
            (true, true) if before_verdict != after_verdict || evidence(was) != evidence(now) => {
                Change::ChangedEvidence
            }
            (true, true) => Change::StillFailing,
            (false, false) => continue,
        };
        let shown = if change == Change::Fixed { was } else { now };
        changes.push(RequirementChange {
            id: id.clone(),
            level: now["level"]
                .as_str()
                .or(was["level"].as_str())
                .unwrap_or_default()
                .to_owned(),
            change,
            before: before_verdict,
            after: after_verdict,
            reason: shown["reason"].as_str().map(str::to_owned),
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
    use serde_json::json;

    fn report(requirements: Value) -> Value {
        json!({"verdict": "x", "target": "t", "profile": "apim", "catalogue": {"version": "1"}, "requirements": requirements})
    }

    fn requirement(id: &str, verdict: &str, message: &str) -> Value {
        json!({"id": id, "level": "MUST", "verdict": verdict, "reason": message,
            "failures": if verdict == "fail" { json!([{"source": "a.feature:1", "message": message}]) } else { json!([]) }})
    }

    #[test]
    fn each_kind_of_change_is_told_apart() {
        let before = report(json!([
            requirement("A", "pass", ""),
            requirement("B", "fail", "x"),
            requirement("C", "fail", "x"),
            requirement("D", "fail", "x"),
            requirement("E", "pass", ""),
            requirement("F", "fail", "x"),
        ]));
        let after = report(json!([
            requirement("A", "fail", "broke"),
            requirement("B", "pass", ""),
            requirement("C", "fail", "x"),
            requirement("D", "fail", "y"),
            requirement("E", "pass", ""),
            requirement("F", "skipped", "not selected"),
            requirement("G", "error", "timeout"),
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
                ("A", Change::NewFailure),
                ("G", Change::NewFailure),
                ("B", Change::Fixed),
                ("C", Change::StillFailing),
                ("D", Change::ChangedEvidence),
                ("F", Change::ChangedEvidence),
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
