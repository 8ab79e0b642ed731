//! `mts report --framework NAME RUN_DIR`: a run folder seen through an assurance framework, as
//! Markdown, HTML or CSV, on standard output or into a file.

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
    let view = frameworks::view(&run, &catalogue, &selected, notices);
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
