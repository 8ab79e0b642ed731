//! Writing a run's report folder (shared by run, merge and rejudge).

use std::io::IsTerminal as _;
use std::path::Path;

use crate::exit::ExitCode;
use crate::report::{self, TableStyle};
use crate::runner::{self};

use super::*;

/// `--sign-key FILE`, loaded.
pub(crate) fn load_sign_key(path: Option<&Path>) -> Result<Option<report::SigningKey>, CmdError> {
    path.map(report::SigningKey::load)
        .transpose()
        .map_err(CmdError::invalid)
}

/// How the run is shown on stdout: the verdict line alone, or the table with which rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Console {
    pub quiet: bool,
    pub show: report::Show,
}

impl Console {
    pub(crate) fn new(quiet: bool, show: crate::cli::ShowRows) -> Self {
        Console {
            quiet,
            show: show.into(),
        }
    }
}

/// The columns the table fits: `COLUMNS` where set, else the terminal's width, else
/// [`report::DEFAULT_WIDTH`] (a pipe, a CI log).
fn console_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        // stdout's own terminal: `mts run | tee log` writes to a pipe, whatever stderr is.
        .or_else(|| {
            terminal_size::terminal_size_of(std::io::stdout())
                .map(|(width, _)| usize::from(width.0))
        })
        .unwrap_or(report::DEFAULT_WIDTH)
}

/// A report made without a live run (merge, rejudge) into a fresh folder, then shown.
pub(crate) fn write_to_new_folder(
    report: &report::Report,
    out: Option<&Path>,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    console: Console,
    evidence_from: &[&Path],
) -> Result<ExitCode, CmdError> {
    let out = prepare_out_dir(out).map_err(CmdError::usage)?;
    copy_attestation_evidence(report, evidence_from, &out)?;
    write_and_print(report, &out, formats, sign_key, console)
}

/// A regular file (not a link, a device or a pipe) of at most the evidence limit, or nothing.
fn read_sealed(folder: &Path, name: &str) -> Option<Vec<u8>> {
    let path = folder.join(name);
    let metadata = std::fs::symlink_metadata(&path).ok()?;
    (metadata.is_file() && metadata.len() <= crate::runner::attest::EVIDENCE_FILE_LIMIT)
        .then(|| std::fs::read(&path).ok())
        .flatten()
}

/// The attestation evidence files `report` names, copied from the run folders `from` into
/// `to`, so the new folder's manifest covers them as the old one's did. A name is taken only
/// as mts writes it (`attestation-…`, one plain file name), only from folders that still match
/// their manifests, and only bytes that hash as the report recorded. (A folder edited and its
/// manifest recomputed passes that: only a signature checked with `mts verify --public-key`
/// tells who sealed it.)
fn copy_attestation_evidence(
    report: &report::Report,
    from: &[&Path],
    to: &Path,
) -> Result<(), CmdError> {
    use sha2::{Digest, Sha256};
    let mut evidence = report
        .settings
        .attestations
        .iter()
        .flat_map(|a| &a.evidence)
        .filter_map(|e| Some((e.file.as_deref()?, e.sha256.as_deref()?)))
        .peekable();
    if evidence.peek().is_some() {
        // The recorded hashes are only as good as the report that holds them: the folders
        // must still be as their runs wrote them.
        for folder in from {
            let intact = report::verify(folder, None).is_ok_and(|v| v.problems.is_empty());
            if !intact {
                return Err(CmdError::invalid(format!(
                    "{} does not match its manifest (mts verify): its attestation evidence is not carried into a new folder",
                    folder.display()
                )));
            }
        }
    }
    for (name, sha256) in evidence {
        let plain = Path::new(name).components().count() == 1
            && matches!(
                Path::new(name).components().next(),
                Some(std::path::Component::Normal(_))
            );
        if !plain || !name.starts_with("attestation-") {
            return Err(CmdError::invalid(format!(
                "the report names attestation evidence `{name}`, which is not a file mts writes"
            )));
        }
        let bytes = from
            .iter()
            .filter_map(|folder| read_sealed(folder, name))
            .find(|bytes| format!("{:x}", Sha256::digest(bytes)) == sha256)
            .ok_or_else(|| {
                CmdError::invalid(format!(
                    "attestation evidence {name} is not in the run folder as the run recorded it (missing, or changed since)"
                ))
            })?;
        report::write_atomically(&to.join(name), &bytes).map_err(|e| {
            CmdError::internal(format!("cannot write {}: {e}", to.join(name).display()))
        })?;
    }
    Ok(())
}

/// What a shard keeps besides its report, for `mts merge`.
pub(crate) const SHARD_FILE: &str = "shard.json";

/// Writes the chosen formats (all by default), prints the table (or the verdict line alone) and
/// gives the exit code the verdict calls for.
pub(crate) fn write_and_print(
    report: &report::Report,
    out: &Path,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    console: Console,
) -> Result<ExitCode, CmdError> {
    let formats = if formats.is_empty() {
        report::Format::ALL.to_vec()
    } else {
        formats.to_vec()
    };
    if let Err(error) = report::write_all(report, out, &formats, sign_key) {
        return Err(CmdError::internal(format!(
            "failed to write the report into {}: {error}",
            out.display()
        )));
    }
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let html_written = formats.contains(&report::Format::Html);
    let style = TableStyle {
        colour,
        width: console_width(),
        show: console.show,
        report_dir: html_written.then(|| out.display().to_string()),
    };
    if console.quiet {
        out!("{}", report::render_verdict_line(report, &style));
    } else {
        out!("{}", report::render_table(report, &style));
        eprintln!("report: {}", out.display());
    }
    Ok(runner::exit_code_for(report))
}
