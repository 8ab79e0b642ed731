//! `mts site`: a static HTML site over many run folders.

use crate::exit::ExitCode;
use crate::report::{self, site};

use super::CmdError;

/// `mts site`: 0 when the site was written from at least one run (unreadable folders are
/// listed in it and on stderr, suspect runs flagged in it); 3 when no run folder could be read
/// or the key cannot be; 2 when `--out` holds other files; 70 when the site cannot be written.
pub(crate) fn build_site(args: &crate::cli::SiteArgs) -> Result<ExitCode, CmdError> {
    let verify_key = args
        .verify_key
        .as_deref()
        .map(report::load_public_key)
        .transpose()
        .map_err(CmdError::invalid)?;
    let options = site::SiteOptions {
        verify_key,
        waiver_window_days: i64::from(args.waiver_days),
    };
    let unreadable_warning = |folder: &site::Unreadable| {
        eprintln!("unreadable: {}: {}", folder.folder.display(), folder.reason);
    };
    match site::build(&args.inputs, &args.out, &options) {
        Ok(summary) => {
            summary.unreadable.iter().for_each(unreadable_warning);
            let mut line = format!(
                "site: {} target(s), {} run(s)",
                summary.targets, summary.runs
            );
            if summary.suspect > 0 {
                line.push_str(&format!(
                    ", {} failed verification (flagged)",
                    summary.suspect
                ));
            }
            if !summary.unreadable.is_empty() {
                line.push_str(&format!(", {} unreadable", summary.unreadable.len()));
            }
            outln!("{line}: {}", summary.index.display());
            Ok(ExitCode::Success)
        }
        Err(site::SiteError::NothingReadable { unreadable }) => {
            unreadable.iter().for_each(unreadable_warning);
            Err(CmdError::invalid(site::SiteError::NothingReadable {
                unreadable,
            }))
        }
        Err(error @ site::SiteError::NotASite { .. }) => Err(CmdError::usage(error)),
        Err(error @ site::SiteError::Write { .. }) => Err(CmdError::internal(error)),
    }
}
