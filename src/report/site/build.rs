//! Writing the site: the run folders copied in (so every link works from `file://` and the site
//! can be moved or archived whole), the pages, and `site.json`, which lists what the site holds
//! and marks the folder as a site `mts site` may rebuild.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::collect::{SiteRun, Unreadable, collect};
use super::history::{TargetHistory, group_by_target, newest_run_day, site_folder_name};
use super::render::{RunCopy, Site, index, target_page};

/// The file that lists the site's contents and marks its folder as one `mts site` wrote.
pub const SITE_FILE: &str = "site.json";

/// What `mts site` writes at the top of its folder; a rebuild replaces these and nothing else.
const SITE_ENTRIES: [&str; 4] = ["index.html", SITE_FILE, "targets", "runs"];

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "{path} is not empty and not a site mts wrote (no {SITE_FILE}): choose an empty or new --out"
    )]
    NotASite { path: String },
    #[error("no run folder could be read ({} unreadable)", unreadable.len())]
    NothingReadable { unreadable: Vec<Unreadable> },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// The raw Ed25519 key signed runs must be signed with (`--verify-key`).
    pub verify_key: Option<Vec<u8>>,
    /// Waivers ending within this many days of the newest run are listed on the index.
    pub waiver_window_days: i64,
}

impl Default for SiteOptions {
    fn default() -> Self {
        Self {
            verify_key: None,
            waiver_window_days: 30,
        }
    }
}

