//! `junit.xml`: one `<testsuite>` per catalogue area, one `<testcase>` per requirement. A failure
//! that blocks the run (the requirement's `blocking` flag: MUST, or SHOULD under `--strict`) is
//! a `<failure>` with expected and actual; one that does not is a warning in `<system-err>`; a
//! harness error is an `<error>`; skipped and not-applicable a `<skipped>` with the kind of
//! reason. Level, sources and the evidence sentence are properties; the evidence (exchange ids,
//! which are also `evidence.har` entry ids) is in `<system-out>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markup::escape;
use super::model::{Report, RequirementResult, Verdict};

pub fn render(report: &Report) -> String {
    let mut areas: BTreeMap<&str, Vec<&RequirementResult>> = BTreeMap::new();
    for requirement in &report.requirements {
        areas
            .entry(&requirement.area)
            .or_default()
            .push(requirement);
    }
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let durations = requirement_durations(report);
    let count = |list: &[&RequirementResult], pick: fn(Verdict) -> bool| {
        list.iter().filter(|r| pick(r.verdict)).count()
    };
    let all: Vec<&RequirementResult> = report.requirements.iter().collect();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"mts {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        escape(&report.target),
        all.len(),
        failures(&all),
        count(&all, |v| v == Verdict::Error),
        count(&all, is_skipped),
        seconds(report.duration_ms),
    );
    for (area, requirements) in &areas {
        let time: u64 = requirements
            .iter()
            .map(|r| durations.get(r.id.as_str()).copied().unwrap_or(0))
            .sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
            escape(area),
            requirements.len(),
            failures(requirements),
            count(requirements, |v| v == Verdict::Error),
            count(requirements, is_skipped),
            seconds(time),
            // The JUnit schema's timestamp has no zone and no fraction.
            escape(report.started.get(..19).unwrap_or(&report.started)),
        );
        let _ = writeln!(xml, "    <properties>");
        for (name, value) in [
            ("target", report.target.as_str()),
            ("profile", report.profile.as_str()),
            ("catalogue", report.catalogue.version.as_str()),
            ("catalogue-sha256", report.catalogue.digest.as_str()),
            ("harness", report.harness.version.as_str()),
            ("coverage", report.coverage.to_string().as_str()),
        ] {
            property(&mut xml, 6, name, value);
        }
        let _ = writeln!(xml, "    </properties>");
        for requirement in requirements {
            testcase(
                &mut xml,
                requirement,
                durations.get(requirement.id.as_str()).copied().unwrap_or(0),
            );
        }
        let _ = writeln!(xml, "  </testsuite>");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Failures that fail the run: the others are warnings.
fn failures(list: &[&RequirementResult]) -> usize {
    list.iter()
        .filter(|r| r.verdict == Verdict::Fail && r.blocking)
        .count()
}

fn is_skipped(verdict: Verdict) -> bool {
    matches!(
        verdict,
        Verdict::Skipped
            | Verdict::NotApplicable
            | Verdict::Attestation
            | Verdict::Attested
            | Verdict::Waived
    )
}

/// Milliseconds spent in each requirement's scenarios.
fn requirement_durations(report: &Report) -> BTreeMap<&str, u64> {
    let mut durations = BTreeMap::new();
    for scenario in &report.scenarios {
        for id in &scenario.requirements {
            *durations.entry(id.as_str()).or_insert(0) += scenario.duration_ms;
        }
    }
    durations
}

fn property(xml: &mut String, indent: usize, name: &str, value: &str) {
    let _ = writeln!(
        xml,
        "{:indent$}<property name=\"{}\" value=\"{}\"/>",
        "",
        escape(name),
        escape(value),
    );
}

