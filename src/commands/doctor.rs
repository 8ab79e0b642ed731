//! `mts doctor`: what a run would need, checked before running it.

use crate::cli::RunArgs;
use crate::exit::ExitCode;
use crate::runner::{self};

use super::*;

/// `mts doctor`: exit 0 when a run can go ahead, 1 when something must be fixed first.
pub(crate) async fn doctor(args: RunArgs) -> Result<ExitCode, CmdError> {
    let (config, settings) = load_settings(&args)?;
    let options = run_options(&args, &config, &settings, None)?;
    let checks = runner::doctor(options).await.map_err(CmdError::invalid)?;
    for check in &checks {
        let mark = match check.health {
            runner::Health::Ok => "ok  ",
            runner::Health::Warn => "warn",
            runner::Health::Fail => "FAIL",
        };
        outln!("{mark} {:<15} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            outln!("     {:<15} fix: {fix}", "");
        }
    }
    let failed = checks
        .iter()
        .filter(|c| c.health == runner::Health::Fail)
        .count();
    if failed == 0 {
        outln!("ready: nothing stops a run");
        Ok(ExitCode::Success)
    } else {
        outln!("{failed} problem(s) to fix before a run");
        Ok(ExitCode::NonConformant)
    }
}
