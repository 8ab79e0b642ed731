//! A run seen through an assurance framework (`mts report --framework dtac RUN_DIR`): each
//! clause with its status from the requirements mapped to it (`verdict::of_clause`), why, and
//! the evidence behind it, as Markdown, HTML or CSV for the assessor's form or spreadsheet.

use std::fmt::Write as _;

use crate::catalogue::{Catalogue, Clause, Framework, Requirement, Status, Strength, Testability};
use crate::verdict::{ClauseRule, ClauseStatus, ReasonKind, of_clause};

use super::markdown::inline;
use super::markup::escape;
use super::{AttestationRecord, NAMED_EXCHANGES, Report, RequirementResult, Verdict};

/// One requirement's part in a clause.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    pub requirement: &'a RequirementResult,
    /// The exchanges its failures name (ids in `report.json` and `evidence.har`).
    pub exchanges: Vec<&'a str>,
    pub more_exchanges: usize,
}

#[derive(Debug, Clone)]
pub struct ClauseView<'a> {
    pub clause: &'a Clause,
    pub status: ClauseStatus,
    /// Why, in a sentence naming the requirements that decided it.
    pub why: String,
    pub evidence: Vec<Evidence<'a>>,
}

#[derive(Debug, Clone)]
pub struct FrameworkSection<'a> {
    pub framework: &'a Framework,
    pub clauses: Vec<ClauseView<'a>>,
}

/// What the view is about, and what a reader must know before trusting it.
#[derive(Debug, Clone)]
pub struct FrameworkView<'a> {
    pub report: &'a Report,
    pub sections: Vec<FrameworkSection<'a>>,
    /// The run folder's integrity, catalogue differences, and the like.
    pub notices: Vec<String>,
    /// Where the run's report.html is, seen from where the view is written.
    pub report_href: String,
}

/// The view of `report` through `frameworks`, with the clause mapping of `catalogue`.
pub fn view<'a>(
    report: &'a Report,
    catalogue: &'a Catalogue,
    frameworks: &[&'a Framework],
    mut notices: Vec<String>,
) -> FrameworkView<'a> {
    if report.catalogue.digest != catalogue.digest {
        let short = |digest: &str| digest.chars().take(19).collect::<String>();
        notices.push(format!(
            "The run was judged with catalogue {} ({}) and is mapped with catalogue {} ({}): a \
             clause a requirement the run did not judge would decide is shown as evidence owed.",
            report.catalogue.version,
            short(&report.catalogue.digest),
            catalogue.version,
            short(&catalogue.digest)
        ));
    }
    let sections = frameworks
        .iter()
        .map(|framework| FrameworkSection {
            framework,
            clauses: framework
                .clauses
                .iter()
                .map(|clause| clause_view(report, catalogue, framework, clause))
                .collect(),
        })
        .collect();
    FrameworkView {
        report,
        sections,
        notices,
        report_href: "report.html".into(),
    }
}

fn clause_view<'a>(
    report: &'a Report,
    catalogue: &'a Catalogue,
    framework: &Framework,
    clause: &'a Clause,
) -> ClauseView<'a> {
    let mapped: Vec<&Requirement> = catalogue.mapped_to(&framework.id, &clause.id).collect();
    let evidence: Vec<Evidence<'a>> = mapped
        .iter()
        .filter_map(|requirement| report.requirements.iter().find(|r| r.id == requirement.id))
        .map(|requirement| {
            let (exchanges, more_exchanges) = requirement.failure_exchanges_first(NAMED_EXCHANGES);
            Evidence {
                requirement,
                exchanges,
                more_exchanges,
            }
        })
        .collect();
    let rule = rule_of(clause);
    // Requirements that would decide the clause but this run never judged (it ran under
    // another catalogue): owed, not quietly left out. Planned ones are no evidence anyway.
    let not_in_run: Vec<String> = mapped
        .iter()
        .filter(|r| r.status != Status::Planned)
        .filter(|r| (r.status == Status::Attestation) == (rule == ClauseRule::Attestation))
        .filter(|r| !report.requirements.iter().any(|result| result.id == r.id))
        .map(|r| r.id.to_string())
        .collect();
    let (status, why) = decide(report, framework, clause, &evidence, &not_in_run);
    ClauseView {
        clause,
        status,
        why,
        evidence,
    }
}

