//! The console table and one-line verdict, fitted to the terminal: rows are cut, never wrapped,
//! and by default only what needs reading gets a row (failures, errors, skipped MUSTs, waivers);
//! the rest is counted per area.

use std::collections::BTreeMap;

use tabled::settings::Style;
use tabled::{Table, Tabled};

use super::model::{ReasonKind, Report, RequirementResult, RunVerdict, Verdict};
use crate::catalogue::Strength;

/// The width the table fits when nothing says otherwise (a CI log, a pipe).
pub const DEFAULT_WIDTH: usize = 120;
/// Narrower than this, the columns no longer hold anything readable.
const NARROWEST: usize = 60;

/// Which requirements get a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    /// Failures, errors, skipped MUSTs and waivers in full; everything else counted per area.
    #[default]
    Failures,
    /// Every requirement judged or deliberately not.
    All,
}

#[derive(Debug, Clone)]
pub struct TableStyle {
    pub colour: bool,
    /// Columns the whole table fits in.
    pub width: usize,
    pub show: Show,
    /// The run folder, named in the verdict line as what to open next.
    pub report_dir: Option<String>,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            colour: false,
            width: DEFAULT_WIDTH,
            show: Show::Failures,
            report_dir: None,
        }
    }
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

#[derive(Tabled)]
struct AreaRow {
    #[tabled(rename = "Area")]
    area: String,
    #[tabled(rename = "Not listed above")]
    counts: String,
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
        Verdict::Attestation | Verdict::Attested => "36",
        Verdict::Waived => "33",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

/// `text` on one line, cut to `width` characters with an ellipsis.
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

/// The last line of the table output alone (`--quiet`).
pub fn render_verdict_line(report: &Report, style: &TableStyle) -> String {
    format!("{}\n", verdict_line(report, style))
}

/// Not rows of the table: requirements of other profiles, and those not automated yet.
fn hidden(requirement: &RequirementResult, kind: ReasonKind) -> bool {
    requirement.reason_kind == Some(kind)
}

fn listed(requirement: &RequirementResult) -> bool {
    !hidden(requirement, ReasonKind::ExcludedByProfile)
        && !hidden(requirement, ReasonKind::NotAutomated)
}

/// What needs reading: a failure, an error, a waiver, or a MUST left unjudged.
fn needs_reading(requirement: &RequirementResult) -> bool {
    match requirement.verdict {
        Verdict::Fail | Verdict::Error | Verdict::Waived => true,
        Verdict::Skipped => requirement.level.strength() == Strength::Must,
        _ => false,
    }
}

/// The reason first, since a narrow column shows only its start; then where it came from: for
/// a failure or error the scenario and request that decided it, else the scenario a reason
/// names (`features/…:25: why` reads `why (features/…:25)`).
fn detail(requirement: &RequirementResult) -> String {
    static LOCATION: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let reason = requirement.reason.as_deref().unwrap_or("");
    let location = LOCATION
        .get_or_init(|| regex::Regex::new(r"(features/[^\s:]+\.feature:\d+): ").ok())
        .as_ref();
    let (why, place) = match location.and_then(|l| l.captures(reason)) {
        Some(found) => (reason.replacen(&found[0], "", 1), Some(found[1].to_owned())),
        None => (reason.to_owned(), None),
    };
    match (&requirement.evidence, requirement.verdict, place) {
        (Some(evidence), Verdict::Fail | Verdict::Error | Verdict::Waived, _) => {
            format!("{why} ({evidence})")
        }
        (_, _, Some(place)) => format!("{why} ({place})"),
        _ => why,
    }
}

/// Widths of the title and detail columns so that the table, borders and padding included,
/// is `width` wide: the title gets two fifths of the room (at most 44), the detail the rest.
fn text_widths(rows: &[&RequirementResult], width: usize) -> (usize, usize) {
    let longest = |f: &dyn Fn(&RequirementResult) -> usize, header: usize| {
        rows.iter().map(|r| f(r)).max().unwrap_or(0).max(header)
    };
    let fixed = longest(&|r| r.id.as_str().chars().count(), 11)
        + longest(&|r| r.level.as_str().len(), 5)
        + longest(&|r| r.verdict.as_str().len(), 7);
    // Sharp style: six borders and a space either side of five cells.
    let room = width.max(NARROWEST).saturating_sub(fixed + 16);
    let natural_title = longest(&|r| r.title.chars().count(), 5);
    let title = natural_title.min(44).min(room * 2 / 5).max(5);
    (title, room.saturating_sub(title).max(6))
}

fn requirement_table(rows: &[&RequirementResult], style: &TableStyle) -> String {
    let (title_width, detail_width) = text_widths(rows, style.width);
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.verdict).collect();
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            id: r.id.to_string(),
            level: r.level.to_string(),
            verdict: r.verdict.as_str().to_owned(),
            title: clip(&r.title, title_width),
            detail: clip(&detail(r), detail_width),
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    let text = table.to_string();
    if !style.colour {
        return text;
    }
    // Laid out plain, coloured after: escape codes inside a cell would count as columns.
    let mut data_rows = verdicts.iter();
    text.lines()
        .map(|line| {
            let is_row = line.starts_with('│') && !line.contains(" Verdict ");
            match (is_row, is_row.then(|| data_rows.next()).flatten()) {
                (true, Some(verdict)) => paint_verdict_cell(line, *verdict),
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `line` with the verdict cell (the third) coloured.
fn paint_verdict_cell(line: &str, verdict: Verdict) -> String {
    let cells: Vec<&str> = line.split('│').collect();
    if cells.len() < 5 {
        return line.to_owned();
    }
    let cell = cells[3];
    let word = verdict.as_str();
    let painted = cell.replacen(word, &paint(word, verdict, true), 1);
    let mut out: Vec<String> = cells.iter().map(|c| (*c).to_owned()).collect();
    out[3] = painted;
    out.join("│")
}

/// Per area, what got no row: "12 pass, 2 not applicable".
fn area_table(rest: &[&RequirementResult], style: &TableStyle) -> Option<String> {
    let mut areas: BTreeMap<&str, BTreeMap<Verdict, usize>> = BTreeMap::new();
    for requirement in rest {
        *areas
            .entry(&requirement.area)
            .or_default()
            .entry(requirement.verdict)
            .or_default() += 1;
    }
    if areas.is_empty() {
        return None;
    }
    let order = [
        Verdict::Pass,
        Verdict::Skipped,
        Verdict::NotApplicable,
        Verdict::Attestation,
        Verdict::Attested,
    ];
    let counts = |by_verdict: &BTreeMap<Verdict, usize>| {
        order
            .iter()
            .filter_map(|v| {
                by_verdict
                    .get(v)
                    .map(|n| format!("{n} {}", v.as_str().replace('-', " ")))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let count_width = areas.values().map(|c| counts(c).len()).max().unwrap_or(0);
    // Two columns: seven characters of borders and padding.
    let area_width = style
        .width
        .max(NARROWEST)
        .saturating_sub(count_width.max(16) + 7)
        .max(12);
    let rows: Vec<AreaRow> = areas
        .iter()
        .map(|(area, by_verdict)| AreaRow {
            area: clip(area, area_width),
            counts: counts(by_verdict),
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    Some(table.to_string())
}

fn verdict_line(report: &Report, style: &TableStyle) -> String {
    let verdict_text = match report.verdict {
        RunVerdict::Conformant => paint("CONFORMANT", Verdict::Pass, style.colour),
        RunVerdict::NonConformant => paint("NON-CONFORMANT", Verdict::Fail, style.colour),
        RunVerdict::Incomplete => paint("INCOMPLETE", Verdict::Error, style.colour),
    };
    let next = style
        .report_dir
        .as_deref()
        .map(|dir| {
            let html = std::path::Path::new(dir).join("report.html");
            let why = match report.verdict {
                RunVerdict::Conformant => "the evidence",
                RunVerdict::NonConformant => "the failures first",
                RunVerdict::Incomplete => "what could not be judged, and why",
            };
            format!("; open {} for {why}", html.display())
        })
        .unwrap_or_default();
    format!("{verdict_text}: {}{next}", report.verdict_reason)
}

/// The table of what needs reading (every row under `Show::All`), the rest counted per area,
/// the counts, what was written on the target, then the verdict line.
pub fn render_table(report: &Report, style: &TableStyle) -> String {
    let shown: Vec<&RequirementResult> = report.requirements.iter().filter(|r| listed(r)).collect();
    let (rows, rest): (Vec<&RequirementResult>, Vec<&RequirementResult>) = match style.show {
        Show::All => (shown, Vec::new()),
        Show::Failures => shown.into_iter().partition(|r| needs_reading(r)),
    };
    let mut rows = rows;
    if style.show == Show::Failures {
        // Failures first (MUST before SHOULD), then errors, waivers and skipped MUSTs.
        rows.sort_by_key(|r| {
            let rank = match r.verdict {
                Verdict::Fail => 0,
                Verdict::Error => 1,
                Verdict::Waived => 2,
                _ => 3,
            };
            (rank, r.level.strength() != Strength::Must, r.id.to_string())
        });
    }
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("No failures, errors, waivers or skipped MUSTs.\n");
    } else {
        out.push_str(&requirement_table(&rows, style));
        out.push('\n');
    }
    if let Some(areas) = area_table(&rest, style) {
        out.push_str(&areas);
        out.push('\n');
    }
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
    let count = |name: &str| report.counts.get(name).copied().unwrap_or(0);
    let hint = if style.show == Show::Failures {
        "; --show all for every row"
    } else {
        ""
    };
    // What the run wrote on the target, and whether it was cleaned up (never the last line:
    // `--quiet` prints that alone).
    let mut written = report
        .written
        .as_ref()
        .and_then(|w| w.summary())
        .map(|line| format!("{line}\n"))
        .unwrap_or_default();
    let kit = &report.test_data_kit;
    if !kit.is_empty() {
        let count = |finding| kit.iter().filter(|i| i.status == finding).count();
        let missing = count(crate::report::KitFinding::Missing);
        let unknown = count(crate::report::KitFinding::Unknown);
        written.push_str(&format!(
            "test-data kit: {} promised, {} found, {missing} missing, {unknown} could not be told{}\n",
            kit.len(),
            kit.len() - missing - unknown,
            if missing + unknown > 0 { " (see report)" } else { "" }
        ));
    }
    out.push_str(&format!(
        "{} pass, {} fail, {} error, {} skipped, {} not applicable, {} attestation owed, {} attested; {planned} not automated yet, {other_profiles} for other profiles (profile {}, target {}{hint})\n{written}{}\n",
        count("pass"),
        count("fail"),
        count("error"),
        count("skipped"),
        count("not-applicable").saturating_sub(other_profiles),
        count("attestation"),
        count("attested"),
        report.profile,
        report.target,
        verdict_line(report, style),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn requirement(id: &str, level: &str, verdict: &str, area: &str) -> Value {
        json!({"id": id, "level": level, "title": "A requirement whose title runs on well past the width of any narrow terminal",
            "area": area, "statement": "", "sources": [], "status": "automated", "verdict": verdict,
            "blocking": verdict == "fail", "reason": "the server answered something long enough to need cutting down to size, with its exchange",
            "evidence": "features/fhir/search.feature:105: GET /FHIR/R4/AllergyIntolerance?patient=Patient/9000000009 → 200",
            "scenarios": [], "checks": [], "exchanges": [], "failures": []})
    }

    fn report() -> Report {
        serde_json::from_value(json!({"schema_version": 1, "run_id": "r", "verdict": "non-conformant",
            "verdict_reason": "1 MUST requirement(s) failed", "target": "https://example.org/FHIR/R4",
            "profile": "apim", "harness": {"name": "mts", "version": "0"},
            "catalogue": {"version": "1", "digest": "d"}, "started": "2026-12-04T00:00:00Z",
            "duration_ms": 0, "counts": {"pass": 3, "fail": 1, "skipped": 2},
            "requirements": [
                requirement("IOP-SRCH-011", "MUST", "fail", "FHIR search"),
                requirement("IOP-SRCH-001", "MUST", "pass", "FHIR search"),
                requirement("IOP-SRCH-006", "SHOULD", "skipped", "FHIR search"),
                requirement("SEC-TLS-001", "MUST", "pass", "Transport security"),
                requirement("SEC-TLS-002", "MUST", "skipped", "Transport security"),
                requirement("SEC-TLS-003", "MUST", "pass", "Transport security"),
            ]}))
        .unwrap()
    }

    fn style(width: usize, show: Show) -> TableStyle {
        TableStyle {
            width,
            show,
            report_dir: Some("reports/run-1".into()),
            ..TableStyle::default()
        }
    }

    #[test]
    fn every_table_line_fits_the_width_and_none_wraps() {
        let report = report();
        for width in [60, 80, 100, 120, 200] {
            for show in [Show::Failures, Show::All] {
                let text = render_table(&report, &style(width, show));
                let table_lines = text.lines().filter(|l| l.starts_with(['│', '┌', '├', '└']));
                for line in table_lines {
                    assert!(
                        line.chars().count() <= width,
                        "{width} columns, {show:?}: {} in {line}",
                        line.chars().count()
                    );
                }
                // One row per requirement shown: no row spills onto a second line.
                let rows = text
                    .lines()
                    .filter(|l| l.starts_with("│ IOP-") || l.starts_with("│ SEC-"))
                    .count();
                let expected = if show == Show::All { 6 } else { 2 };
                assert_eq!(rows, expected, "{width} {show:?}:\n{text}");
            }
        }
    }

    #[test]
    fn by_default_what_needs_reading_gets_a_row_and_the_rest_a_count_per_area() {
        let text = render_table(&report(), &style(120, Show::Failures));
        assert!(text.contains("│ IOP-SRCH-011"), "{text}");
        assert!(
            text.contains("│ SEC-TLS-002"),
            "a skipped MUST is listed: {text}"
        );
        assert!(!text.contains("│ IOP-SRCH-001"), "{text}");
        assert!(
            !text.contains("│ IOP-SRCH-006"),
            "a skipped SHOULD is counted: {text}"
        );
        assert!(text.contains("1 pass, 1 skipped"), "{text}");
        assert!(text.contains("2 pass"), "{text}");
        let last = text.lines().last().unwrap();
        assert!(
            last.starts_with("NON-CONFORMANT: ")
                && last.ends_with("; open reports/run-1/report.html for the failures first"),
            "{last}"
        );
        assert_eq!(
            render_verdict_line(&report(), &style(120, Show::Failures)).trim_end(),
            last
        );
    }
}
