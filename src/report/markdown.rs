//! `summary.md`: a short Markdown summary for a CI job summary or a pull-request comment.

use std::fmt::Write as _;

use super::model::{Report, RequirementResult, Verdict};
use crate::catalogue::Strength;

/// Failures listed before the rest are counted, not shown (a job summary has to stay short).
const LISTED_FAILURES: usize = 25;

/// Markdown-safe inline text: one line, no table or emphasis syntax from the supplier.
pub(super) fn inline(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(flat.len());
    for c in flat.chars() {
        if matches!(
            c,
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let verdict = report.verdict.as_str().to_uppercase();
    let _ = writeln!(
        md,
        "## mts: {verdict} ({} profile)\n\n{}\n",
        report.profile,
        inline(&report.verdict_reason)
    );
    let _ = writeln!(
        md,
        "Target `{}` · coverage: {} · catalogue {} · mts {} · {}\n",
        report.target.replace('`', "'"),
        report.coverage,
        report.catalogue.version,
        report.harness.version,
        report.started
    );
    let _ = writeln!(
        md,
        "| pass | fail | error | skipped | not applicable | attestation owed | attested |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    let count = |v: &str| report.counts.get(v).copied().unwrap_or(0);
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        count("pass"),
        count("fail"),
        count("error"),
        count("skipped"),
        count("not-applicable"),
        count("attestation"),
        count("attested")
    );
    let mut failed: Vec<&RequirementResult> = report
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error | Verdict::Waived))
        .collect();
    // MUST failures first, then errors, then SHOULD and MAY, then waived failures.
    failed.sort_by_key(|r| {
        (
            r.verdict == Verdict::Waived,
            r.verdict != Verdict::Fail,
            r.level.strength() != Strength::Must,
        )
    });
    if !failed.is_empty() {
        let _ = writeln!(
            md,
            "| requirement | level | verdict | why | evidence |\n| --- | --- | --- | --- | --- |"
        );
        for requirement in failed.iter().take(LISTED_FAILURES) {
            let _ = writeln!(
                md,
                "| {} {} | {} | {}{} | {} | {} |",
                requirement.id,
                inline(&requirement.title),
                requirement.level,
                requirement.verdict.as_str(),
                if requirement.verdict == Verdict::Fail && !requirement.blocking {
                    " (warning)"
                } else {
                    ""
                },
                inline(requirement.reason.as_deref().unwrap_or("")),
                evidence_cell(requirement)
            );
        }
        if failed.len() > LISTED_FAILURES {
            let _ = writeln!(
                md,
                "\n…and {} more (see report.html)",
                failed.len() - LISTED_FAILURES
            );
        }
        md.push('\n');
    }
    if let Some(summary) = report.written.as_ref().and_then(|w| w.summary()) {
        let _ = writeln!(md, "Written on the target: {}\n", inline(&summary));
        let not_removed = report
            .written
            .iter()
            .flat_map(|w| &w.resources)
            .filter(|r| r.action == super::WriteAction::Created && !r.outcome.is_gone());
        for resource in not_removed.take(LISTED_FAILURES) {
            let _ = writeln!(
                md,
                "- `{}`: {}",
                resource.reference.replace('`', "'"),
                inline(&resource.outcome_text())
            );
        }
        md.push('\n');
    }
    let unmet: Vec<_> = report
        .test_data_kit
        .iter()
        .filter(|item| item.status != crate::report::KitFinding::Found)
        .collect();
    if !unmet.is_empty() {
        let _ = writeln!(
            md,
            "Test-data kit: {} of {} promised item(s) not shown before the run (missing: a prerequisite the target does not hold; unknown: mts could not tell):\n",
            unmet.len(),
            report.test_data_kit.len()
        );
        for item in unmet {
            let _ = writeln!(
                md,
                "- {} patient `{}`: promised {}; {}: {}",
                inline(&item.role),
                item.patient.replace('`', "'"),
                inline(&item.promised),
                item.status.as_str(),
                inline(item.why.as_deref().unwrap_or(&item.found))
            );
        }
        md.push('\n');
    }
    if !report.harness_errors.is_empty() {
        let _ = writeln!(md, "Harness errors:\n");
        for error in &report.harness_errors {
            let _ = writeln!(md, "- {}", inline(error));
        }
        md.push('\n');
    }
    md.push_str("Full report: `report.html`; evidence: `evidence.har`; verify with `mts verify <folder>`.\n");
    md
}

/// The sentence naming the scenario and request, then the exchanges (evidence.har entry ids)
/// each failure names, as code so they can be searched for.
fn evidence_cell(requirement: &RequirementResult) -> String {
    let mut cell = inline(requirement.evidence.as_deref().unwrap_or(""));
    let (exchanges, more) = requirement.failure_exchanges_first(super::model::NAMED_EXCHANGES);
    if !exchanges.is_empty() {
        let ids: Vec<String> = exchanges
            .iter()
            .map(|id| format!("`{}`", id.replace('`', "'")))
            .collect();
        if !cell.is_empty() {
            cell.push_str(" · ");
        }
        cell.push_str(&format!("evidence.har {}", ids.join(", ")));
        if more > 0 {
            cell.push_str(&format!(" and {more} more"));
        }
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplier_text_cannot_break_the_table() {
        assert_eq!(inline("a|b\n*c*"), "a\\|b \\*c\\*");
    }
}
