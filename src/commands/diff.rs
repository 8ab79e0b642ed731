//! `mts diff`: what changed between two runs.

use std::path::Path;

use crate::cli::ListFormat;
use crate::exit::ExitCode;
use crate::report::Verdict;

use super::*;

/// Requirement ids that failed or errored in an earlier run (`--rerun-failed`).
pub(crate) fn failed_in(folder: &Path) -> Result<Vec<String>, CmdError> {
    let report = crate::report::read(folder).map_err(CmdError::invalid)?;
    Ok(report
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| r.id.as_str().to_owned())
        .collect())
}

/// `mts diff`: exit 1 on a regression, so CI can gate on it.
pub(crate) fn diff_runs(args: &crate::cli::DiffArgs) -> Result<ExitCode, CmdError> {
    use crate::report::diff;
    let read = |folder: &Path| crate::report::read(folder).map_err(CmdError::invalid);
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let result = diff::diff(&args.before, &before, &args.after, &after);
    match args.format {
        ListFormat::Json => match serde_json::to_string_pretty(&result) {
            Ok(json) => outln!("{json}"),
            Err(error) => {
                return Err(CmdError::internal(error.to_string()));
            }
        },
        ListFormat::Table => out!("{}", diff::render_text(&result)),
    }
    if result.regressions() > 0 {
        Ok(ExitCode::NonConformant)
    } else {
        Ok(ExitCode::Success)
    }
}
