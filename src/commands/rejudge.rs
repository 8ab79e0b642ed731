//! `mts rejudge`: a recorded run judged again by this build.

use crate::catalogue::Profile;
use crate::exit::ExitCode;
use crate::runner::{self};

use super::*;

/// `mts rejudge`: a run folder's evidence judged again, offline, into a new folder.
pub(crate) fn rejudge_run(args: &crate::cli::RejudgeArgs) -> Result<ExitCode, CmdError> {
    let openapi = match args
        .openapi
        .as_deref()
        .map(std::fs::read_to_string)
        .transpose()
    {
        Ok(text) => text,
        Err(error) => {
            return Err(CmdError::invalid(format!(
                "cannot read the OpenAPI document: {error}"
            )));
        }
    };
    let today = chrono::Utc::now().date_naive();
    let rejudged = match (&args.folder, &args.har) {
        (Some(folder), _) => runner::rejudge(
            folder,
            args.catalogue_dir.as_deref(),
            openapi.as_deref(),
            today,
        ),
        (None, Some(har)) => runner::rejudge_har(
            har,
            args.target.as_deref().unwrap_or_default(),
            args.profile.unwrap_or(Profile::Apim),
            args.catalogue_dir.as_deref(),
            openapi.as_deref(),
            today,
        ),
        (None, None) => {
            return Err(CmdError::usage("give a run folder or --har FILE"));
        }
    };
    let rejudged = rejudged.map_err(CmdError::invalid)?;
    if rejudged.cut_bodies > 0 {
        eprintln!(
            "note: {} recorded bod(y/ies) were cut at the report's limit; the checks judged them as cut",
            rejudged.cut_bodies
        );
    }
    write_to_new_folder(
        &rejudged.report,
        args.out.as_deref(),
        &args.format,
        None,
        Console::new(args.quiet, args.show),
        &args.folder.as_deref().into_iter().collect::<Vec<_>>(),
    )
}