/// How `clause` is decided: by its automated requirements when an HTTP test can show it (all
/// of them, or any one for a yes-or-no question), else by its attestations.
fn rule_of(clause: &Clause) -> ClauseRule {
    match (clause.http, clause.met_by_any) {
        (Testability::Yes, true) => ClauseRule::Any,
        (Testability::Yes, false) => ClauseRule::Every,
        (Testability::Partly | Testability::No, _) => ClauseRule::Attestation,
    }
}

/// The attestation `id` the run holds as attested, with the supplier's answer.
fn attested<'a>(report: &'a Report, id: &str) -> Option<&'a AttestationRecord> {
    let result = report.requirements.iter().find(|r| r.id.as_str() == id)?;
    if result.verdict != Verdict::Attested {
        return None;
    }
    report
        .settings
        .attestations
        .iter()
        .find(|a| a.requirement == id)
}

/// A clause's status and the sentence beside it.
fn decide(
    report: &Report,
    framework: &Framework,
    clause: &Clause,
    evidence: &[Evidence],
    not_in_run: &[String],
) -> (ClauseStatus, String) {
    if let Some(reason) = &clause.not_covered {
        return (ClauseStatus::NotCovered, reason.trim().to_owned());
    }
    if let Some(condition) = &framework.applies_when_attested
        && attested(report, condition).is_some_and(AttestationRecord::answered_no)
    {
        return (
            ClauseStatus::NotCovered,
            format!("binds only a supplier who answered yes: {condition} was answered no"),
        );
    }
    if let Some(condition) = &clause.skipped_when_attested
        && attested(report, condition).is_some_and(|answer| !answer.answered_no())
    {
        return (
            ClauseStatus::NotCovered,
            format!("the form skips it: {condition} is attested with the answer yes"),
        );
    }
    let rule = rule_of(clause);
    // A requirement mts has no test for yet is no evidence either way: it does not hold a
    // clause open that nothing could ever close.
    let deciding: Vec<&RequirementResult> = evidence
        .iter()
        .map(|e| e.requirement)
        .filter(|r| r.reason_kind != Some(ReasonKind::NotAutomated))
        .filter(|r| (r.status == Status::Attestation) == (rule == ClauseRule::Attestation))
        .collect();
    let pairs: Vec<_> = deciding
        .iter()
        .map(|r| (r.level.strength(), r.verdict))
        .collect();
    let mut status = of_clause(rule, &pairs);
    let named = |wanted: &[Verdict], musts: bool| -> Vec<String> {
        deciding
            .iter()
            .filter(|r| wanted.contains(&r.verdict))
            .filter(|r| !musts || r.level.strength() == Strength::Must)
            .map(|r| format!("{} {}", r.id, r.verdict.as_str()))
            .collect()
    };
    let mut why = match status {
        ClauseStatus::NotMet => format!(
            "failed: {}",
            named(&[Verdict::Fail, Verdict::Error, Verdict::Waived], true).join(", ")
        ),
        ClauseStatus::EvidenceOwed => {
            let mut owed = named(&[Verdict::Attestation], false);
            owed.extend(named(&[Verdict::Skipped], true));
            format!("owed: {}", owed.join(", "))
        }
        ClauseStatus::Met => format!("passed: {}", named(&[Verdict::Pass], false).join(", ")),
        ClauseStatus::Attested => format!(
            "attested: {}",
            deciding
                .iter()
                .filter(|r| r.verdict == Verdict::Attested)
                .map(|r| format!("{} {}", r.id, r.reason.as_deref().unwrap_or("attested")))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ClauseStatus::NotCovered if evidence.is_empty() && not_in_run.is_empty() => {
            "no requirement mapped to it was in this run".into()
        }
        ClauseStatus::NotCovered => {
            "nothing that decides it applies to this target or profile".into()
        }
    };
    // A deciding requirement the run never judged (another catalogue): the clause is owed it.
    if !not_in_run.is_empty()
        && matches!(
            status,
            ClauseStatus::Met | ClauseStatus::Attested | ClauseStatus::NotCovered
        )
    {
        status = ClauseStatus::EvidenceOwed;
        why = format!("{why}; not judged by this run: {}", not_in_run.join(", "));
    }
    // Automated results behind a clause only the supplier can answer: shown, never deciding.
    if rule == ClauseRule::Attestation {
        let failures: Vec<String> = evidence
            .iter()
            .map(|e| e.requirement)
            .filter(|r| r.status != Status::Attestation && r.level.strength() == Strength::Must)
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error | Verdict::Waived))
            .map(|r| format!("{} {}", r.id, r.verdict.as_str()))
            .collect();
        if !failures.is_empty() {
            why.push_str(&format!(
                "; supporting results that failed, for the assessor to weigh: {}",
                failures.join(", ")
            ));
        }
    }
    (status, why)
}

