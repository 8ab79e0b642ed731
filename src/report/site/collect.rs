//! Finding run folders under the inputs, reading each report and checking each folder against
//! its manifest (the verification `mts verify` does). A folder that cannot be read is kept with
//! its reason, never a panic and never an abort: one bad folder must not hide the others.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::super::manifest::{self, MANIFEST};
use super::super::{REPORT_FILE, Report, read};

/// How deep below an input the search for run folders goes (`reports/<supplier>/<month>/<run>`
/// is three levels; the bound keeps a mistaken `/` from walking the whole disk).
const MAX_DEPTH: usize = 8;

/// One run folder that was read.
#[derive(Debug, Clone)]
pub struct SiteRun {
    /// The folder it was read from.
    pub source: PathBuf,
    /// The report, without its exchanges, scenarios and checks: a site over hundreds of runs
    /// keeps only what it shows and what `diff` compares (verdicts, failures, waivers).
    pub report: Report,
    /// `report.started`, when it parses (RFC 3339).
    pub started: Option<DateTime<Utc>>,
    pub seal: Seal,
}

/// What the folder's manifest and signature say about its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seal {
    /// Every hash matches and the signature is valid for the `--verify-key` key.
    Verified { detail: String },
    /// Every hash matches and the folder is signed, but no key was given to check who signed it.
    SignerNotChecked { detail: String },
    /// Every hash matches, but the signature was made with another key than `--verify-key`.
    OtherSigner { detail: String },
    /// Every hash matches; the folder is not signed (and no key was asked for).
    Unsigned,
    /// A key was given and the folder is not signed: as `mts verify --public-key` says, nothing
    /// shows who wrote it (hashes anyone can recompute prove nothing).
    NotSigned,
    /// A file changed, went missing or was added, or the signature does not hold.
    Tampered { problems: Vec<String> },
    /// There is no readable manifest, so nothing can be checked.
    NoManifest { reason: String },
}

impl Seal {
    /// What a reader sees beside the run (the particulars are in `details`).
    pub fn label(&self) -> &'static str {
        match self {
            Seal::Verified { .. } => "verified",
            Seal::SignerNotChecked { .. } => "hashes intact, signature not checked",
            Seal::OtherSigner { .. } => "SIGNED BY ANOTHER KEY",
            Seal::Unsigned => "hashes intact, not signed",
            Seal::NotSigned => "NOT SIGNED",
            Seal::Tampered { .. } => "TAMPERED",
            Seal::NoManifest { .. } => "NO MANIFEST",
        }
    }

    /// A short machine name, for CSS classes and `site.json`.
    pub fn name(&self) -> &'static str {
        match self {
            Seal::Verified { .. } => "verified",
            Seal::SignerNotChecked { .. } => "signer-not-checked",
            Seal::OtherSigner { .. } => "other-signer",
            Seal::Unsigned => "unsigned",
            Seal::NotSigned => "not-signed",
            Seal::Tampered { .. } => "tampered",
            Seal::NoManifest { .. } => "no-manifest",
        }
    }

    /// Whether the folder cannot be trusted as the run that wrote it.
    pub fn is_suspect(&self) -> bool {
        matches!(
            self,
            Seal::Tampered { .. }
                | Seal::OtherSigner { .. }
                | Seal::NoManifest { .. }
                | Seal::NotSigned
        )
    }

    /// The particulars: the problems found, or how the signature was checked.
    pub fn details(&self) -> Vec<String> {
        match self {
            Seal::Verified { detail }
            | Seal::SignerNotChecked { detail }
            | Seal::OtherSigner { detail } => vec![detail.clone()],
            Seal::NoManifest { reason } => vec![reason.clone()],
            Seal::Tampered { problems } => problems.clone(),
            Seal::Unsigned => Vec::new(),
            Seal::NotSigned => vec![
                "the folder has no manifest.sig, so nothing shows it is the run the key's holder signed".into(),
            ],
        }
    }
}

