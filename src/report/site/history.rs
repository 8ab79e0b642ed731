//! Runs grouped by target and ordered in time, and what a reader of many targets looks for:
//! regressions between consecutive runs (the comparison `mts diff` makes), waivers about to
//! expire, and requirements most targets fail.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest as _, Sha256};

use super::super::Verdict;
use super::super::diff::{self, RunDiff};
use super::collect::SiteRun;
use crate::config::Waiver;

/// The name every run of the embedded sandbox is grouped under: its port is new on every run,
/// so its URL alone would make each run a target of its own.
pub const EMBEDDED_SANDBOX: &str = "embedded sandbox";

const EMBEDDED_SUFFIX: &str = " (embedded sandbox)";

/// The target a report names, normalised so one API is one target: scheme and host in lower
/// case, the default port, credentials, fragment and trailing slashes dropped. The path keeps
/// its case (FHIR paths are case-sensitive).
pub fn target_key(target: &str) -> String {
    let target = target.trim();
    if target.ends_with(EMBEDDED_SUFFIX) {
        return EMBEDDED_SANDBOX.to_owned();
    }
    match url::Url::parse(target) {
        Ok(mut url) if url.has_host() => {
            // Credentials in a URL must not reach a published page.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_fragment(None);
            let path = url.path().trim_end_matches('/').to_owned();
            url.set_path(&path);
            url.as_str().trim_end_matches('/').to_owned()
        }
        _ => target.trim_end_matches('/').to_owned(),
    }
}

/// A file-name-safe name for a target's page: readable, and unique by a hash of the key.
fn slug(key: &str) -> String {
    let readable = key.split_once("://").map_or(key, |(_, rest)| rest);
    let mut slug = String::new();
    for c in readable.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let hash: String = Sha256::digest(key.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{hash}", slug.trim_matches('-'))
}

/// Every run of one target, oldest first.
#[derive(Debug, Clone)]
pub struct TargetHistory {
    /// The normalised target (see [`target_key`]).
    pub key: String,
    /// The stem of its page's file name.
    pub slug: String,
    pub runs: Vec<SiteRun>,
}

impl TargetHistory {
    pub fn latest(&self) -> Option<&SiteRun> {
        self.runs.last()
    }

    /// What changed from each run to the next, by `mts diff`'s rules: `(index of the later
    /// run, the diff)`.
    pub fn changes(&self) -> Vec<(usize, RunDiff)> {
        self.runs
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let (before, after) = (&pair[0], &pair[1]);
                let diff = diff::diff(&before.source, &before.report, &after.source, &after.report);
                (i + 1, diff)
            })
            .collect()
    }

    /// Runs whose folder cannot be trusted (tampered, signed by another key, no manifest).
    pub fn suspect_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.seal.is_suspect()).count()
    }
}

/// Orders runs by start time (then by the recorded text and the folder, so the order never
/// depends on the order folders were found in).
fn chronological(a: &SiteRun, b: &SiteRun) -> std::cmp::Ordering {
    a.started
        .cmp(&b.started)
        .then_with(|| a.report.started.cmp(&b.report.started))
        .then_with(|| a.source.cmp(&b.source))
}

/// Groups runs by normalised target, targets in order of their key, runs oldest first.
pub fn group_by_target(runs: Vec<SiteRun>) -> Vec<TargetHistory> {
    let mut groups: BTreeMap<String, Vec<SiteRun>> = BTreeMap::new();
    for run in runs {
        groups
            .entry(target_key(&run.report.target))
            .or_default()
            .push(run);
    }
    groups
        .into_iter()
        .map(|(key, mut runs)| {
            runs.sort_by(chronological);
            TargetHistory {
                slug: slug(&key),
                key,
                runs,
            }
        })
        .collect()
}

/// The day of the newest run of all: waivers are judged against it, not against the day the
/// site is built, so a site rebuilt later says the same.
pub fn newest_run_day(targets: &[TargetHistory]) -> Option<NaiveDate> {
    targets
        .iter()
        .flat_map(|t| &t.runs)
        .filter_map(|r| r.started)
        .max()
        .map(|time| time.date_naive())
}

/// A waiver in a target's latest run that ends within the window.
#[derive(Debug, Clone)]
pub struct ExpiringWaiver<'a> {
    pub target: &'a TargetHistory,
    pub waiver: &'a Waiver,
    /// Days from `today` to its last day (0: it ends today).
    pub days_left: i64,
    /// The requirement's verdict in that run, when the run judged it.
    pub verdict: Option<Verdict>,
}