/// Counts per status, in a fixed order.
pub fn tally(section: &FrameworkSection) -> Vec<(ClauseStatus, usize)> {
    [
        ClauseStatus::Met,
        ClauseStatus::Attested,
        ClauseStatus::NotMet,
        ClauseStatus::EvidenceOwed,
        ClauseStatus::NotCovered,
    ]
    .into_iter()
    .map(|status| {
        (
            status,
            section
                .clauses
                .iter()
                .filter(|c| c.status == status)
                .count(),
        )
    })
    .collect()
}

/// `12 met · 3 not met · …` for a framework's heading.
fn tally_line(section: &FrameworkSection) -> String {
    tally(section)
        .into_iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Each requirement behind a clause as `name` writes it, with the exchanges of its failures
/// as `text` writes them.
fn evidence_items(
    clause: &ClauseView,
    name: impl Fn(&RequirementResult) -> String,
    text: impl Fn(&str) -> String,
) -> Vec<String> {
    clause
        .evidence
        .iter()
        .map(|e| {
            let exchanges = exchanges_text(e);
            if exchanges.is_empty() {
                name(e.requirement)
            } else {
                format!("{} (exchanges {})", name(e.requirement), text(&exchanges))
            }
        })
        .collect()
}

fn exchanges_text(evidence: &Evidence) -> String {
    let mut text = evidence.exchanges.join(", ");
    if evidence.more_exchanges > 0 {
        let _ = write!(text, " and {} more", evidence.more_exchanges);
    }
    text
}

/// Every requirement of the run as its own row, for a framework with no public clauses (SCAL).
fn requirement_rows(report: &Report) -> impl Iterator<Item = Evidence<'_>> {
    report.requirements.iter().map(|requirement| {
        let (exchanges, more_exchanges) = requirement.failure_exchanges_first(NAMED_EXCHANGES);
        Evidence {
            requirement,
            exchanges,
            more_exchanges,
        }
    })
}

/// Text in a Markdown table cell: supplier words (reasons, attestation statements) can hold
/// Markdown or HTML; escaped as summary.md escapes them.
fn cell(text: &str) -> String {
    inline(text)
}

