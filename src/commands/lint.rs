//! `mts lint`: the suite and catalogue checked against each other.

use crate::catalogue::{self};
use crate::exit::ExitCode;
use crate::sandbox::Fault;

use super::*;

/// `mts lint`: exit 3 with every problem, or 0.
pub(crate) fn lint_suite(args: &crate::cli::LintArgs) -> Result<ExitCode, CmdError> {
    let catalogue = match &args.catalogue_dir {
        Some(dir) => catalogue::load_dir(dir),
        None => catalogue::load_embedded(),
    };
    let catalogue = catalogue.map_err(CmdError::invalid)?;
    let suite = match &args.features_dir {
        Some(dir) => crate::features::Suite::load_dir(dir),
        None => crate::features::Suite::load_embedded(),
    };
    let suite = suite.map_err(CmdError::invalid)?;
    let problems = crate::lint::lint(&catalogue, &suite, &crate::steps::StepLibrary::new());
    if problems.is_empty() {
        outln!(
            "lint: {} requirements, {} scenarios, {} sandbox faults: no problems",
            catalogue.requirements.len(),
            suite.scenarios().len(),
            Fault::ALL.len()
        );
        return Ok(ExitCode::Success);
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    eprintln!("lint: {} problem(s)", problems.len());
    Ok(ExitCode::InvalidInput)
}
