//! The site's pages: `index.html` over every target and one page per target. Self-contained
//! like `report.html` (inline CSS, a few lines of inline JS for the filter box, a
//! Content-Security-Policy that forbids any fetch); every piece of text from a report goes
//! through `escape`, since targets, reasons, titles and waiver justifications come from files
//! anyone could have written.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::super::Verdict;
use super::super::diff::Change;
use super::super::markup::escape;
use super::collect::{SiteRun, Unreadable};
use super::history::{TargetHistory, expiring_waivers, failing_across_targets, newest_run_day};

/// Where a run was copied in the site, and which of its files are there.
#[derive(Debug, Clone)]
pub struct RunCopy {
    /// Relative to the site's root, `/`-separated: `runs/<target>/<NNN>-<name>`.
    pub folder: String,
    pub files: Vec<String>,
}

/// Everything the pages are drawn from.
pub struct Site<'a> {
    pub targets: &'a [TargetHistory],
    /// For each target, for each of its runs (same order): its copy.
    pub copies: &'a [Vec<RunCopy>],
    pub unreadable: &'a [Unreadable],
    /// Waivers ending within this many days of the newest run are listed.
    pub waiver_window_days: i64,
    /// Whether signatures were checked against a `--verify-key`.
    pub key_given: bool,
}

/// The trend on the index shows this many runs at most; the target page shows them all.
const INDEX_TREND_RUNS: usize = 30;

/// The files of a run folder a reader opens, in the order they are offered.
const RUN_LINKS: [(&str, &str); 4] = [
    ("report.html", "report"),
    ("evidence.har", "evidence"),
    ("summary.md", "summary"),
    ("junit.xml", "junit"),
];

