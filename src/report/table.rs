//! The console table and one-line verdict.

use tabled::settings::{Style, Width, object::Columns};
use tabled::{Table, Tabled};

use super::model::{ReasonKind, Report, RequirementResult, RunVerdict, Verdict};

#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    pub colour: bool,
    /// Width of the detail column.
    pub detail_width: usize,
}

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "Requirement")]
    id: String,
    #[tabled(rename = "Level")]
    level: String,
    #[tabled(rename = "Verdict")]
    verdict: String,
    #[tabled(rename = "Title")]
    title: String,
    #[tabled(rename = "Detail")]
    detail: String,
}

fn paint(text: &str, verdict: Verdict, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::Fail => "31",
        Verdict::Error => "35",
        Verdict::Skipped | Verdict::NotApplicable => "2",
        Verdict::Attestation => "36",
        Verdict::Waived => "33",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

fn clip(text: &str, width: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= width {
        flat
    } else {
        format!(
            "{}…",
            flat.chars()
                .take(width.saturating_sub(1))
                .collect::<String>()
        )
    }
}

/// The requirement table (requirements that were judged, or deliberately not), then the verdict.
/// The last line of the table output alone (`--quiet`).
pub fn render_verdict_line(report: &Report, style: TableStyle) -> String {
    let full = render_table(report, style);
    let last = full.trim_end().rsplit('\n').next().unwrap_or_default();
    format!("{last}\n")
}

/// Not rows of the table: requirements of other profiles, and those not automated yet.
fn hidden(requirement: &RequirementResult, kind: ReasonKind) -> bool {
    requirement.reason_kind == Some(kind)
}

/// The reason, and for a failure or error the scenario or check and request that decided it.
fn detail(requirement: &RequirementResult) -> String {
    let reason = requirement.reason.as_deref().unwrap_or("");
    match (&requirement.evidence, requirement.verdict) {
        (Some(evidence), Verdict::Fail | Verdict::Error | Verdict::Waived) => {
            format!("{evidence}: {reason}")
        }
        _ => reason.to_owned(),
    }
}

pub fn render_table(report: &Report, style: TableStyle) -> String {
    let rows: Vec<Row> = report
        .requirements
        .iter()
        .filter(|r| {
            !hidden(r, ReasonKind::ExcludedByProfile) && !hidden(r, ReasonKind::NotAutomated)
        })
        .map(|r| Row {
            id: r.id.to_string(),
            level: r.level.to_string(),
            verdict: paint(r.verdict.as_str(), r.verdict, style.colour),
            title: clip(&r.title, 44),
            detail: clip(&detail(r), style.detail_width),
        })
        .collect();
    let mut table = Table::new(rows);
    table
        .with(Style::sharp())
        .modify(Columns::new(4..5), Width::wrap(style.detail_width));
    let planned = report
        .requirements
        .iter()
        .filter(|r| hidden(r, ReasonKind::NotAutomated))
        .count();
    let other_profiles = report
        .requirements
        .iter()
        .filter(|r| hidden(r, ReasonKind::ExcludedByProfile))
        .count();
    let verdict_text = match report.verdict {
        RunVerdict::Conformant => paint("CONFORMANT", Verdict::Pass, style.colour),
        RunVerdict::NonConformant => paint("NON-CONFORMANT", Verdict::Fail, style.colour),
        RunVerdict::Incomplete => paint("INCOMPLETE", Verdict::Error, style.colour),
    };
    let count = |name: &str| report.counts.get(name).copied().unwrap_or(0);
    // What the run wrote on the target, and whether it was cleaned up (never the last line:
    // `--quiet` prints that alone).
    let written = report
        .written
        .as_ref()
        .and_then(|w| w.summary())
        .map(|line| format!("{line}\n"))
        .unwrap_or_default();
    format!(
        "{table}\n{} pass, {} fail, {} error, {} skipped, {} not applicable, {} attestation; {planned} not automated yet, {other_profiles} for other profiles (see report.json)\n{written}{verdict_text}: {} (profile {}, target {})\n",
        count("pass"),
        count("fail"),
        count("error"),
        count("skipped"),
        count("not-applicable") - other_profiles,
        count("attestation"),
        report.verdict_reason,
        report.profile,
        report.target,
    )
}