/// A folder that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub folder: PathBuf,
    pub reason: String,
}

/// Finds the run folders in or below each input (recursively, symbolic links not followed,
/// anything inside `skip` left out), reads them and checks their seals, pinned to `public_key`
/// when given. Runs come back in the order they were found.
pub fn collect(
    inputs: &[PathBuf],
    skip: Option<&Path>,
    public_key: Option<&[u8]>,
) -> (Vec<SiteRun>, Vec<Unreadable>) {
    let mut folders = Vec::new();
    let mut unreadable = Vec::new();
    for input in inputs {
        find_in_input(input, skip, &mut folders, &mut unreadable);
    }
    // The same folder given twice, or found under two inputs, is one run.
    let mut seen = BTreeSet::new();
    folders.retain(|folder: &PathBuf| {
        seen.insert(std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone()))
    });
    let mut runs: Vec<SiteRun> = Vec::new();
    for folder in folders {
        match load(&folder, public_key) {
            // A copy of a run already found (an archive beside the reports folder) is one run:
            // counted twice it would double a trend. A copy whose seal differs is kept, so a
            // tampered copy is still shown as such.
            Ok(run) => match runs.iter().find(|r| {
                !run.report.run_id.is_empty()
                    && r.report.run_id == run.report.run_id
                    && r.seal.name() == run.seal.name()
            }) {
                Some(first) => unreadable.push(Unreadable {
                    reason: format!(
                        "not counted again: the same run (run_id {}) as {}",
                        run.report.run_id,
                        first.source.display()
                    ),
                    folder,
                }),
                None => runs.push(run),
            },
            Err(reason) => unreadable.push(Unreadable { folder, reason }),
        }
    }
    (runs, unreadable)
}

fn is_inside(path: &Path, skip: Option<&Path>) -> bool {
    let Some(skip) = skip else {
        return false;
    };
    std::fs::canonicalize(path).is_ok_and(|path| path.starts_with(skip))
}

/// A folder holding a report, or the manifest every run folder has (so a run folder that lost
/// its report is listed as unreadable rather than passed over).
fn is_run_folder(dir: &Path) -> bool {
    dir.join(REPORT_FILE).is_file() || dir.join(MANIFEST).is_file()
}

fn find_in_input(
    input: &Path,
    skip: Option<&Path>,
    folders: &mut Vec<PathBuf>,
    unreadable: &mut Vec<Unreadable>,
) {
    let problem = |reason: &str| Unreadable {
        folder: input.to_owned(),
        reason: reason.to_owned(),
    };
    match std::fs::metadata(input) {
        Err(error) => unreadable.push(problem(&format!("cannot read it: {error}"))),
        Ok(meta) if !meta.is_dir() => unreadable.push(problem("not a folder")),
        Ok(_) if is_inside(input, skip) => unreadable.push(problem(
            "inside the site's own folder (--out): its copies are not read again",
        )),
        Ok(_) if is_run_folder(input) => folders.push(input.to_owned()),
        Ok(_) => {
            let (before, problems) = (folders.len(), unreadable.len());
            search(input, 1, skip, folders, unreadable);
            if folders.len() == before && unreadable.len() == problems {
                unreadable.push(problem("no run folder (report.json) in or below it"));
            }
        }
    }
}

fn search(
    dir: &Path,
    depth: usize,
    skip: Option<&Path>,
    folders: &mut Vec<PathBuf>,
    unreadable: &mut Vec<Unreadable>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            unreadable.push(Unreadable {
                folder: dir.to_owned(),
                reason: format!("cannot list it: {error}"),
            });
            return;
        }
    };
    let mut subfolders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        // `file_type` does not follow symbolic links: a link loop cannot trap the search.
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.path())
        .collect();
    subfolders.sort();
    for folder in subfolders {
        if is_inside(&folder, skip) {
            continue;
        }
        if is_run_folder(&folder) {
            folders.push(folder);
        } else {
            search(&folder, depth + 1, skip, folders, unreadable);
        }
    }
}

