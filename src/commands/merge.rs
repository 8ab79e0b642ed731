//! `mts merge`: shards of one run joined into one report.

use crate::exit::ExitCode;
use crate::runner::{self};

use super::*;

/// `mts merge`: the shards' folders into one report, written and judged like a run's.
pub(crate) fn merge_runs(args: &crate::cli::MergeArgs) -> ExitCode {
    let sign_key = match load_sign_key(args.sign_key.as_deref()) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let report = match runner::merge(&args.folders, chrono::Utc::now().date_naive()) {
        Ok(report) => report,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
    write_to_new_folder(
        &report,
        args.out.as_deref(),
        &args.format,
        sign_key.as_ref(),
        args.quiet,
    )
}