const STYLE: &str = r#"
:root { --pass:#1b7a3a; --fail:#b3261e; --error:#8a4b00; --muted:#5f6368; --line:#dadce0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 0; color: #202124; }
main { max-width: 1280px; margin: 0 auto; padding: 0 20px 40px; }
header.site { padding: 18px 20px; background: #1d3557; color: #fff; }
header.site h1 { margin: 0 0 4px; font-size: 24px; }
header.site p { margin: 2px 0; }
header.site a { color: #fff; }
header.conformant { background: var(--pass); }
header.non-conformant { background: var(--fail); }
header.incomplete { background: var(--error); }
h2 { margin-top: 30px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.r-conformant, .v-pass { background: var(--pass); }
.r-non-conformant, .v-fail { background: var(--fail); }
.r-incomplete, .v-error { background: var(--error); }
.v-waived { background: #6a4c93; }
.v-skipped, .v-not-applicable, .v-attestation, .v-attested, .v-absent { background: var(--muted); }
.seal { font-size: 13px; }
.seal-verified { color: var(--pass); }
.seal-signer-not-checked, .seal-unsigned { color: var(--muted); }
.seal-tampered, .seal-other-signer, .seal-no-manifest, .seal-not-signed { color: #fff; background: var(--fail); padding: 0 6px; border-radius: 3px; font-weight: 700; }
.alarm { border: 2px solid var(--fail); background: #fce8e6; padding: 10px 14px; margin: 16px 0; border-radius: 4px; }
.filters { display: flex; gap: 12px; align-items: center; margin: 14px 0; }
.filters input { font-size: 15px; padding: 4px 8px; min-width: 320px; }
.counts { display: inline-block; max-width: 16em; }
.counts span { display: inline-block; white-space: nowrap; margin-right: 8px; }
td.when, .files a { white-space: nowrap; }
.counts .fail { color: var(--fail); font-weight: 600; }
.counts .error { color: var(--error); font-weight: 600; }
tr.regression td:first-child { color: var(--fail); font-weight: 600; }
.muted { color: var(--muted); }
.hidden { display: none; }
svg.trend { vertical-align: middle; }
details summary { cursor: pointer; }
code { word-break: break-all; }
"#;

const SCRIPT: &str = r#"
(function () {
  var box = document.getElementById('filter');
  var shown = document.getElementById('shown');
  function apply() {
    var text = (box.value || '').toLowerCase().trim();
    var count = 0;
    document.querySelectorAll('[data-filter]').forEach(function (el) {
      var ok = !text || el.textContent.toLowerCase().indexOf(text) >= 0;
      el.classList.toggle('hidden', !ok);
      if (ok && el.hasAttribute('data-counted')) { count++; }
    });
    shown.textContent = count;
  }
  box.addEventListener('input', apply);
  // A filter can be linked: index.html#q=SEC-HDR
  var hash = location.hash.replace(/^#/, '');
  if (hash.indexOf('q=') === 0) {
    try { box.value = decodeURIComponent(hash.slice(2)); } catch (e) { box.value = hash.slice(2); }
  }
  apply();
})();
"#;

fn page(title: &str, header: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{header}\n<main>\n{body}</main>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    )
}

fn filter_box(placeholder: &str, total: usize, counted: &str) -> String {
    format!(
        "<div class=\"filters\"><label>Filter <input id=\"filter\" type=\"search\" placeholder=\"{}\"></label>\
         <span class=\"muted\"><span id=\"shown\">{total}</span> of {total} {} shown</span></div>\n",
        escape(placeholder),
        escape(counted)
    )
}

fn run_badge(run: &SiteRun) -> String {
    let verdict = run.report.verdict.as_str();
    format!("<span class=\"badge r-{verdict}\">{verdict}</span>")
}

fn verdict_badge(verdict: Verdict) -> String {
    format!("<span class=\"badge v-{0}\">{0}</span>", verdict.as_str())
}

/// A verdict named by `diff` ("absent" for a requirement a run did not have).
fn named_badge(name: &str) -> String {
    let name = escape(name);
    format!("<span class=\"badge v-{name}\">{name}</span>")
}

/// `2026-12-04 11:53:14` (UTC, as the pages say), or the recorded text when it is not a time.
fn when(run: &SiteRun) -> String {
    match run.started {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => run.report.started.clone(),
    }
}

/// Requirements of each verdict, computed from the requirements themselves (older reports may
/// lack `counts`).
fn tally(run: &SiteRun, verdict: Verdict) -> usize {
    run.report
        .requirements
        .iter()
        .filter(|r| r.verdict == verdict)
        .count()
}

fn failing(run: &SiteRun) -> usize {
    tally(run, Verdict::Fail) + tally(run, Verdict::Error)
}

const SHOWN_VERDICTS: [Verdict; 8] = [
    Verdict::Pass,
    Verdict::Fail,
    Verdict::Waived,
    Verdict::Error,
    Verdict::Skipped,
    Verdict::NotApplicable,
    Verdict::Attestation,
    Verdict::Attested,
];

fn counts(run: &SiteRun) -> String {
    let mut out = String::from("<span class=\"counts\">");
    for verdict in SHOWN_VERDICTS {
        let n = tally(run, verdict);
        if n > 0 {
            let _ = write!(out, "<span class=\"{0}\">{n} {0}</span>", verdict.as_str());
        }
    }
    out.push_str("</span>");
    out
}

fn coverage(run: &SiteRun) -> String {
    let coverage = run.report.coverage;
    if coverage.applicable == 0 {
        return "0/0".to_owned();
    }
    format!(
        "{}/{} ({}%)",
        coverage.judged,
        coverage.applicable,
        coverage.judged.saturating_mul(100) / coverage.applicable
    )
}

fn seal(run: &SiteRun) -> String {
    let details = run.seal.details();
    let label = format!(
        "<span class=\"seal seal-{}\">{}</span>",
        run.seal.name(),
        escape(run.seal.label())
    );
    if details.is_empty() {
        return label;
    }
    let items: String = details
        .iter()
        .map(|d| format!("<li>{}</li>", escape(d)))
        .collect();
    format!("<details><summary>{label}</summary><ul>{items}</ul></details>")
}

fn verdict_colour(run: &SiteRun) -> &'static str {
    match run.report.verdict.as_str() {
        "conformant" => "#1b7a3a",
        "non-conformant" => "#b3261e",
        _ => "#8a4b00",
    }
}

/// An inline SVG: failing requirements (fail or error) per run, one dot per run coloured by its
/// verdict, each with a tooltip.
fn trend(runs: &[SiteRun], width: usize, height: usize) -> String {
    let most = runs.iter().map(failing).max().unwrap_or(0).max(1);
    let pad = 4;
    let step = if runs.len() > 1 {
        (width - 2 * pad) as f64 / (runs.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<(f64, f64, &SiteRun)> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let x = pad as f64 + step * i as f64;
            let y = (height - pad) as f64
                - (failing(run) as f64 / most as f64) * (height - 2 * pad) as f64;
            (x, y, run)
        })
        .collect();
    let line: Vec<String> = points
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect();
    let mut svg = format!(
        "<svg class=\"trend\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"failing requirements per run\">\
         <polyline fill=\"none\" stroke=\"#9aa0a6\" stroke-width=\"1.5\" points=\"{}\"/>",
        line.join(" ")
    );
    for (x, y, run) in points {
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{}\"><title>{}: {}, {} failing</title></circle>",
            verdict_colour(run),
            escape(&when(run)),
            run.report.verdict.as_str(),
            failing(run)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn target_page_link(target: &TargetHistory, from_index: bool) -> String {
    let prefix = if from_index { "targets/" } else { "" };
    format!("{prefix}{}.html", escape(&target.slug))
}

/// The index: every target with its latest run, waivers about to end, requirements most
/// targets fail, and folders that could not be read.
pub fn index(site: &Site<'_>) -> String {
    let targets = site.targets;
    let runs: usize = targets.iter().map(|t| t.runs.len()).sum();
    let newest = newest_run_day(targets);
    let mut body = String::new();
    suspect_alarm(&mut body, site);
    body.push_str(&filter_box(
        "target, requirement, verdict",
        targets.len(),
        "targets",
    ));
    let _ = writeln!(
        body,
        "<h2 id=\"targets\">Targets ({})</h2>\n<table id=\"target-table\"><tr><th>Target</th><th>Latest verdict</th>\
         <th>Requirements</th><th>Judged / automated</th><th>Failing per run</th><th>Runs</th><th>Last run (UTC)</th><th>Integrity</th></tr>",
        targets.len()
    );
    for target in targets {
        let Some(latest) = target.latest() else {
            continue;
        };
        let shown = &target.runs[target.runs.len().saturating_sub(INDEX_TREND_RUNS)..];
        let suspect = target.suspect_runs();
        let _ = writeln!(
            body,
            "<tr data-filter data-counted><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td class=\"num\">{}{}</td><td class=\"when\">{}</td><td>{}</td></tr>",
            target_page_link(target, true),
            escape(&target.key),
            run_badge(latest),
            counts(latest),
            coverage(latest),
            trend(shown, 120, 28),
            target.runs.len(),
            if suspect > 0 {
                format!(" <span class=\"seal seal-tampered\">{suspect} suspect</span>")
            } else {
                String::new()
            },
            escape(&when(latest)),
            seal(latest),
        );
    }
    body.push_str("</table>\n");

    match newest {
        Some(day) => waivers(&mut body, site, day),
        None => body.push_str(
            "<h2 id=\"waivers\">Waivers about to expire</h2>\n<p class=\"muted\">No run has a readable start time.</p>\n",
        ),
    }
    shared_failures(&mut body, targets);
    unreadable(&mut body, site.unreadable);
    let header = format!(
        "<header class=\"site\"><h1>NHS minimum technical standards: {} target(s)</h1>\
         <p>{runs} run(s){}; signatures {}</p></header>",
        targets.len(),
        newest
            .map(|d| format!(", the newest on {d}"))
            .unwrap_or_default(),
        if site.key_given {
            "checked against the given key"
        } else {
            "not checked against a key (no --verify-key), hashes checked"
        }
    );
    page(
        &format!("mts site: {} target(s)", targets.len()),
        &header,
        &body,
    )
}

fn suspect_alarm(body: &mut String, site: &Site<'_>) {
    let mut suspect = Vec::new();
    for target in site.targets {
        for (number, run) in target.runs.iter().enumerate() {
            if run.seal.is_suspect() {
                suspect.push(format!(
                    "<li><a href=\"{}#run-{}\">{} run #{}</a> ({}): {}</li>",
                    target_page_link(target, true),
                    number + 1,
                    escape(&target.key),
                    number + 1,
                    escape(&when(run)),
                    escape(run.seal.label())
                ));
            }
        }
    }
    if !suspect.is_empty() {
        let _ = writeln!(
            body,
            "<div class=\"alarm\" id=\"suspect\"><strong>{} run folder(s) failed verification</strong>: \
             their files are not what the run wrote, so their verdicts cannot be relied on.<ul>{}</ul></div>",
            suspect.len(),
            suspect.join("")
        );
    }
}

fn waivers(body: &mut String, site: &Site<'_>, today: NaiveDate) {
    let expiring = expiring_waivers(site.targets, today, site.waiver_window_days);
    let _ = writeln!(
        body,
        "<h2 id=\"waivers\">Waivers lapsed or expiring within {} days of {today} ({})</h2>\n\
         <p class=\"muted\">From each target's latest run; {today} is the day of the newest run.</p>",
        site.waiver_window_days,
        expiring.len()
    );
    if expiring.is_empty() {
        body.push_str("<p>None.</p>\n");
        return;
    }
    body.push_str("<table id=\"waiver-table\"><tr><th>Target</th><th>Requirement</th><th>Last day</th><th>Days left</th><th>Latest verdict</th><th>Justification</th></tr>\n");
    for waiver in expiring {
        let _ = writeln!(
            body,
            "<tr data-filter><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            target_page_link(waiver.target, true),
            escape(&waiver.target.key),
            escape(&waiver.waiver.requirement),
            waiver.waiver.expires,
            if waiver.days_left < 0 {
                format!("lapsed {} day(s) ago", -waiver.days_left)
            } else {
                waiver.days_left.to_string()
            },
            waiver.verdict.map(verdict_badge).unwrap_or_default(),
            escape(&waiver.waiver.justification),
        );
    }
    body.push_str("</table>\n");
}

fn shared_failures(body: &mut String, targets: &[TargetHistory]) {
    let shared = failing_across_targets(targets);
    let _ = writeln!(
        body,
        "<h2 id=\"shared\">Requirements failing across most targets ({})</h2>\n\
         <p class=\"muted\">Failed (or failed and waived) in the latest run of more than half of the {} targets.</p>",
        shared.len(),
        targets.len()
    );
    if targets.len() < 2 {
        body.push_str("<p>Needs two targets at least.</p>\n");
        return;
    }
    if shared.is_empty() {
        body.push_str("<p>None.</p>\n");
        return;
    }
    body.push_str("<table id=\"shared-table\"><tr><th>Requirement</th><th>Level</th><th>Title</th><th>Failed by</th><th>Targets</th></tr>\n");
    for failure in shared {
        let links: Vec<String> = failure
            .targets
            .iter()
            .map(|(target, verdict)| {
                format!(
                    "<a href=\"{}#req-{}\">{}</a> {}",
                    target_page_link(target, true),
                    escape(&failure.id),
                    escape(&target.key),
                    verdict_badge(*verdict)
                )
            })
            .collect();
        let _ = writeln!(
            body,
            "<tr data-filter><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{} of {}</td><td>{}</td></tr>",
            escape(&failure.id),
            escape(&failure.level),
            escape(&failure.title),
            failure.targets.len(),
            targets.len(),
            links.join("<br>")
        );
    }
    body.push_str("</table>\n");
}

fn unreadable(body: &mut String, unreadable: &[Unreadable]) {
    if unreadable.is_empty() {
        return;
    }
    let _ = writeln!(
        body,
        "<h2 id=\"unreadable\">Unreadable run folders ({})</h2>\n\
         <table id=\"unreadable-table\"><tr><th>Folder</th><th>Why</th></tr>",
        unreadable.len()
    );
    for folder in unreadable {
        let _ = writeln!(
            body,
            "<tr data-filter><td><code>{}</code></td><td>{}</td></tr>",
            escape(&folder.folder.display().to_string()),
            escape(&folder.reason)
        );
    }
    body.push_str("</table>\n");
}

/// One target's page: every run with links into its copied folder, the changes between
/// consecutive runs, what fails in the latest run, and its waivers.
/// `index` is the target's place in `site.targets`; an index past the end gives no page.
pub fn target_page(site: &Site<'_>, index: usize) -> String {
    let Some(target) = site.targets.get(index) else {
        return String::new();
    };
    let copies = site.copies.get(index).map(Vec::as_slice).unwrap_or(&[]);
    let changes = target.changes();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p><a href=\"../index.html\">All targets</a></p>\n<h2 id=\"trend\">Failing requirements per run</h2>\n<p>{}</p>",
        trend(&target.runs, 640, 80)
    );
    body.push_str(&filter_box(
        "requirement, verdict, date",
        target.runs.len(),
        "runs",
    ));
    history(&mut body, target, copies, &changes);
    changes_section(&mut body, target, &changes);
    if let Some(latest) = target.latest() {
        latest_failures(&mut body, latest);
        latest_waivers(&mut body, latest);
    }
    let header = match target.latest() {
        Some(latest) => format!(
            "<header class=\"site {}\"><h1>{}</h1><p>Latest: {} ({}) · {} run(s) · {}</p></header>",
            latest.report.verdict.as_str(),
            escape(&target.key),
            escape(&latest.report.verdict.as_str().to_uppercase()),
            escape(&when(latest)),
            target.runs.len(),
            escape(&latest.report.verdict_reason),
        ),
        None => format!(
            "<header class=\"site\"><h1>{}</h1></header>",
            escape(&target.key)
        ),
    };
    page(&format!("mts site: {}", target.key), &header, &body)
}

fn history(
    body: &mut String,
    target: &TargetHistory,
    copies: &[RunCopy],
    changes: &[(usize, super::super::diff::RunDiff)],
) {
    body.push_str(
        "<h2 id=\"history\">Runs, oldest first</h2>\n<table id=\"history-table\"><tr><th>#</th><th>Started (UTC)</th><th>Profile</th><th>Verdict</th>\
         <th>Requirements</th><th>Coverage</th><th>Since the run before</th><th>Integrity</th><th>Files</th></tr>\n",
    );
    for (number, run) in target.runs.iter().enumerate() {
        let since = changes
            .iter()
            .find(|(later, _)| *later == number)
            .map(|(_, diff)| {
                let text = format!(
                    "{} new failure(s), {} fixed",
                    diff.regressions(),
                    diff.count(Change::Fixed)
                );
                if has_listed_changes(diff) {
                    format!("<a href=\"#change-{}\">{}</a>", number + 1, text)
                } else {
                    text
                }
            })
            .unwrap_or_else(|| "<span class=\"muted\">first run</span>".to_owned());
        let files = copies
            .get(number)
            .map(|copy| {
                let mut links: Vec<String> = RUN_LINKS
                    .iter()
                    .filter(|(file, _)| copy.files.iter().any(|f| f == file))
                    .map(|(file, label)| {
                        format!("<a href=\"../{}/{file}\">{label}</a>", escape(&copy.folder))
                    })
                    .collect();
                links.push(format!(
                    "<a href=\"../{}/\">folder</a>",
                    escape(&copy.folder)
                ));
                links.join(" · ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr id=\"run-{n}\" data-filter data-counted><td class=\"num\">{n}</td><td class=\"when\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td>{since}</td><td>{}</td><td class=\"files\">{files}</td></tr>",
            escape(&when(run)),
            escape(run.report.profile.as_str()),
            run_badge(run),
            counts(run),
            coverage(run),
            seal(run),
            n = number + 1,
        );
    }
    body.push_str("</table>\n");
}

/// Whether a diff has more than requirements still failing for the same reasons (the only
/// changes the page lists under its own heading).
fn has_listed_changes(diff: &super::super::diff::RunDiff) -> bool {
    diff.changes
        .iter()
        .any(|c| c.change != Change::StillFailing)
}

fn changes_section(
    body: &mut String,
    target: &TargetHistory,
    changes: &[(usize, super::super::diff::RunDiff)],
) {
    let regressions: usize = changes.iter().map(|(_, d)| d.regressions()).sum();
    let _ = writeln!(
        body,
        "<h2 id=\"changes\">Changes between consecutive runs ({regressions} regression(s))</h2>\n\
         <p class=\"muted\">As <code>mts diff</code> compares two runs: a new failure is a requirement failing or in error that was not before. \
         Requirements still failing for the same reasons are counted, not listed.</p>"
    );
    let mut any = false;
    for (later, diff) in changes.iter().rev() {
        if !has_listed_changes(diff) {
            continue;
        }
        any = true;
        let (before, after) = (&target.runs[later - 1], &target.runs[*later]);
        let _ = writeln!(
            body,
            "<section id=\"change-{}\" data-filter><h3>#{} → #{} ({}): {} new failure(s), {} fixed, {} changed evidence, {} still failing</h3>",
            later + 1,
            later,
            later + 1,
            escape(&when(after)),
            diff.regressions(),
            diff.count(Change::Fixed),
            diff.count(Change::ChangedEvidence),
            diff.count(Change::StillFailing),
        );
        if before.report.profile != after.report.profile {
            let _ = writeln!(
                body,
                "<p class=\"muted\">Note: the profile changed ({} then {}).</p>",
                escape(before.report.profile.as_str()),
                escape(after.report.profile.as_str())
            );
        }
        body.push_str("<table><tr><th>Change</th><th>Requirement</th><th>Level</th><th>Before → after</th><th>Reason</th></tr>\n");
        for change in diff
            .changes
            .iter()
            .filter(|c| c.change != Change::StillFailing)
        {
            let class = if change.change == Change::NewFailure {
                " class=\"regression\""
            } else {
                ""
            };
            let _ = writeln!(
                body,
                "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
                escape(change.change.label()),
                escape(&change.id),
                escape(&change.level),
                named_badge(&change.before),
                named_badge(&change.after),
                escape(change.reason.as_deref().unwrap_or("")),
            );
        }
        body.push_str("</table>\n</section>\n");
    }
    if !any {
        body.push_str("<p>No requirement changed between runs.</p>\n");
    }
}

fn latest_failures(body: &mut String, latest: &SiteRun) {
    let failed: Vec<_> = latest
        .report
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error | Verdict::Waived))
        .collect();
    let _ = writeln!(
        body,
        "<h2 id=\"failing\">Failing, in error or waived in the latest run ({})</h2>",
        failed.len()
    );
    if failed.is_empty() {
        body.push_str("<p>None.</p>\n");
        return;
    }
    body.push_str("<table id=\"failing-table\"><tr><th>Requirement</th><th>Level</th><th>Title</th><th>Verdict</th><th>Reason</th></tr>\n");
    for requirement in failed {
        let _ = writeln!(
            body,
            "<tr id=\"req-{0}\" data-filter><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
            escape(requirement.id.as_str()),
            escape(requirement.level.as_str()),
            escape(&requirement.title),
            verdict_badge(requirement.verdict),
            escape(requirement.reason.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</table>\n");
}

fn latest_waivers(body: &mut String, latest: &SiteRun) {
    let waivers = &latest.report.settings.waivers;
    if waivers.is_empty() {
        return;
    }
    let _ = writeln!(
        body,
        "<h2 id=\"waivers\">Waivers of the latest run ({})</h2>\n<table><tr><th>Requirement</th><th>Last day</th><th>Justification</th></tr>",
        waivers.len()
    );
    for waiver in waivers {
        let _ = writeln!(
            body,
            "<tr data-filter><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&waiver.requirement),
            waiver.expires,
            escape(&waiver.justification)
        );
    }
    body.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::site::Seal;
    use crate::report::site::history::group_by_target;
    use crate::report::site::history::tests::run;

    /// Not a URL, so it is kept as written (a URL's path would come back percent-encoded).
    const HOSTILE: &str = "evil <script>alert('t')</script>\"><img src=x onerror=alert(1)>";

    fn hostile_site() -> (Vec<TargetHistory>, Vec<Vec<RunCopy>>, Vec<Unreadable>) {
        let mut first = run(HOSTILE, "2026-12-01T00:00:00Z", &[("SEC-HDR-001", "pass")]);
        first.report.requirements[0].title = "<b>title</b>".into();
        let mut second = run(HOSTILE, "2026-12-02T00:00:00Z", &[("SEC-HDR-001", "fail")]);
        second.report.requirements[0].reason = Some("<script>reason()</script>".into());
        second.report.verdict_reason = "<i>why</i>".into();
        second.report.settings.waivers = vec![crate::config::Waiver {
            requirement: "<u>API</u>".into(),
            justification: "<script>justify()</script>".into(),
            expires: "2026-12-10".parse().unwrap(),
        }];
        second.seal = Seal::Tampered {
            problems: vec!["<script>problem()</script> has changed".into()],
        };
        let other = run(
            "https://ok.example/R4",
            "2026-12-02T00:00:00Z",
            &[("SEC-HDR-001", "fail")],
        );
        let targets = group_by_target(vec![first, second, other]);
        let copies = targets
            .iter()
            .map(|t| {
                t.runs
                    .iter()
                    .enumerate()
                    .map(|(i, _)| RunCopy {
                        folder: format!("runs/{}/{:03}-x", t.slug, i + 1),
                        files: vec!["report.html".into(), "evidence.har".into()],
                    })
                    .collect()
            })
            .collect();
        let unreadable = vec![Unreadable {
            folder: "/r/<script>folder()</script>".into(),
            reason: "<script>why()</script>".into(),
        }];
        (targets, copies, unreadable)
    }

    #[test]
    fn supplier_text_is_escaped_on_every_page() {
        let (targets, copies, unreadable) = hostile_site();
        let site = Site {
            targets: &targets,
            copies: &copies,
            unreadable: &unreadable,
            waiver_window_days: 30,
            key_given: false,
        };
        let pages = [index(&site), target_page(&site, 0), target_page(&site, 1)];
        for html in &pages {
            assert_eq!(
                html.matches("<script>").count(),
                1,
                "only the page's own script"
            );
            assert!(
                !html.contains("<img"),
                "supplier markup reached the page raw"
            );
            assert!(
                !html.contains("<b>title") && !html.contains("<i>why") && !html.contains("<u>API")
            );
            assert!(!html.contains("src=\"http") && !html.contains("href=\"//"));
        }
        let index = &pages[0];
        assert!(
            index.contains("&lt;script&gt;alert(&#39;t&#39;)"),
            "the target is shown, escaped"
        );
        assert!(
            index.contains("&lt;script&gt;why()"),
            "the unreadable reason, escaped"
        );
        assert!(
            index.contains("&lt;script&gt;justify()"),
            "the waiver, escaped"
        );
        assert!(
            index.contains("1 run folder(s) failed verification"),
            "tampering is flagged"
        );
        assert!(index.contains("seal-tampered"));
        let evil = if targets[0].key.contains("evil") {
            &pages[1]
        } else {
            &pages[2]
        };
        assert!(evil.contains("&lt;script&gt;reason()"));
        assert!(evil.contains("&lt;script&gt;problem()"));
    }

    #[test]
    fn pages_link_each_run_and_each_shared_failure_to_its_target() {
        let (targets, copies, unreadable) = hostile_site();
        let site = Site {
            targets: &targets,
            copies: &copies,
            unreadable: &unreadable,
            waiver_window_days: 30,
            key_given: true,
        };
        let index = index(&site);
        for target in &targets {
            assert!(index.contains(&format!("href=\"targets/{}.html\"", target.slug)));
            assert!(
                index.contains(&format!(
                    "href=\"targets/{}.html#req-SEC-HDR-001\"",
                    target.slug
                )),
                "SEC-HDR-001 fails in both latest runs: listed across targets"
            );
        }
        assert!(index.contains("Waivers lapsed or expiring within 30 days of 2026-12-02 (1)"));
        let evil = targets.iter().position(|t| t.key.contains("evil")).unwrap();
        let page = target_page(&site, evil);
        assert!(page.contains(&format!(
            "href=\"../runs/{}/002-x/report.html\"",
            targets[evil].slug
        )));
        assert!(page.contains(&format!(
            "href=\"../runs/{}/001-x/evidence.har\"",
            targets[evil].slug
        )));
        assert!(page.contains("id=\"req-SEC-HDR-001\""));
        assert!(
            page.contains("1 new failure(s), 0 fixed"),
            "the regression from diff"
        );
        assert!(page.contains("<tr class=\"regression\"><td>new failure</td><td>SEC-HDR-001"));
    }
}
