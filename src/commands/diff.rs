//! `mts diff`: what changed between two runs.

use std::path::Path;

use crate::cli::ListFormat;
use crate::exit::ExitCode;

use super::*;

/// Requirement ids that failed or errored in an earlier run (`--rerun-failed`).
pub(crate) fn failed_in(folder: &Path) -> Result<Vec<String>, ExitCode> {
    let report = crate::report::diff::read_report(folder).map_err(|error| {
        print_error(&error);
        ExitCode::InvalidInput
    })?;
    Ok(report["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| matches!(r["verdict"].as_str(), Some("fail" | "error")))
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect())
}

/// `mts diff`: exit 1 on a regression, so CI can gate on it.
pub(crate) fn diff_runs(args: &crate::cli::DiffArgs) -> ExitCode {
    use crate::report::diff;
    let read = |folder: &Path| {
        diff::read_report(folder).map_err(|error| {
            print_error(&error);
            ExitCode::InvalidInput
        })
    };
    let (before, after) = match (read(&args.before), read(&args.after)) {
        (Ok(before), Ok(after)) => (before, after),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let result = diff::diff(&args.before, &before, &args.after, &after);
    match args.format {
        ListFormat::Json => match serde_json::to_string_pretty(&result) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::Internal;
            }
        },
        ListFormat::Table => print!("{}", diff::render_text(&result)),
    }
    if result.regressions() > 0 {
        ExitCode::NonConformant
    } else {
        ExitCode::Conformant
    }
}
