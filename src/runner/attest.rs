//! Attestations: the supplier's answers to requirements no HTTP test can show (`GOV-ASR-*`),
//! given in an `attestations.toml` beside the run. Each answer is checked for completeness (a
//! statement, evidence, who, a date within the last year); its evidence files are copied into
//! the run folder so the signed manifest covers them. A complete answer makes the requirement
//! `attested`, never `pass`: mts checks the answer is there and in order, not that it is true.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::catalogue::Level;
use crate::catalogue::{Catalogue, Status};
pub use crate::report::{AttestationRecord, EvidenceRecord};
use crate::report::{RequirementResult, Verdict};

/// An answer older than this many days is stale: certificates, penetration tests and DSPT
/// submissions are all renewed yearly.
pub const VALID_FOR_DAYS: i64 = 365;

/// One evidence file may be this large; a certificate or report summary fits well within it.
pub const EVIDENCE_FILE_LIMIT: u64 = 25 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttestationsFile {
    #[serde(default, rename = "attestation")]
    attestations: Vec<Given>,
}

/// `[[attestation]]` as the supplier writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Given {
    requirement: String,
    #[serde(default)]
    statement: String,
    /// Files (relative to the attestations file) or https:// addresses.
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    by: String,
    /// `YYYY-MM-DD`, the day the statement was made.
    #[serde(default)]
    date: String,
    /// For a yes-or-no question (the Cyber Security Charter signed?): `yes` (the default) or
    /// `no`. Only a MAY requirement can be answered no; a MUST answered no would be a failure
    /// the supplier declares, which is not an attestation.
    answer: Option<String>,
}

/// An evidence file read when the attestations were loaded, written into the run folder later.
#[derive(Debug, Clone)]
pub struct EvidenceCopy {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Everything `--attestations FILE` gave.
#[derive(Debug, Clone, Default)]
pub struct Attestations {
    pub records: Vec<AttestationRecord>,
    pub copies: Vec<EvidenceCopy>,
}

impl Attestations {
    /// Reads and checks `path`. `Err` for what the user must fix before a run can mean
    /// anything (unreadable file, syntax, an unknown or non-attestation requirement, one
    /// requirement twice); an incomplete answer is not an error, it is reported as owed.
    pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: AttestationsFile = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |span| {
                crate::util::line_and_column(&text, span.start)
            });
            format!("{}:{line}:{column}: {}", path.display(), e.message())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut seen = std::collections::BTreeSet::new();
        let mut attestations = Self::default();
        for given in file.attestations {
            let Some(requirement) = catalogue.get(&given.requirement) else {
                let hint = crate::util::did_you_mean(
                    &given.requirement,
                    catalogue.requirements.iter().map(|r| r.id.as_str()),
                )
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
                return Err(format!(
                    "{}: attestation for `{}`: no such requirement{hint}",
                    path.display(),
                    given.requirement
                ));
            };
            if requirement.status != Status::Attestation {
                return Err(format!(
                    "{}: {} is {}, not an attestation: mts judges it by testing",
                    path.display(),
                    requirement.id,
                    requirement.status.as_str()
                ));
            }
            match given.answer.as_deref() {
                None | Some("yes") => {}
                Some("no") if requirement.level == Level::May => {}
                Some("no") => {
                    return Err(format!(
                        "{}: {} is a {}: it cannot be answered no (leave it out, and it is reported owed)",
                        path.display(),
                        requirement.id,
                        requirement.level
                    ));
                }
                Some(other) => {
                    return Err(format!(
                        "{}: {}: answer `{other}` is not yes or no",
                        path.display(),
                        requirement.id
                    ));
                }
            }
            if !seen.insert(given.requirement.clone()) {
                return Err(format!(
                    "{}: two attestations for {}: keep one",
                    path.display(),
                    given.requirement
                ));
            }
            attestations.add(given, base);
        }
        Ok(attestations)
    }

    fn add(&mut self, given: Given, base: &Path) {
        let mut problems = Vec::new();
        for (name, value) in [("statement", &given.statement), ("by", &given.by)] {
            if value.trim().is_empty() {
                problems.push(format!("no `{name}`"));
            }
        }
        if NaiveDate::parse_from_str(&given.date, "%Y-%m-%d").is_err() {
            problems.push(format!("date `{}` is not YYYY-MM-DD", given.date));
        }
        // Evidence backs a statement that something is so; "no" (the charter not signed)
        // needs none.
        if given.evidence.is_empty() && given.answer.as_deref() != Some("no") {
            problems.push("no evidence (a file or an https:// address)".into());
        }
        let mut evidence = Vec::new();
        for (index, item) in given.evidence.iter().enumerate() {
            let mut record = EvidenceRecord {
                given: item.clone(),
                file: None,
                sha256: None,
            };
            if item.starts_with("https://") {
                if url::Url::parse(item).is_err() {
                    problems.push(format!("evidence `{item}` is not a valid address"));
                }
            } else if item.contains("://") {
                problems.push(format!(
                    "evidence `{item}`: only https:// addresses are accepted"
                ));
            } else if !inside(item) {
                problems.push(format!(
                    "evidence `{item}`: a file must be named relative to the attestations file, inside its folder"
                ));
            } else {
                match read_evidence(base, item) {
                    Ok(bytes) => {
                        let name = copy_name(&given.requirement, index + 1, item);
                        record.sha256 = Some(format!("{:x}", Sha256::digest(&bytes)));
                        record.file = Some(name.clone());
                        self.copies.push(EvidenceCopy { name, bytes });
                    }
                    Err(why) => problems.push(format!("evidence `{item}`: {why}")),
                }
            }
            evidence.push(record);
        }
        self.records.push(AttestationRecord {
            requirement: given.requirement,
            statement: given.statement.trim().to_owned(),
            evidence,
            by: given.by.trim().to_owned(),
            date: given.date,
            answer: given.answer,
            problems,
        });
    }

    /// Writes the evidence files into the run folder (before its manifest is written).
    pub fn copy_into(&self, dir: &Path) -> std::io::Result<()> {
        for copy in &self.copies {
            crate::report::write_atomically(&dir.join(&copy.name), &copy.bytes)?;
        }
        Ok(())
    }
}

