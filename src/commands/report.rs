//! `mts report --framework NAME RUN_DIR`: a run folder seen through an assurance framework, as
//! Markdown, HTML or CSV, on standard output or into a file.

use std::path::Path;

use crate::cli::{FrameworkFormat, ReportArgs};
use crate::exit::ExitCode;
use crate::report::{self, frameworks};

use super::*;

pub(crate) fn framework_report(args: &ReportArgs) -> Result<ExitCode, CmdError> {
    let catalogue = load_catalogue()?;
    let selected = selected_frameworks(&catalogue, &args.framework)?;
    let run = report::read(&args.dir).map_err(CmdError::invalid)?;
    // An assessor must know whether the folder is still what the run wrote.
    let notices = match report::verify(&args.dir, None) {
        Ok(outcome) if outcome.problems.is_empty() => Vec::new(),
        Ok(outcome) => vec![format!(
            "This run folder does not match its manifest ({}): its results may have been \
             changed since the run.",
            outcome.problems.join("; ")
        )],
        Err(why) => vec![format!(
            "The run folder's integrity cannot be checked: {why}."
        )],
    };
    let mut view = frameworks::view(&run, &catalogue, &selected, notices);
    // Links to the run's report.html must work from where the view is read.
    let report = args.dir.join("report.html");
    let path = match args.out.as_deref().and_then(Path::parent) {
        Some(from) => relative(from, &report),
        None => report,
    };
    view.report_href = href(&path);
    let text = match args.format {
        FrameworkFormat::Markdown => frameworks::markdown(&view),
        FrameworkFormat::Html => frameworks::html(&view),
        FrameworkFormat::Csv => frameworks::csv(&view),
    };
    match &args.out {
        None => out!("{text}"),
        Some(path) => {
            report::write_atomically(path, text.as_bytes())
                .map_err(|e| CmdError::internal(format!("cannot write {}: {e}", path.display())))?;
            outln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::Success)
}

/// A path as a URL reference: `/` between segments, each byte outside the unreserved set
/// percent-encoded (a folder named `run #2` must not end the path at `#`), and Windows's
/// verbatim prefix dropped.
fn href(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("//?/").unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `to` as seen from the folder `from` (`../run-1/report.html`), or `to` made absolute when the
/// two share no root.
fn relative(from: &Path, to: &Path) -> std::path::PathBuf {
    let absolute = |path: &Path| {
        let path = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    };
    let from = absolute(from);
    let to = match (to.parent(), to.file_name()) {
        (Some(dir), Some(name)) => absolute(dir).join(name),
        _ => absolute(to),
    };
    let shared = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    if shared == 0 {
        return to;
    }
    let mut path = std::path::PathBuf::new();
    for _ in from.components().skip(shared) {
        path.push("..");
    }
    for part in to.components().skip(shared) {
        path.push(part);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_made_relative_to_where_the_view_is_written() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("runs/r1");
        std::fs::create_dir_all(&run).unwrap();
        let views = root.path().join("views");
        std::fs::create_dir_all(&views).unwrap();
        assert_eq!(
            relative(&views, &run.join("report.html")),
            Path::new("../runs/r1/report.html")
        );
        assert_eq!(
            relative(&run, &run.join("report.html")),
            Path::new("report.html")
        );
    }
}