pub fn markdown(view: &FrameworkView) -> String {
    let report = view.report;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {} through assurance frameworks\n\nRun {} under the {} profile, started {}: **{}**. \
         Catalogue {}.\n",
        cell(&report.target),
        cell(&report.run_id),
        report.profile,
        cell(&report.started),
        report.verdict.as_str().to_uppercase(),
        cell(&report.catalogue.version)
    );
    for notice in &view.notices {
        let _ = writeln!(md, "> {}\n", cell(notice));
    }
    let _ = writeln!(
        md,
        "A clause an HTTP test can show is **met** only when every MUST mapped to it passed (any \
         one, for a yes-or-no question such as DTAC C4.1). \
         One only the supplier can answer is **attested** when its attestations are given and \
         complete, mts's own results listed beside it as supporting evidence. **Evidence owed**: \
         a deciding MUST was not run, or an attestation is missing. mts results are evidence \
         for a clause, not the assessor's decision.\n"
    );
    for section in &view.sections {
        let framework = section.framework;
        let _ = writeln!(
            md,
            "## {} {}\n\n{} · <{}>\n\nClause text: {}\n",
            framework.title,
            framework.version,
            framework.publisher,
            framework.url,
            cell(framework.text_source.trim())
        );
        if let Some(caveat) = &framework.caveat {
            let _ = writeln!(md, "Caveat: {}\n", cell(caveat.trim()));
        }
        if let Some(why) = &framework.no_clauses {
            let _ = writeln!(
                md,
                "{}\n\n| Requirement | Level | Title | Verdict | Why | Failing exchanges |\n| --- | --- | --- | --- | --- | --- |",
                cell(why.trim())
            );
            for evidence in requirement_rows(report) {
                let r = evidence.requirement;
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.id,
                    r.level,
                    cell(&r.title),
                    r.verdict.as_str(),
                    cell(r.reason.as_deref().unwrap_or_default()),
                    cell(&exchanges_text(&evidence))
                );
            }
            md.push('\n');
            continue;
        }
        let _ = writeln!(
            md,
            "{}\n\n| Clause | Status | Clause asks (paraphrase) | HTTP-testable | Why | Evidence |\n| --- | --- | --- | --- | --- | --- |",
            tally_line(section)
        );
        for clause in &section.clauses {
            // The whole cell is escaped below.
            let evidence: Vec<String> = evidence_items(
                clause,
                |r| format!("{} {}", r.id, r.verdict.as_str()),
                str::to_owned,
            );
            let _ = writeln!(
                md,
                "| {} | **{}** | {} | {} | {} | {} |",
                clause.clause.id,
                clause.status.as_str(),
                cell(&clause.clause.title),
                clause.clause.http.as_str(),
                cell(&clause.why),
                cell(&evidence.join("; "))
            );
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "Evidence: each requirement's exchanges are in `{}` (section `req-<ID>`) and \
         `evidence.har` beside it; `mts verify` checks the run folder is as the run wrote it.",
        view.report_href.replace('`', "'")
    );
    md
}