/// Whether `given` names a path below the attestations file's folder: relative, with no `..`,
/// so an attestations file handed over cannot seal a private file from elsewhere into the run.
fn inside(given: &str) -> bool {
    let path = Path::new(given);
    path.components().all(|c| {
        matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    }) && path.components().next().is_some()
}

fn read_evidence(base: &Path, given: &str) -> Result<Vec<u8>, String> {
    let path = base.join(given);
    // A link inside the folder must not lead out of it either.
    let real = std::fs::canonicalize(&path).map_err(|e| format!("cannot read it: {e}"))?;
    let folder = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| format!("cannot read its folder: {e}"))?;
    if !real.starts_with(&folder) {
        return Err("it leads outside the attestations file's folder".into());
    }
    let path: PathBuf = real;
    let metadata = std::fs::metadata(&path).map_err(|e| format!("cannot read it: {e}"))?;
    if !metadata.is_file() {
        return Err("not a file".into());
    }
    if metadata.len() > EVIDENCE_FILE_LIMIT {
        return Err(format!(
            "{} bytes, over the {} MiB an evidence file may be",
            metadata.len(),
            EVIDENCE_FILE_LIMIT / (1024 * 1024)
        ));
    }
    std::fs::read(&path).map_err(|e| format!("cannot read it: {e}"))
}

/// `attestation-GOV-ASR-006-1-certificate.pdf`: flat, as the run folder is, and safe on any
/// file system.
fn copy_name(requirement: &str, index: usize, given: &str) -> String {
    let base = Path::new(given)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let safe: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attestation-{requirement}-{index}-{}",
        safe.trim_start_matches('.')
    )
}

/// The problems of `record` on `day`: those found when it was read, and its age that day.
pub fn problems_on(record: &AttestationRecord, day: NaiveDate) -> Vec<String> {
    let mut problems = record.problems.clone();
    if let Ok(date) = NaiveDate::parse_from_str(&record.date, "%Y-%m-%d") {
        let age = (day - date).num_days();
        // A day's grace: the run's day is taken in UTC, the statement's where it was made.
        if age < -1 {
            problems.push(format!("dated {date}, after the run"));
        } else if age > VALID_FOR_DAYS {
            problems.push(format!(
                "dated {date}, more than {VALID_FOR_DAYS} days before the run: renew it"
            ));
        }
    }
    problems
}