/// What was built.
#[derive(Debug)]
pub struct SiteSummary {
    pub index: PathBuf,
    pub targets: usize,
    pub runs: usize,
    /// Runs whose folder failed verification (tampered, signed by another key, no manifest).
    pub suspect: usize,
    pub unreadable: Vec<Unreadable>,
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> SiteError + '_ {
    move |source| SiteError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Builds the site in `out` from the run folders in or below `inputs`. `out` must be new,
/// empty, or a site `mts site` wrote before (then its pages and copies are replaced). Nothing
/// in `out` is touched when no run could be read.
pub fn build(
    inputs: &[PathBuf],
    out: &Path,
    options: &SiteOptions,
) -> Result<SiteSummary, SiteError> {
    let previous_site = check_out(out)?;
    let skip = std::fs::canonicalize(out).ok();
    let (runs, mut unreadable) = collect(inputs, skip.as_deref(), options.verify_key.as_deref());
    if runs.is_empty() {
        return Err(SiteError::NothingReadable { unreadable });
    }
    unreadable.sort_by(|a, b| a.folder.cmp(&b.folder));
    let targets = group_by_target(runs);
    let copies = layout(&targets);

    if previous_site {
        for entry in SITE_ENTRIES {
            let path = out.join(entry);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else if path.exists() {
                std::fs::remove_file(&path)
            } else {
                Ok(())
            };
            removed.map_err(write_error(&path))?;
        }
    }
    std::fs::create_dir_all(out.join("targets")).map_err(write_error(out))?;
    // The marker first: a build cut short leaves a folder the next build may still replace.
    let listing = site_listing(&targets, &copies, &unreadable);
    write(&out.join(SITE_FILE), listing.as_bytes())?;

    let mut placed = Vec::with_capacity(copies.len());
    for (target, folders) in targets.iter().zip(&copies) {
        let mut copied = Vec::with_capacity(folders.len());
        for (run, folder) in target.runs.iter().zip(folders) {
            copied.push(RunCopy {
                files: copy_run(&run.source, &out.join(folder))?,
                folder: folder.clone(),
            });
        }
        placed.push(copied);
    }
    let site = Site {
        targets: &targets,
        copies: &placed,
        unreadable: &unreadable,
        waiver_window_days: options.waiver_window_days,
        key_given: options.verify_key.is_some(),
    };
    for (number, target) in targets.iter().enumerate() {
        let path = out.join("targets").join(format!("{}.html", target.slug));
        write(&path, target_page(&site, number).as_bytes())?;
    }
    let index_path = out.join("index.html");
    write(&index_path, index(&site).as_bytes())?;
    Ok(SiteSummary {
        index: index_path,
        targets: targets.len(),
        runs: targets.iter().map(|t| t.runs.len()).sum(),
        suspect: targets.iter().map(TargetHistory::suspect_runs).sum(),
        unreadable,
    })
}

/// Whether `out` is a site to rebuild (`true`), or new or empty (`false`).
fn check_out(out: &Path) -> Result<bool, SiteError> {
    if out.exists() && !out.is_dir() {
        return Err(SiteError::NotASite {
            path: out.display().to_string(),
        });
    }
    let empty = match std::fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_none(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(write_error(out)(error)),
    };
    if empty {
        return Ok(false);
    }
    // A site mts wrote: its site.json names mts as the generator (any other site.json, in
    // a web project say, is not ours to replace).
    let ours = std::fs::read(out.join(SITE_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|listing| {
            listing["generator"]
                .as_str()
                .is_some_and(|g| g.starts_with("mts "))
        });
    if ours {
        return Ok(true);
    }
    Err(SiteError::NotASite {
        path: out.display().to_string(),
    })
}

/// Each run's folder in the site: `runs/<target>/<NNN>-<name>`.
fn layout(targets: &[TargetHistory]) -> Vec<Vec<String>> {
    targets
        .iter()
        .map(|target| {
            target
                .runs
                .iter()
                .enumerate()
                .map(|(i, run)| {
                    format!("runs/{}/{}", target.slug, site_folder_name(i, &run.source))
                })
                .collect()
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    super::super::write_atomically(path, bytes).map_err(write_error(path))
}

/// The names a run folder's manifest lists (plain names only), with the manifest and its
/// signature: what the run wrote. Anything else in the folder (a file added later, a token
/// left beside it) is not published.
fn manifest_names(source: &Path) -> Vec<String> {
    let listed = std::fs::read(source.join("manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .map(|manifest| {
            manifest["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|file| file["path"].as_str())
                .filter(|name| !name.contains(['/', '\\']) && !name.starts_with('.'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    listed
        .into_iter()
        .chain(["manifest.json".to_owned(), "manifest.sig".to_owned()])
        .collect()
}

/// Copies the files the run folder's manifest lists (symbolic links are left behind so a
/// planted link cannot pull another file into the site). A file that cannot be read is left
/// out: its seal already says it is missing. Returns the names copied.
fn copy_run(source: &Path, destination: &Path) -> Result<Vec<String>, SiteError> {
    std::fs::create_dir_all(destination).map_err(write_error(destination))?;
    let mut names: Vec<String> = manifest_names(source)
        .into_iter()
        .filter(|name| {
            std::fs::symlink_metadata(source.join(name)).is_ok_and(|m| m.file_type().is_file())
        })
        .collect();
    names.sort();
    names.dedup();
    let mut copied = Vec::with_capacity(names.len());
    for name in names {
        let Ok(bytes) = std::fs::read(source.join(&name)) else {
            continue;
        };
        let path = destination.join(&name);
        std::fs::write(&path, bytes).map_err(write_error(&path))?;
        copied.push(name);
    }
    Ok(copied)
}

fn run_listing(run: &SiteRun, folder: &str) -> serde_json::Value {
    json!({
        "folder": folder,
        "source": run.source.display().to_string(),
        "run_id": run.report.run_id,
        "started": run.report.started,
        "verdict": run.report.verdict.as_str(),
        "profile": run.report.profile.as_str(),
        "integrity": run.seal.name(),
        "integrity_details": run.seal.details(),
    })
}

/// `site.json`: every target with its runs (where each was copied from and to, its verdict
/// and integrity), and the folders that could not be read.
fn site_listing(
    targets: &[TargetHistory],
    copies: &[Vec<String>],
    unreadable: &[Unreadable],
) -> String {
    let newest = newest_run_day(targets).map(|day| day.to_string());
    let targets: Vec<serde_json::Value> = targets
        .iter()
        .zip(copies)
        .map(|(target, folders)| {
            let runs: Vec<serde_json::Value> = target
                .runs
                .iter()
                .zip(folders)
                .map(|(run, folder)| run_listing(run, folder))
                .collect();
            json!({
                "target": target.key,
                "page": format!("targets/{}.html", target.slug),
                "runs": runs,
            })
        })
        .collect();
    let unreadable: Vec<serde_json::Value> = unreadable
        .iter()
        .map(|u| json!({"folder": u.folder.display().to_string(), "reason": u.reason}))
        .collect();
    let listing = json!({
        "generator": format!("mts {}", env!("CARGO_PKG_VERSION")),
        "newest_run_day": newest,
        "targets": targets,
        "unreadable": unreadable,
    });
    serde_json::to_string_pretty(&listing).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    #[test]
    fn only_what_the_manifest_lists_is_published() {
        let source = tempfile::tempdir().unwrap();
        let listing = json!({"files": [{"path": "report.json"}, {"path": "../escape"}, {"path": "gone.html"}]});
        std::fs::write(source.path().join("manifest.json"), listing.to_string()).unwrap();
        std::fs::write(source.path().join("report.json"), "{}").unwrap();
        std::fs::write(source.path().join("token.txt"), "secret").unwrap();
        let destination = tempfile::tempdir().unwrap();
        let copied = copy_run(source.path(), &destination.path().join("run")).unwrap();
        assert_eq!(copied, ["manifest.json", "report.json"]);
        assert!(!destination.path().join("run/token.txt").exists());
    }
}