/// Waivers of each target's latest run whose last day is within `within_days` after `today`,
/// or already past while the requirement still fails (a lapsed waiver no longer covers its
/// failure: the assessor must see it went), soonest first.
pub fn expiring_waivers(
    targets: &[TargetHistory],
    today: NaiveDate,
    within_days: i64,
) -> Vec<ExpiringWaiver<'_>> {
    let mut found = Vec::new();
    for target in targets {
        let Some(latest) = target.latest() else {
            continue;
        };
        for waiver in &latest.report.settings.waivers {
            let days_left = (waiver.expires - today).num_days();
            let verdict = latest
                .report
                .requirements
                .iter()
                .find(|r| r.id.as_str() == waiver.requirement)
                .map(|r| r.verdict);
            // A lapsed waiver matters while its requirement still fails; once it passes, the
            // waiver is history.
            let still_failing = matches!(
                verdict,
                Some(Verdict::Fail | Verdict::Waived | Verdict::Error)
            );
            let lapsed_and_moot = days_left < 0 && !still_failing;
            if days_left <= within_days && !lapsed_and_moot {
                found.push(ExpiringWaiver {
                    target,
                    waiver,
                    days_left,
                    verdict,
                });
            }
        }
    }
    found.sort_by(|a, b| {
        (a.days_left, &a.target.key, &a.waiver.requirement).cmp(&(
            b.days_left,
            &b.target.key,
            &b.waiver.requirement,
        ))
    });
    found
}

/// A requirement failed in the latest run of more than half the targets.
#[derive(Debug, Clone)]
pub struct SharedFailure<'a> {
    pub id: String,
    pub level: String,
    pub title: String,
    /// The targets whose latest run failed it, with the verdict (`fail`, or `waived`: failed,
    /// with the failure accepted).
    pub targets: Vec<(&'a TargetHistory, Verdict)>,
}

/// Requirements failed (or failed and waived) in the latest run of more than half the targets,
/// the most widely failed first. Needs two targets at least: one is not "most suppliers".
pub fn failing_across_targets(targets: &[TargetHistory]) -> Vec<SharedFailure<'_>> {
    if targets.len() < 2 {
        return Vec::new();
    }
    let mut by_id: BTreeMap<&str, SharedFailure<'_>> = BTreeMap::new();
    for target in targets {
        let Some(latest) = target.latest() else {
            continue;
        };
        for requirement in &latest.report.requirements {
            if !matches!(requirement.verdict, Verdict::Fail | Verdict::Waived) {
                continue;
            }
            by_id
                .entry(requirement.id.as_str())
                .or_insert_with(|| SharedFailure {
                    id: requirement.id.as_str().to_owned(),
                    level: requirement.level.as_str().to_owned(),
                    title: requirement.title.clone(),
                    targets: Vec::new(),
                })
                .targets
                .push((target, requirement.verdict));
        }
    }
    let mut shared: Vec<SharedFailure<'_>> = by_id
        .into_values()
        .filter(|f| f.targets.len() * 2 > targets.len())
        .collect();
    shared.sort_by(|a, b| b.targets.len().cmp(&a.targets.len()).then(a.id.cmp(&b.id)));
    shared
}