fn load(folder: &Path, public_key: Option<&[u8]>) -> Result<SiteRun, String> {
    let mut report = read(folder).map_err(|error| error.to_string())?;
    report.exchanges = Vec::new();
    report.scenarios = Vec::new();
    report.checks = Vec::new();
    report.target_model = None;
    report.tls = None;
    report.written = None;
    let started = DateTime::parse_from_rfc3339(&report.started)
        .ok()
        .map(|time| time.with_timezone(&Utc));
    Ok(SiteRun {
        source: folder.to_owned(),
        report,
        started,
        seal: seal(folder, public_key),
    })
}

/// Checks the folder as `mts verify` does: first the hashes and the signature against the key
/// it names, then, when a key was given and the folder is signed, against that key.
pub fn seal(folder: &Path, public_key: Option<&[u8]>) -> Seal {
    let outcome = match manifest::verify(folder, None) {
        Ok(outcome) => outcome,
        Err(reason) => return Seal::NoManifest { reason },
    };
    if !outcome.problems.is_empty() {
        return Seal::Tampered {
            problems: outcome.problems,
        };
    }
    let Some(detail) = outcome.signature else {
        return if public_key.is_some() {
            Seal::NotSigned
        } else {
            Seal::Unsigned
        };
    };
    let Some(key) = public_key else {
        return Seal::SignerNotChecked { detail };
    };
    match manifest::verify(folder, Some(key)) {
        Ok(pinned) if pinned.problems.is_empty() => Seal::Verified {
            detail: pinned.signature.unwrap_or(detail),
        },
        Ok(pinned) => Seal::OtherSigner {
            detail: pinned.problems.join("; "),
        },
        Err(reason) => Seal::NoManifest { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SigningKey;
    use crate::report::site::history::tests::report;

    fn write_run(dir: &Path, target: &str, started: &str, key: Option<&SigningKey>) {
        std::fs::create_dir_all(dir).unwrap();
        let report = report(target, started, &[("SEC-HDR-001", "fail")]);
        crate::report::write_all(&report, dir, &[crate::report::Format::Json], key).unwrap();
    }

    #[test]
    fn run_folders_are_found_below_inputs_and_unreadable_ones_say_why() {
        let root = tempfile::tempdir().unwrap();
        let reports = root.path().join("reports");
        write_run(
            &reports.join("a/2026-12/run1"),
            "https://a/R4",
            "2026-12-01T00:00:00Z",
            None,
        );
        write_run(
            &reports.join("b/run2"),
            "https://b/R4",
            "2026-12-02T00:00:00Z",
            None,
        );
        std::fs::create_dir_all(reports.join("broken")).unwrap();
        std::fs::write(reports.join("broken/report.json"), "{not json").unwrap();
        write_run(
            &reports.join("lost"),
            "https://c/R4",
            "2026-12-03T00:00:00Z",
            None,
        );
        std::fs::remove_file(reports.join("lost/report.json")).unwrap();
        std::fs::create_dir_all(root.path().join("empty")).unwrap();

        let inputs = [
            reports.clone(),
            reports.join("b/run2"), // found twice: read once
            root.path().join("empty"),
            root.path().join("absent"),
        ];
        let (runs, unreadable) = collect(&inputs, None, None);
        let targets: Vec<&str> = runs.iter().map(|r| r.report.target.as_str()).collect();
        assert_eq!(targets, ["https://a/R4", "https://b/R4"]);
        assert!(runs.iter().all(|r| r.seal == Seal::Unsigned));
        assert!(runs.iter().all(|r| r.report.requirements.len() == 1));
        let reasons: Vec<(String, &str)> = unreadable
            .iter()
            .map(|u| {
                let name = u.folder.file_name().unwrap().to_string_lossy().into_owned();
                (name, u.reason.as_str())
            })
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].0 == "empty" && reasons[0].1.contains("no run folder"));
        assert!(reasons[1].0 == "absent" && reasons[1].1.starts_with("cannot read it"));
        assert!(reasons[2].0 == "broken" && reasons[2].1.contains("not an mts report"));
        assert!(reasons[3].0 == "lost" && reasons[3].1.contains("cannot read"));
    }

    #[test]
    fn a_copy_of_a_run_is_counted_once() {
        let root = tempfile::tempdir().unwrap();
        for folder in ["reports/run1", "archive/run1", "reports/run2"] {
            let started = if folder.ends_with('2') {
                "2026-12-02T00:00:00Z"
            } else {
                "2026-12-01T00:00:00Z"
            };
            write_run(&root.path().join(folder), "https://a/R4", started, None);
        }
        let (runs, unreadable) = collect(
            &[root.path().join("reports"), root.path().join("archive")],
            None,
            None,
        );
        assert_eq!(runs.len(), 2);
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        assert!(unreadable[0].folder.ends_with("archive/run1"));
        assert!(
            unreadable[0]
                .reason
                .contains("not counted again: the same run")
        );
    }

    #[test]
    fn the_site_folder_itself_is_not_searched() {
        let root = tempfile::tempdir().unwrap();
        write_run(
            &root.path().join("site/runs/x"),
            "https://a/R4",
            "2026-12-01T00:00:00Z",
            None,
        );
        let skip = std::fs::canonicalize(root.path().join("site")).unwrap();
        let (runs, unreadable) = collect(&[root.path().to_owned()], Some(&skip), None);
        assert!(runs.is_empty());
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].reason.contains("no run folder"));
    }

    #[test]
    fn seals_tell_verified_unchecked_other_signer_unsigned_tampered_and_missing_apart() {
        let root = tempfile::tempdir().unwrap();
        let (private, public) = SigningKey::generate().unwrap();
        let (other_private, _) = SigningKey::generate().unwrap();
        std::fs::write(root.path().join("k.pem"), private).unwrap();
        std::fs::write(root.path().join("k.pub"), public).unwrap();
        std::fs::write(root.path().join("o.pem"), other_private).unwrap();
        let key = SigningKey::load(&root.path().join("k.pem")).unwrap();
        let other = SigningKey::load(&root.path().join("o.pem")).unwrap();
        let public = crate::report::load_public_key(&root.path().join("k.pub")).unwrap();
        let started = "2026-12-01T00:00:00Z";
        let folder = |name: &str| root.path().join(name);
        write_run(&folder("signed"), "t", started, Some(&key));
        write_run(&folder("other"), "t", started, Some(&other));
        write_run(&folder("plain"), "t", started, None);
        write_run(&folder("tampered"), "t", started, Some(&key));
        write_run(&folder("bare"), "t", started, None);
        let report_json = folder("tampered").join(REPORT_FILE);
        let text = std::fs::read_to_string(&report_json).unwrap();
        std::fs::write(&report_json, text.replace("\"fail\"", "\"pass\"")).unwrap();
        std::fs::remove_file(folder("bare").join(MANIFEST)).unwrap();

        let pinned = |name: &str| seal(&folder(name), Some(&public)).name();
        assert_eq!(pinned("signed"), "verified");
        assert_eq!(pinned("other"), "other-signer");
        assert_eq!(pinned("plain"), "not-signed");
        assert_eq!(pinned("tampered"), "tampered");
        assert_eq!(pinned("bare"), "no-manifest");
        assert_eq!(seal(&folder("signed"), None).name(), "signer-not-checked");
        assert_eq!(seal(&folder("other"), None).name(), "signer-not-checked");
        let tampered = seal(&folder("tampered"), None);
        assert!(tampered.is_suspect());
        assert!(
            tampered
                .details()
                .iter()
                .any(|p| p.contains("report.json has changed")),
            "{tampered:?}"
        );
    }
}
