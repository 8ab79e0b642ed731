//! `mts verify`: a report folder's signature and hashes checked.

use crate::exit::ExitCode;

use super::CmdError;
use crate::report;

/// `mts verify`: 0 when every file matches its manifest (and the signature, if any, holds);
/// 1 on any discrepancy, each named; 3 when there is no readable manifest or key.
pub(crate) fn verify(args: &crate::cli::VerifyArgs) -> Result<ExitCode, CmdError> {
    let public_key = match args
        .public_key
        .as_deref()
        .map(report::load_public_key)
        .transpose()
    {
        Ok(key) => key,
        Err(error) => {
            return Err(CmdError::invalid(error.to_string()));
        }
    };
    match report::verify(&args.folder, public_key.as_deref()) {
        Err(message) => Err(CmdError::invalid(message)),
        Ok(outcome) if outcome.problems.is_empty() => {
            outln!(
                "verified: {} file(s) match {}",
                outcome.verified,
                args.folder.join("manifest.json").display()
            );
            match &outcome.signature {
                Some(signature) => outln!("{signature}"),
                None => outln!("not signed"),
            }
            Ok(ExitCode::Success)
        }
        Ok(outcome) => {
            eprintln!(
                "VERIFICATION FAILED for {} ({} problem(s)):",
                args.folder.display(),
                outcome.problems.len()
            );
            for problem in &outcome.problems {
                eprintln!("  - {problem}");
            }
            Ok(ExitCode::NonConformant)
        }
    }
}