/// The folder name a run gets in the site: its place in the target's history, then its own
/// name reduced to characters safe in a URL and a file name.
pub fn site_folder_name(index: usize, source: &Path) -> String {
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let safe = safe.trim_start_matches('.');
    format!("{:03}-{safe}", index + 1)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::Report;
    use crate::report::site::Seal;
    use serde_json::json;

    /// A report of `target` started at `started`, with these requirement verdicts.
    pub(crate) fn report(target: &str, started: &str, verdicts: &[(&str, &str)]) -> Report {
        let requirements: Vec<serde_json::Value> = verdicts
            .iter()
            .map(|(id, verdict)| {
                json!({"id": id, "level": "MUST", "title": format!("title of {id}"), "area": "",
                "statement": "", "sources": [], "status": "automated", "verdict": verdict,
                "blocking": *verdict == "fail", "reason": format!("{id} is {verdict}"),
                "scenarios": [], "checks": [], "exchanges": [],
                "failures": if *verdict == "fail" {
                    json!([{"source": "a.feature:1", "message": "broken"}])
                } else { json!([]) }})
            })
            .collect();
        serde_json::from_value(json!({"schema_version": 1, "run_id": format!("{target}@{started}"), "verdict":
            if verdicts.iter().any(|(_, v)| *v == "fail") { "non-conformant" } else { "conformant" },
            "target": target, "profile": "apim", "harness": {"name": "mts", "version": "0"},
            "catalogue": {"version": "1", "digest": "d"}, "started": started, "duration_ms": 0,
            "counts": {}, "requirements": requirements}))
        .unwrap()
    }

    pub(crate) fn run(target: &str, started: &str, verdicts: &[(&str, &str)]) -> SiteRun {
        let report = report(target, started, verdicts);
        SiteRun {
            source: format!("/runs/{target}/{started}").into(),
            started: chrono::DateTime::parse_from_rfc3339(started)
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc)),
            report,
            seal: Seal::Unsigned,
        }
    }

    #[test]
    fn one_api_is_one_target_however_its_url_is_written() {
        for written in [
            "https://API.Example.nhs.uk/FHIR/R4",
            "https://api.example.nhs.uk:443/FHIR/R4/",
            "HTTPS://user:secret@api.example.nhs.uk/FHIR/R4#x",
            "  https://api.example.nhs.uk/FHIR/R4//  ",
        ] {
            assert_eq!(
                target_key(written),
                "https://api.example.nhs.uk/FHIR/R4",
                "{written}"
            );
        }
        assert_ne!(
            target_key("https://api.example.nhs.uk/fhir/r4"),
            target_key("https://api.example.nhs.uk/FHIR/R4"),
            "paths are case-sensitive"
        );
        assert_ne!(
            target_key("https://127.0.0.1:8443/FHIR/R4"),
            target_key("https://127.0.0.1:9443/FHIR/R4"),
        );
        assert_eq!(
            target_key("https://127.0.0.1:40891/FHIR/R4 (embedded sandbox)"),
            EMBEDDED_SANDBOX
        );
        assert_eq!(target_key("not a url/"), "not a url");
    }

    #[test]
    fn slugs_are_safe_and_distinct() {
        let a = slug("https://api.example.nhs.uk/FHIR/R4");
        assert!(a.starts_with("api-example-nhs-uk-fhir-r4-"), "{a}");
        assert_ne!(a, slug("https://api.example.nhs.uk/fhir/R4"));
        let hostile = slug("\"><script>alert(1)</script>");
        assert!(
            hostile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{hostile}"
        );
        assert!(slug(&"x".repeat(500)).len() < 60);
        assert_eq!(site_folder_name(0, Path::new("/r/../..")), "001-");
        assert_eq!(site_folder_name(11, Path::new("/r/<b> run")), "012-_b__run");
    }

    #[test]
    fn runs_are_grouped_by_target_and_ordered_by_start_time() {
        let runs = vec![
            run("https://b/R4", "2026-12-03T00:00:00Z", &[]),
            run("https://a/R4/", "2026-12-02T10:00:00+01:00", &[]),
            run("https://A/R4", "2026-12-02T09:30:00Z", &[]),
            run("https://a/R4", "2026-12-01T00:00:00Z", &[]),
            run("https://b/R4", "2026-11-30T00:00:00Z", &[]),
        ];
        let targets = group_by_target(runs);
        let keys: Vec<&str> = targets.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["https://a/R4", "https://b/R4"]);
        let started: Vec<&str> = targets[0]
            .runs
            .iter()
            .map(|r| r.report.started.as_str())
            .collect();
        // 10:00+01:00 is 09:00Z, before 09:30Z.
        assert_eq!(
            started,
            [
                "2026-12-01T00:00:00Z",
                "2026-12-02T10:00:00+01:00",
                "2026-12-02T09:30:00Z"
            ]
        );
        assert_eq!(
            targets[1].latest().unwrap().report.started,
            "2026-12-03T00:00:00Z"
        );
        assert_eq!(
            newest_run_day(&targets),
            NaiveDate::from_ymd_opt(2026, 12, 3)
        );
    }

    #[test]
    fn regressions_between_consecutive_runs_come_from_diff() {
        let targets = group_by_target(vec![
            run(
                "t",
                "2026-12-01T00:00:00Z",
                &[("SEC-HDR-001", "pass"), ("API-HDR-001", "fail")],
            ),
            run(
                "t",
                "2026-12-02T00:00:00Z",
                &[("SEC-HDR-001", "fail"), ("API-HDR-001", "pass")],
            ),
            run(
                "t",
                "2026-12-03T00:00:00Z",
                &[("SEC-HDR-001", "fail"), ("API-HDR-001", "pass")],
            ),
        ]);
        let changes = targets[0].changes();
        assert_eq!(changes.len(), 2);
        let (index, first) = &changes[0];
        assert_eq!(*index, 1);
        assert_eq!(first.regressions(), 1);
        assert_eq!(first.changes[0].id, "SEC-HDR-001");
        assert_eq!(first.count(diff::Change::Fixed), 1);
        assert_eq!(changes[1].1.regressions(), 0);
        assert_eq!(changes[1].1.count(diff::Change::StillFailing), 1);
    }

    #[test]
    fn waivers_expiring_within_the_window_of_the_newest_run_are_listed() {
        let mut latest = run(
            "https://a/R4",
            "2026-12-04T12:00:00Z",
            &[
                ("SEC-HDR-001", "waived"),
                ("SEC-HDR-003", "waived"),
                ("API-HDR-002", "fail"),
                ("API-HDR-005", "pass"),
            ],
        );
        let waiver = |id: &str, expires: &str| Waiver {
            requirement: id.into(),
            justification: "ticket 1".into(),
            expires: expires.parse().unwrap(),
        };
        latest.report.settings.waivers = vec![
            waiver("SEC-HDR-001", "2026-12-20"),
            waiver("API-HDR-001", "2027-02-01"),
            waiver("API-HDR-002", "2026-12-01"),
            waiver("API-HDR-003", "2027-01-03"),
            waiver("API-HDR-004", "2026-12-04"),
            // Lapsed, but the requirement passes now: not listed.
            waiver("API-HDR-005", "2026-06-01"),
            // In force when the run judged it, lapsed since: listed.
            waiver("SEC-HDR-003", "2026-11-30"),
        ];
        let mut older = run(
            "https://b/R4",
            "2026-11-01T00:00:00Z",
            &[("SEC-HDR-002", "fail")],
        );
        older.report.settings.waivers = vec![waiver("SEC-HDR-002", "2026-11-20")];
        let targets = group_by_target(vec![latest, older]);
        let today = newest_run_day(&targets).unwrap();
        let expiring = expiring_waivers(&targets, today, 30);
        let listed: Vec<(&str, i64, Option<Verdict>)> = expiring
            .iter()
            .map(|e| (e.waiver.requirement.as_str(), e.days_left, e.verdict))
            .collect();
        assert_eq!(
            listed,
            [
                ("SEC-HDR-002", -14, Some(Verdict::Fail)),
                ("SEC-HDR-003", -4, Some(Verdict::Waived)),
                ("API-HDR-002", -3, Some(Verdict::Fail)),
                ("API-HDR-004", 0, None),
                ("SEC-HDR-001", 16, Some(Verdict::Waived)),
                ("API-HDR-003", 30, None),
            ]
        );
    }

    #[test]
    fn requirements_failed_by_most_targets_are_found_in_latest_runs_only() {
        let targets = group_by_target(vec![
            run("a", "2026-12-01T00:00:00Z", &[("SEC-HDR-001", "fail")]),
            run("a", "2026-12-02T00:00:00Z", &[("SEC-HDR-001", "pass")]),
            run(
                "b",
                "2026-12-01T00:00:00Z",
                &[("SEC-HDR-001", "fail"), ("API-HDR-001", "fail")],
            ),
            run(
                "c",
                "2026-12-01T00:00:00Z",
                &[("SEC-HDR-001", "waived"), ("API-HDR-001", "fail")],
            ),
            run("d", "2026-12-01T00:00:00Z", &[("API-HDR-001", "error")]),
        ]);
        // 4 targets: more than half is 3. API-HDR-001 fails in b and c only (d is an error);
        // SEC-HDR-001 fails in b, waived in c, and a's latest run passes it.
        assert!(failing_across_targets(&targets).is_empty());
        let three = group_by_target(vec![
            run("a", "2026-12-01T00:00:00Z", &[("SEC-HDR-001", "pass")]),
            run(
                "b",
                "2026-12-01T00:00:00Z",
                &[("SEC-HDR-001", "fail"), ("API-HDR-001", "fail")],
            ),
            run(
                "c",
                "2026-12-01T00:00:00Z",
                &[("SEC-HDR-001", "waived"), ("API-HDR-001", "fail")],
            ),
        ]);
        let shared = failing_across_targets(&three);
        let found: Vec<(&str, Vec<(&str, Verdict)>)> = shared
            .iter()
            .map(|f| {
                let on = f
                    .targets
                    .iter()
                    .map(|(t, v)| (t.key.as_str(), *v))
                    .collect();
                (f.id.as_str(), on)
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "API-HDR-001",
                    vec![("b", Verdict::Fail), ("c", Verdict::Fail)]
                ),
                (
                    "SEC-HDR-001",
                    vec![("b", Verdict::Fail), ("c", Verdict::Waived)]
                ),
            ]
        );
        assert!(failing_across_targets(&three[..1]).is_empty(), "one target");
    }
}
