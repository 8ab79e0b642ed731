//! `mts merge`: shards of one run joined into one report.

use crate::exit::ExitCode;
use crate::runner::{self};

use super::*;

/// `mts merge`: the shards' folders into one report, written and judged like a run's.
pub(crate) fn merge_runs(args: &crate::cli::MergeArgs) -> Result<ExitCode, CmdError> {
    let sign_key = load_sign_key(args.sign_key.as_deref())?;
    let report =
        runner::merge(&args.folders, chrono::Utc::now().date_naive()).map_err(CmdError::invalid)?;
    write_to_new_folder(
        &report,
        args.out.as_deref(),
        &args.format,
        sign_key.as_ref(),
        Console::new(args.quiet, args.show),
        &args.folders.iter().map(|f| f.as_path()).collect::<Vec<_>>(),
    )
}