fn testcase(xml: &mut String, requirement: &RequirementResult, ms: u64) {
    let _ = writeln!(
        xml,
        "    <testcase name=\"{} {}\" classname=\"mts.{}\" time=\"{:.3}\">",
        escape(requirement.id.as_str()),
        escape(&requirement.title),
        escape(requirement.id.as_str().split('-').next().unwrap_or("mts")),
        ms as f64 / 1000.0,
    );
    let _ = writeln!(xml, "      <properties>");
    property(xml, 8, "level", requirement.level.as_str());
    property(xml, 8, "verdict", requirement.verdict.as_str());
    property(
        xml,
        8,
        "blocking",
        if requirement.blocking {
            "true"
        } else {
            "false"
        },
    );
    if let Some(kind) = requirement.reason_kind {
        property(xml, 8, "reason-kind", kind.as_str());
    }
    if let Some(evidence) = &requirement.evidence {
        property(xml, 8, "evidence", evidence);
    }
    for source in &requirement.sources {
        let text = format!(
            "{} {}: {} {}",
            source.code, source.title, source.detail, source.url
        );
        property(xml, 8, "source", text.trim());
    }
    let _ = writeln!(xml, "      </properties>");
    let reason = requirement.reason.as_deref().unwrap_or("");
    // What a CI page shows of a failure is its message: name the exchanges to open in
    // evidence.har there, not only in the body.
    let (exchanges, more) = requirement.failure_exchanges_first(super::model::NAMED_EXCHANGES);
    let exchanges = match (exchanges.is_empty(), more) {
        (true, _) => String::new(),
        (false, 0) => format!("; evidence.har: {}", exchanges.join(", ")),
        (false, more) => format!("; evidence.har: {} and {more} more", exchanges.join(", ")),
    };
    let decided_by = requirement
        .evidence
        .as_deref()
        .map(|e| format!(" (decided by {e}{exchanges})"))
        .unwrap_or_else(|| {
            if exchanges.is_empty() {
                String::new()
            } else {
                format!(" ({})", exchanges.trim_start_matches("; "))
            }
        });
    let mut warning = None;
    match requirement.verdict {
        Verdict::Fail => {
            let mut body = String::new();
            for failure in &requirement.failures {
                let _ = writeln!(body, "{}: {}", failure.source, failure.failure.message);
                if let Some(expected) = &failure.failure.expected {
                    let _ = writeln!(body, "  expected: {expected}");
                }
                if let Some(actual) = &failure.failure.actual {
                    let _ = writeln!(body, "  actual:   {actual}");
                }
                if let Some(exchange) = &failure.failure.exchange {
                    let _ = writeln!(body, "  exchange: {exchange}");
                }
            }
            if requirement.blocking {
                let _ = writeln!(
                    xml,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    escape(&format!("{reason}{decided_by}")),
                    escape(requirement.level.as_str()),
                    escape(&body),
                );
            } else {
                warning = Some(format!(
                    "warning: a {} failure, which does not block this run's gate\n{body}",
                    requirement.level.as_str()
                ));
            }
        }
        Verdict::Error => {
            let _ = writeln!(
                xml,
                "      <error message=\"{}\" type=\"harness\">{}</error>",
                escape(&format!("{reason}{decided_by}")),
                escape(reason),
            );
        }
        Verdict::Skipped
        | Verdict::NotApplicable
        | Verdict::Attestation
        | Verdict::Attested
        | Verdict::Waived => {
            let kind = requirement
                .reason_kind
                .map(|k| format!(" ({k})"))
                .unwrap_or_default();
            let message = format!("{}{kind}: {reason}", requirement.verdict.as_str());
            let _ = writeln!(
                xml,
                "      <skipped message=\"{}\"/>",
                escape(message.trim_end_matches([':', ' ']))
            );
        }
        Verdict::Pass => {}
    }
    if !requirement.exchanges.is_empty() {
        let ids: Vec<&str> = requirement.exchanges.iter().map(|e| e.0.as_str()).collect();
        let _ = writeln!(
            xml,
            "      <system-out>evidence (report.json exchanges, evidence.har entries): {}</system-out>",
            escape(&ids.join(", ")),
        );
    }
    if let Some(warning) = warning {
        let _ = writeln!(xml, "      <system-err>{}</system-err>", escape(&warning));
    }
    let _ = writeln!(xml, "    </testcase>");
}
