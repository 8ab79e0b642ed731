//! `mts doctor`: what a run would need, checked before running it.

use crate::cli::RunArgs;
use crate::exit::ExitCode;
use crate::runner::{self};

use super::*;

/// `mts doctor`: exit 0 when a run can go ahead, 1 when something must be fixed first.
pub(crate) async fn doctor(args: RunArgs) -> ExitCode {
    let config = match load_config(
        config_path(args.config.as_deref()).as_deref(),
        args.config_profile.as_deref(),
    ) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let options = match run_options(&args, &config, None) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let checks = match runner::doctor(options).await {
        Ok(checks) => checks,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
    for check in &checks {
        let mark = match check.health {
            runner::Health::Ok => "ok  ",
            runner::Health::Warn => "warn",
            runner::Health::Fail => "FAIL",
        };
        println!("{mark} {:<15} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            println!("     {:<15} fix: {fix}", "");
        }
    }
    let failed = checks
        .iter()
        .filter(|c| c.health == runner::Health::Fail)
        .count();
    if failed == 0 {
        println!("ready: nothing stops a run");
        ExitCode::Conformant
    } else {
        println!("{failed} problem(s) to fix before a run");
        ExitCode::NonConformant
    }
}