/// Gives each attestation requirement the supplier's answer: `attested` when it is complete,
/// still owed (with what is missing) otherwise. Its age is judged on `run_day`, the day the run
/// started, so judging the run again later gives the same verdict.
pub fn apply(records: &[AttestationRecord], run_day: NaiveDate, results: &mut [RequirementResult]) {
    for result in results
        .iter_mut()
        .filter(|r| r.verdict == Verdict::Attestation)
    {
        let Some(record) = records.iter().find(|r| r.requirement == result.id.as_str()) else {
            result.reason = Some(format!(
                "attestation owed: none given (--attestations). {}",
                result.reason.as_deref().unwrap_or_default()
            ));
            continue;
        };
        let problems = problems_on(record, run_day);
        result.verdict = crate::verdict::of_attestation(&problems);
        result.reason = Some(if problems.is_empty() {
            format!(
                "attested{} by {} on {}: {}",
                if record.answered_no() {
                    " (answer: no)"
                } else {
                    ""
                },
                record.by,
                record.date,
                record.statement
            )
        } else {
            format!("attestation incomplete: {}", problems.join("; "))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        crate::catalogue::load_embedded().unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_complete_answer_is_recorded_with_its_evidence_hashed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ce.pdf", "certificate");
        let path = write(
            dir.path(),
            "attestations.toml",
            r#"
[[attestation]]
requirement = "GOV-ASR-006"
statement = "Cyber Essentials Plus, certificate 1234, scope: the hosting platform"
evidence = ["ce.pdf", "https://example.org/certificates/1234"]
by = "A. Person, CISO"
date = "2026-11-20"

[[attestation]]
requirement = "GOV-ASR-007"
statement = " "
evidence = ["missing.pdf", "http://example.org/report", "../secret.key", "/etc/hostname"]
by = "B"
date = "20/11/2026"
"#,
        );
        let attestations = Attestations::load(&path, &catalogue()).unwrap();
        let [complete, incomplete] = &attestations.records[..] else {
            panic!("{:?}", attestations.records)
        };
        assert!(complete.problems.is_empty(), "{:?}", complete.problems);
        assert_eq!(
            complete.evidence[0].file.as_deref(),
            Some("attestation-GOV-ASR-006-1-ce.pdf")
        );
        assert_eq!(
            complete.evidence[0].sha256.as_deref(),
            Some(format!("{:x}", Sha256::digest(b"certificate")).as_str())
        );
        assert_eq!(attestations.copies.len(), 1);
        let problems = incomplete.problems.join("; ");
        for expected in [
            "no `statement`",
            "date `20/11/2026` is not YYYY-MM-DD",
            "evidence `missing.pdf`: cannot read it",
            "only https:// addresses",
            "evidence `../secret.key`: a file must be named relative",
            "evidence `/etc/hostname`: a file must be named relative",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.key"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.key"),
            dir.path().join("cert.pdf"),
        )
        .unwrap();
        let error = read_evidence(dir.path(), "cert.pdf").unwrap_err();
        assert!(error.contains("leads outside"), "{error}");
        std::fs::write(dir.path().join("real.pdf"), "certificate").unwrap();
        assert_eq!(
            read_evidence(dir.path(), "real.pdf").unwrap(),
            b"certificate"
        );
    }

    #[test]
    fn age_is_judged_on_the_run_day() {
        let record = AttestationRecord {
            requirement: "GOV-ASR-006".into(),
            statement: "s".into(),
            evidence: Vec::new(),
            by: "b".into(),
            date: "2025-01-01".into(),
            answer: None,
            problems: Vec::new(),
        };
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert!(problems_on(&record, day("2025-12-31")).is_empty());
        assert!(problems_on(&record, day("2026-01-02"))[0].contains("renew it"));
        assert!(
            problems_on(&record, day("2024-12-31")).is_empty(),
            "a day's grace"
        );
        assert!(problems_on(&record, day("2024-12-30"))[0].contains("after the run"));
    }

    #[test]
    fn unknown_automated_or_repeated_requirements_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |id: &str| {
            format!(
                "[[attestation]]\nrequirement = \"{id}\"\nstatement = \"s\"\nevidence = [\"https://example.org\"]\nby = \"b\"\ndate = \"2026-01-01\"\n"
            )
        };
        for (text, expected) in [
            (entry("GOV-ASR-06"), "did you mean GOV-ASR-006"),
            (entry("SEC-TLS-001"), "not an attestation"),
            (
                entry("GOV-ASR-001") + &entry("GOV-ASR-001"),
                "two attestations",
            ),
            (
                "[[attestation]]\nrequirment = \"x\"\n".to_owned(),
                "requirment",
            ),
        ] {
            let path = write(dir.path(), "a.toml", &text);
            let error = Attestations::load(&path, &catalogue()).unwrap_err();
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }
}