fn csv_field(text: &str) -> String {
    // A spreadsheet runs a cell that starts like a formula; the target's own words reach here.
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One row per clause (per requirement for a framework without clauses), to paste into the
/// assessor's spreadsheet.
pub fn csv(view: &FrameworkView) -> String {
    let mut out = String::from(
        "framework,framework_version,clause,clause_title,http_testable,status,why,requirements,failing_exchanges,run_id,target\r\n",
    );
    let report = view.report;
    let mut row = |fields: [&str; 9]| {
        let mut line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        line.push(csv_field(&report.run_id));
        line.push(csv_field(&report.target));
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    for section in &view.sections {
        let framework = section.framework;
        if framework.no_clauses.is_some() {
            for evidence in requirement_rows(report) {
                let r = evidence.requirement;
                row([
                    &framework.id,
                    &framework.version,
                    r.id.as_str(),
                    &r.title,
                    "",
                    r.verdict.as_str(),
                    r.reason.as_deref().unwrap_or_default(),
                    r.id.as_str(),
                    &exchanges_text(&evidence),
                ]);
            }
            continue;
        }
        for clause in &section.clauses {
            let requirements: Vec<String> = clause
                .evidence
                .iter()
                .map(|e| format!("{} {}", e.requirement.id, e.requirement.verdict.as_str()))
                .collect();
            let exchanges: Vec<String> = clause
                .evidence
                .iter()
                .filter(|e| !e.exchanges.is_empty())
                .map(|e| format!("{}: {}", e.requirement.id, exchanges_text(e)))
                .collect();
            row([
                &framework.id,
                &framework.version,
                &clause.clause.id,
                &clause.clause.title,
                clause.clause.http.as_str(),
                clause.status.as_str(),
                &clause.why,
                &requirements.join("; "),
                &exchanges.join("; "),
            ]);
        }
    }
    out
}

fn status_class(status: ClauseStatus) -> &'static str {
    match status {
        ClauseStatus::Met => "met",
        ClauseStatus::NotMet => "not-met",
        ClauseStatus::Attested => "attested",
        ClauseStatus::EvidenceOwed => "owed",
        ClauseStatus::NotCovered => "not-covered",
    }
}

/// A self-contained page: no script, no external resource; links go to the run's report.html.
pub fn html(view: &FrameworkView) -> String {
    let report = view.report;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} through assurance frameworks</title>\n<style>\n\
         body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 75rem; padding: 0 1rem; color: #1d1d1d; }}\n\
         table {{ border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }}\n\
         th, td {{ border: 1px solid #c8c8c8; padding: .35rem .5rem; text-align: left; vertical-align: top; }}\n\
         th {{ background: #f0f4f5; }}\n\
         .status {{ font-weight: 600; white-space: nowrap; }}\n\
         .met {{ background: #e3f4e8; }} .not-met {{ background: #fbe3e4; }} .attested {{ background: #e4eefb; }}\n\
         .owed {{ background: #fff4d6; }} .not-covered {{ background: #f2f2f2; color: #555; }}\n\
         .notice {{ border-left: 4px solid #d5281b; padding: .25rem .75rem; background: #fff5f5; }}\n\
         .muted {{ color: #555; }}\n</style></head><body>\n",
        escape(&report.target)
    );
    let _ = writeln!(
        html,
        "<h1>{} through assurance frameworks</h1>\n<p>Run <code>{}</code> under the {} profile, started {}: \
         <strong>{}</strong>. Catalogue {}. <a href=\"{}\">The run's report</a>.</p>",
        escape(&report.target),
        escape(&report.run_id),
        report.profile,
        escape(&report.started),
        report.verdict.as_str().to_uppercase(),
        escape(&report.catalogue.version),
        escape(&view.report_href)
    );
    for notice in &view.notices {
        let _ = writeln!(html, "<p class=\"notice\">{}</p>", escape(notice));
    }
    let _ = writeln!(
        html,
        "<p class=\"muted\">A clause an HTTP test can show is <em>met</em> only when every MUST \
         mapped to it passed (any one, for a yes-or-no question such as DTAC C4.1). One only the \
         supplier can answer is <em>attested</em> when its attestations are given and complete, \
         mts's own results listed beside it as supporting evidence. <em>Evidence owed</em>: a \
         deciding MUST was not run, or an attestation is missing. mts results are evidence for a clause, not the assessor's decision.</p>"
    );
    let link = |r: &RequirementResult| {
        format!(
            "<a href=\"{}#req-{id}\">{id}</a> {}",
            escape(&view.report_href),
            r.verdict.as_str(),
            id = escape(r.id.as_str())
        )
    };
    for section in &view.sections {
        let framework = section.framework;
        let _ = writeln!(
            html,
            "<section id=\"{}\"><h2>{} {}</h2>\n<p>{} · <a href=\"{}\">{}</a></p>\n<p class=\"muted\">Clause text: {}</p>",
            escape(&framework.id),
            escape(&framework.title),
            escape(&framework.version),
            escape(&framework.publisher),
            escape(&framework.url),
            escape(&framework.url),
            escape(framework.text_source.trim())
        );
        if let Some(caveat) = &framework.caveat {
            let _ = writeln!(
                html,
                "<p class=\"muted\">Caveat: {}</p>",
                escape(caveat.trim())
            );
        }
        if let Some(why) = &framework.no_clauses {
            let _ = writeln!(
                html,
                "<p>{}</p>\n<table><tr><th>Requirement</th><th>Level</th><th>Title</th><th>Verdict</th><th>Why</th><th>Failing exchanges</th></tr>",
                escape(why.trim())
            );
            for evidence in requirement_rows(report) {
                let r = evidence.requirement;
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    link(r),
                    r.level,
                    escape(&r.title),
                    r.verdict.as_str(),
                    escape(r.reason.as_deref().unwrap_or_default()),
                    escape(&exchanges_text(&evidence))
                );
            }
            html.push_str("</table></section>\n");
            continue;
        }
        let _ = writeln!(
            html,
            "<p>{}</p>\n<table><tr><th>Clause</th><th>Status</th><th>Clause asks (paraphrase)</th><th>HTTP-testable</th><th>Why</th><th>Evidence</th></tr>",
            tally_line(section)
        );
        for clause in &section.clauses {
            let evidence: Vec<String> = evidence_items(clause, link, escape);
            let _ = writeln!(
                html,
                "<tr class=\"{class}\"><td>{}</td><td class=\"status\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&clause.clause.id),
                clause.status.as_str(),
                escape(&clause.clause.title),
                clause.clause.http.as_str(),
                escape(&clause.why),
                evidence.join("<br>"),
                class = status_class(clause.status)
            );
        }
        html.push_str("</table></section>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
        assert_eq!(cell("<img src=x>[l](u)"), "\\<img src=x\\>\\[l\\](u)");
    }
}
