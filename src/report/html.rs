//! `report.html`: one self-contained page (inline CSS and JS, and a Content-Security-Policy that
//! forbids any fetch) for a reader who is not a programmer: the verdict first, counts by level
//! and area, the requirement matrix with filters, then every failure with the requirement's
//! words, its sources, expected against actual, and the HTTP exchange that shows it. Every piece
//! of text goes through `escape`; supplier-controlled bytes never reach the page raw.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markup::escape;
use super::model::{ExchangeRecord, Report, RequirementResult, TlsRecord, Verdict};

/// Bodies longer than this are cut in the page (the whole body is in report.json and the HAR).
const PAGE_BODY_LIMIT: usize = 32 * 1024;

const STYLE: &str = r#"
:root { --pass:#1b7a3a; --fail:#b3261e; --error:#8a4b00; --muted:#5f6368; --line:#dadce0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 0; color: #202124; }
main { max-width: 1200px; margin: 0 auto; padding: 0 20px 40px; }
header.verdict { padding: 22px 20px; color: #fff; }
header.conformant { background: var(--pass); }
header.non-conformant { background: var(--fail); }
header.incomplete { background: var(--error); }
header.verdict h1 { margin: 0 0 6px; font-size: 28px; letter-spacing: .02em; }
header.verdict p { margin: 2px 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 16px 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; word-break: break-all; }
h2 { margin-top: 32px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f4; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.counts { width: auto; min-width: 60%; }
table.counts th:not(:first-child) { text-align: right; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.v-pass { background: var(--pass); } .v-fail { background: var(--fail); } .v-error { background: var(--error); }
.v-skipped, .v-not-applicable, .v-attestation, .v-attested { background: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 10px 0; }
.filters label { font-size: 13px; color: var(--muted); }
section.failure { border: 1px solid var(--line); border-left: 5px solid var(--fail); border-radius: 4px; padding: 10px 14px; margin: 14px 0; }
section.failure.error { border-left-color: var(--error); }
section.failure h3 { margin: 0 0 6px; }
.statement { color: #3c4043; }
.sources { font-size: 13px; color: var(--muted); }
.pair { display: grid; grid-template-columns: 90px 1fr; gap: 2px 10px; margin: 6px 0; }
.pair span:nth-child(odd) { color: var(--muted); }
pre { background: #f8f9fa; border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 480px; white-space: pre-wrap; word-break: break-all; font-size: 12.5px; }
details { margin: 6px 0; }
summary { cursor: pointer; }
.muted { color: var(--muted); }
.hidden { display: none; }
"#;

const SCRIPT: &str = r#"
(function () {
  var selects = document.querySelectorAll('.filters select');
  var search = document.getElementById('filter-text');
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.name] = s.value; });
    var text = (search.value || '').toLowerCase();
    var shown = 0;
    document.querySelectorAll('[data-requirement]').forEach(function (el) {
      var ok = Object.keys(want).every(function (k) { return !want[k] || el.dataset[k] === want[k]; });
      if (ok && text) { ok = el.textContent.toLowerCase().indexOf(text) >= 0; }
      el.classList.toggle('hidden', !ok);
      if (ok && el.tagName === 'TR') { shown++; }
    });
    document.getElementById('shown').textContent = shown;
  }
  selects.forEach(function (s) { s.addEventListener('change', apply); });
  search.addEventListener('input', apply);
  // Filters can be linked: report.html#verdict=fail&level=MUST
  var hash = decodeURIComponent(location.hash.replace(/^#/, ''));
  hash.split('&').forEach(function (pair) {
    var kv = pair.split('=');
    selects.forEach(function (s) { if (s.name === kv[0]) { s.value = kv[1] || ''; } });
  });
  document.getElementById('expand').addEventListener('click', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
  apply();
})();
"#;

pub fn render(report: &Report) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let verdict = report.verdict.as_str();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>mts report: {} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&verdict.to_uppercase()),
        escape(&report.target),
    );
    let _ = write!(
        html,
        "<header class=\"verdict {verdict}\" id=\"verdict\"><h1>{}</h1><p>{}</p><p>{} profile · {}</p></header>\n<main>\n",
        escape(&verdict.to_uppercase()),
        escape(&report.verdict_reason),
        escape(report.profile.as_str()),
        escape(&report.target),
    );
    meta(&mut html, report);
    counts(&mut html, report);
    test_data_kit(&mut html, report);
    target_model(&mut html, report);
    matrix(&mut html, report);
    let referenced = failures(&mut html, report);
    evidence(&mut html, report, &referenced);
    tls(&mut html, report);
    written(&mut html, report);
    if !report.harness_errors.is_empty() {
        html.push_str("<h2>Harness errors</h2>\n<ul>\n");
        for error in &report.harness_errors {
            let _ = writeln!(html, "<li>{}</li>", escape(error));
        }
        html.push_str("</ul>\n");
    }
    let _ = write!(
        html,
        "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    html
}

/// The test-data kit's promises as the preflight found them, before the requirements: a
/// missing one explains the data a scenario lacked.
fn test_data_kit(html: &mut String, report: &Report) {
    if report.test_data_kit.is_empty() {
        return;
    }
    html.push_str("<h2>Test-data kit, checked before the run</h2>\n<table><tr><th>Patient</th><th>Promised</th><th>Found</th><th>Status</th><th>Exchanges</th></tr>\n");
    for item in &report.test_data_kit {
        let exchanges: Vec<&str> = item.exchanges.iter().map(|e| e.0.as_str()).collect();
        let _ = writeln!(
            html,
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&item.role),
            escape(&item.patient),
            escape(&item.promised),
            escape(&item.found),
            escape(&match &item.why {
                Some(why) => format!("{}: {why}", item.status.as_str()),
                None => item.status.as_str().to_owned(),
            }),
            escape(&exchanges.join(", "))
        );
    }
    html.push_str("</table>\n");
}

fn meta(html: &mut String, report: &Report) {
    html.push_str("<dl class=\"meta\">\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(html, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(&value));
    };
    row("Target", report.target.clone());
    row("Profile", report.profile.as_str().to_owned());
    row("Started", report.started.clone());
    row(
        "Duration",
        format!("{:.1} s", report.duration_ms as f64 / 1000.0),
    );
    row(
        "Harness",
        format!("{} {}", report.harness.name, report.harness.version),
    );
    row(
        "Catalogue",
        format!("{} ({})", report.catalogue.version, report.catalogue.digest),
    );
    row("Coverage", report.coverage.to_string());
    row("Exchanges", report.exchanges.len().to_string());
    if !report.settings.sandbox_faults.is_empty() {
        row("Sandbox faults", report.settings.sandbox_faults.join(", "));
    }
    html.push_str("</dl>\n");
}

/// What the target declares, as discovery read it: the planner decided from this which
/// scenarios apply.
fn target_model(html: &mut String, report: &Report) {
    let Some(model) = &report.target_model else {
        return;
    };
    html.push_str("<h2>What the target declares</h2>\n<ul class=\"model\">\n");
    for line in model.summary_lines() {
        let _ = writeln!(html, "<li>{}</li>", escape(&line));
    }
    html.push_str("</ul>\n");
}

const VERDICTS: [Verdict; 8] = [
    Verdict::Pass,
    Verdict::Fail,
    Verdict::Waived,
    Verdict::Error,
    Verdict::Skipped,
    Verdict::NotApplicable,
    Verdict::Attestation,
    Verdict::Attested,
];

fn count_table<'a>(
    html: &mut String,
    heading: &str,
    groups: impl IntoIterator<Item = (String, Vec<&'a RequirementResult>)>,
) {
    let _ = write!(
        html,
        "<table class=\"counts\"><tr><th>{}</th>",
        escape(heading)
    );
    for verdict in VERDICTS {
        let _ = write!(html, "<th>{}</th>", verdict.as_str());
    }
    html.push_str("</tr>\n");
    for (name, requirements) in groups {
        let _ = write!(html, "<tr><td>{}</td>", escape(&name));
        for verdict in VERDICTS {
            let n = requirements.iter().filter(|r| r.verdict == verdict).count();
            let _ = write!(
                html,
                "<td class=\"num\">{}</td>",
                if n == 0 { String::new() } else { n.to_string() }
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

fn counts(html: &mut String, report: &Report) {
    html.push_str("<h2>Counts</h2>\n");
    let mut by_level: BTreeMap<&str, Vec<&RequirementResult>> = BTreeMap::new();
    let mut by_area: BTreeMap<&str, Vec<&RequirementResult>> = BTreeMap::new();
    for requirement in &report.requirements {
        by_level
            .entry(requirement.level.as_str())
            .or_default()
            .push(requirement);
        by_area
            .entry(&requirement.area)
            .or_default()
            .push(requirement);
    }
    let order = ["MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"];
    count_table(
        html,
        "Level",
        order
            .iter()
            .filter_map(|l| by_level.remove(l).map(|r| ((*l).to_owned(), r))),
    );
    html.push_str("<p></p>\n");
    count_table(
        html,
        "Area",
        by_area.into_iter().map(|(a, r)| (a.to_owned(), r)),
    );
}

fn badge(verdict: Verdict) -> String {
    format!("<span class=\"badge v-{0}\">{0}</span>", verdict.as_str())
}

fn data_attributes(requirement: &RequirementResult) -> String {
    format!(
        "data-requirement=\"{}\" data-verdict=\"{}\" data-level=\"{}\" data-area=\"{}\"",
        escape(requirement.id.as_str()),
        requirement.verdict.as_str(),
        escape(requirement.level.as_str()),
        escape(&requirement.area),
    )
}

fn options(values: impl IntoIterator<Item = String>) -> String {
    values
        .into_iter()
        .map(|v| format!("<option value=\"{0}\">{0}</option>", escape(&v)))
        .collect()
}

fn matrix(html: &mut String, report: &Report) {
    let mut areas: Vec<String> = report.requirements.iter().map(|r| r.area.clone()).collect();
    areas.sort();
    areas.dedup();
    let mut levels: Vec<String> = report
        .requirements
        .iter()
        .map(|r| r.level.as_str().to_owned())
        .collect();
    levels.sort();
    levels.dedup();
    let _ = write!(
        html,
        "<h2>Requirements</h2>\n<div class=\"filters\">\
         <label>Verdict <select name=\"verdict\"><option value=\"\">all</option>{}</select></label>\
         <label>Level <select name=\"level\"><option value=\"\">all</option>{}</select></label>\
         <label>Area <select name=\"area\"><option value=\"\">all</option>{}</select></label>\
         <label>Text <input id=\"filter-text\" type=\"search\" placeholder=\"id, title, reason\"></label>\
         <span class=\"muted\"><span id=\"shown\">{}</span> shown</span>\
         <button id=\"expand\" type=\"button\">Expand all evidence</button></div>\n",
        options(VERDICTS.iter().map(|v| v.as_str().to_owned())),
        options(levels),
        options(areas),
        report.requirements.len(),
    );
    html.push_str("<table id=\"matrix\"><tr><th>Requirement</th><th>Level</th><th>Title</th><th>Verdict</th><th>Why</th><th>Decided by</th></tr>\n");
    for requirement in &report.requirements {
        let id = escape(requirement.id.as_str());
        let linked = if matches!(requirement.verdict, Verdict::Fail | Verdict::Error) {
            format!("<a href=\"#req-{id}\">{id}</a>")
        } else {
            id.clone()
        };
        let _ = writeln!(
            html,
            "<tr {}><td>{linked}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            data_attributes(requirement),
            escape(requirement.level.as_str()),
            escape(&requirement.title),
            badge(requirement.verdict),
            escape(&why(requirement)),
            escape(requirement.evidence.as_deref().unwrap_or("")),
        );
    }
    html.push_str("</table>\n");
}

/// The reason, with its kind for what was not judged (`not-declared: …`).
fn why(requirement: &RequirementResult) -> String {
    let reason = requirement.reason.as_deref().unwrap_or("");
    match requirement.reason_kind {
        Some(kind) if !reason.is_empty() => format!("{kind}: {reason}"),
        _ => reason.to_owned(),
    }
}

/// Writes the failure cards; returns the exchanges they point at, numbered for anchors.
fn failures<'a>(html: &mut String, report: &'a Report) -> BTreeMap<&'a str, usize> {
    let mut referenced: BTreeMap<&str, usize> = BTreeMap::new();
    let failed: Vec<&RequirementResult> = report
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    let _ = writeln!(html, "<h2>Failures and errors ({})</h2>", failed.len());
    if failed.is_empty() {
        html.push_str("<p>None.</p>\n");
    }
    for requirement in failed {
        let class = if requirement.verdict == Verdict::Error {
            "failure error"
        } else {
            "failure"
        };
        let _ = write!(
            html,
            "<section class=\"{class}\" id=\"req-{}\" {}>\n<h3>{} {} {}</h3>\n<p class=\"statement\">{} <em>({})</em></p>\n",
            escape(requirement.id.as_str()),
            data_attributes(requirement),
            badge(requirement.verdict),
            escape(requirement.id.as_str()),
            escape(&requirement.title),
            escape(&requirement.statement),
            escape(requirement.level.as_str()),
        );
        if !requirement.sources.is_empty() {
            html.push_str("<p class=\"sources\">Sources: ");
            let links: Vec<String> = requirement
                .sources
                .iter()
                .map(|s| {
                    let label = escape(&format!("{} {}", s.code, s.title));
                    let detail = escape(&s.detail);
                    if s.url.starts_with("https://") || s.url.starts_with("http://") {
                        format!(
                            "<a href=\"{}\" rel=\"noreferrer\">{label}</a> ({detail})",
                            escape(&s.url)
                        )
                    } else {
                        format!("{label} ({detail})")
                    }
                })
                .collect();
            html.push_str(&links.join("; "));
            html.push_str("</p>\n");
        }
        if let Some(rule) = &requirement.profile_rule {
            let _ = writeln!(
                html,
                "<p class=\"muted\">Profile rule: {}</p>",
                escape(rule)
            );
        }
        if requirement.verdict == Verdict::Error {
            let _ = writeln!(
                html,
                "<p>Not judged: {}</p>",
                escape(requirement.reason.as_deref().unwrap_or(""))
            );
        }
        for failure in &requirement.failures {
            let _ = write!(
                html,
                "<div class=\"pair\"><span>Where</span><span>{}</span><span>Finding</span><span>{}</span>",
                escape(&failure.source),
                escape(&failure.failure.message),
            );
            if let Some(expected) = &failure.failure.expected {
                let _ = write!(
                    html,
                    "<span>Expected</span><span>{}</span>",
                    escape(expected)
                );
            }
            if let Some(actual) = &failure.failure.actual {
                let _ = write!(html, "<span>Actual</span><span>{}</span>", escape(actual));
            }
            if let Some(exchange) = &failure.failure.exchange {
                let next = referenced.len() + 1;
                let number = *referenced.entry(exchange.0.as_str()).or_insert(next);
                let _ = write!(
                    html,
                    "<span>Evidence</span><span><a href=\"#ex-{number}\">{}</a></span>",
                    escape(&exchange.0)
                );
            }
            html.push_str("</div>\n");
        }
        for note in &requirement.notes {
            let _ = writeln!(html, "<p class=\"muted\">Note: {}</p>", escape(note));
        }
        html.push_str("</section>\n");
    }
    referenced
}

/// A body for the page: pretty JSON when it parses, cut at the page's limit.
fn pretty_body(text: &str) -> String {
    let pretty = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned());
    if pretty.len() <= PAGE_BODY_LIMIT {
        return pretty;
    }
    let mut end = PAGE_BODY_LIMIT;
    while !pretty.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… cut at {PAGE_BODY_LIMIT} bytes; the rest is in report.json and evidence.har",
        &pretty[..end]
    )
}

fn headers_text(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exchange_html(html: &mut String, exchange: &ExchangeRecord, number: usize) {
    let _ = write!(
        html,
        "<section class=\"exchange\" id=\"ex-{number}\"><h3>{} <span class=\"muted\">{}</span></h3>\n\
         <p><code>{} {}</code></p>\n",
        escape(&exchange.id.0),
        escape(&exchange.label),
        escape(&exchange.request.method),
        escape(&exchange.request.url),
    );
    let _ = writeln!(
        html,
        "<details><summary>Request headers</summary><pre>{}</pre></details>",
        escape(&headers_text(&exchange.request.headers))
    );
    if let Some(body) = &exchange.request.body {
        let _ = writeln!(
            html,
            "<details><summary>Request body</summary><pre>{}</pre></details>",
            escape(&pretty_body(body))
        );
    }
    match (&exchange.response, &exchange.error) {
        (Some(response), _) => {
            let _ = write!(
                html,
                "<p>Response: <strong>{}</strong> {} ({} bytes{}, {} ms)</p>\n\
                 <details><summary>Response headers</summary><pre>{}</pre></details>\n\
                 <details open><summary>Response body</summary><pre>{}</pre></details>\n",
                response.status,
                escape(&response.http_version),
                response.body_size,
                if response.body_truncated { ", cut" } else { "" },
                exchange.elapsed_ms,
                escape(&headers_text(&response.headers)),
                escape(&pretty_body(&response.body)),
            );
        }
        (None, Some(error)) => {
            let _ = writeln!(html, "<p>No response: {}</p>", escape(&error.message));
        }
        (None, None) => html.push_str("<p>No response.</p>\n"),
    }
    html.push_str("</section>\n");
}

fn evidence(html: &mut String, report: &Report, referenced: &BTreeMap<&str, usize>) {
    if referenced.is_empty() {
        return;
    }
    let _ = writeln!(
        html,
        "<h2>Evidence</h2>\n<p class=\"muted\">The exchanges the failures point at (secrets redacted). All {} exchanges of the run are in evidence.har.</p>",
        report.exchanges.len()
    );
    let by_id: BTreeMap<&str, &ExchangeRecord> = report
        .exchanges
        .iter()
        .map(|e| (e.id.0.as_str(), e))
        .collect();
    let mut ordered: Vec<(&&str, &usize)> = referenced.iter().collect();
    ordered.sort_by_key(|(_, n)| **n);
    for (id, number) in ordered {
        match by_id.get(*id) {
            Some(exchange) => exchange_html(html, exchange, *number),
            None => {
                let _ = writeln!(
                    html,
                    "<section id=\"ex-{number}\"><h3>{}</h3><p class=\"muted\">Not recorded.</p></section>",
                    escape(id)
                );
            }
        }
    }
}

fn tls(html: &mut String, report: &Report) {
    let Some(record) = &report.tls else {
        return;
    };
    html.push_str("<h2>TLS</h2>\n");
    match record {
        TlsRecord::Failed { error } => {
            let _ = writeln!(html, "<p>Handshake failed: {}</p>", escape(error));
        }
        TlsRecord::Negotiated(facts) => {
            let text = serde_json::to_string_pretty(facts).unwrap_or_default();
            let _ = writeln!(html, "<pre>{}</pre>", escape(&text));
        }
    }
}

/// What the run wrote on the target and what cleanup did about each (only with writes allowed).
fn written(html: &mut String, report: &Report) {
    let Some(section) = &report.written else {
        return;
    };
    html.push_str("<h2 id=\"written\">What mts wrote on the target</h2>\n");
    let Some(summary) = section.summary() else {
        html.push_str("<p class=\"muted\">Nothing: no write was answered with success.</p>\n");
        return;
    };
    let _ = writeln!(
        html,
        "<p>{}.</p>\n<table class=\"written\"><tr><th>Resource</th><th>How</th><th>Written by</th><th>Cleanup</th></tr>",
        escape(&summary)
    );
    for resource in &section.resources {
        let by = match &resource.scenario {
            Some(scenario) => format!("{scenario} ({})", resource.exchange),
            None => resource.exchange.to_string(),
        };
        let cleanup = match &resource.cleanup_exchange {
            Some(id) => format!("{} ({id})", resource.outcome_text()),
            None => resource.outcome_text(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&resource.reference),
            escape(match resource.action {
                super::WriteAction::Created => "created",
                super::WriteAction::Changed => "changed",
            }),
            escape(&by),
            escape(&cleanup)
        );
    }
    html.push_str("</table>\n");
}
