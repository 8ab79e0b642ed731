//! The commands: one file each, dispatched from here; what several share lives here too.

/// `print!` to stdout, ignoring a reader that went away (`mts list | head`): the command goes
/// on to its own exit code (a run's verdict) instead of panicking on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` the same way as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod config_show;
mod diff;
mod doctor;
mod error;
mod explain;
mod init;
mod keygen;
mod lint;
mod list;
mod merge;
mod output;
mod rejudge;
mod report;
mod run;
mod sandbox;
mod settings;
mod site;
mod validate;
mod verify;

use std::path::{Path, PathBuf};

use self::config_show::*;
use self::diff::*;
use self::doctor::*;
use self::explain::*;
use self::init::*;
use self::keygen::*;
use self::lint::*;
use self::list::*;
use self::merge::*;
use self::output::*;
use self::rejudge::*;
use self::report::*;
use self::run::*;
use self::sandbox::*;
use self::site::*;
use self::verify::*;
use crate::catalogue::{self, Catalogue};
use crate::cli::{Cli, Command};
use crate::config::ConfigFile;
use crate::exit::ExitCode;
pub use error::{CmdError, exit_code};

/// Environment variable holding the bearer token (never a flag: flags end up in shell history).
pub const TOKEN_VARIABLE: &str = "MTS_TOKEN";

pub fn needs_runtime(cli: &Cli) -> bool {
    matches!(
        cli.command,
        Command::Run(_) | Command::Sandbox(_) | Command::Doctor(_) | Command::Init(_)
    )
}

/// Commands that need no async runtime (`list`, `explain`): cheap to start.
pub fn run_sync(cli: Cli) -> ExitCode {
    exit_code(match cli.command {
        Command::List(args) => list(&args),
        Command::Explain(args) => explain(&args),
        Command::Verify(args) => verify(&args),
        Command::Keygen(args) => keygen(&args),
        Command::Diff(args) => diff_runs(&args),
        Command::Lint(args) => lint_suite(&args),
        Command::Merge(args) => merge_runs(&args),
        Command::Rejudge(args) => rejudge_run(&args),
        Command::Config(crate::cli::ConfigCommand::Show(args)) => show_config(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Site(args) => build_site(&args),
        Command::Report(args) => framework_report(&args),
        Command::Run(_) | Command::Sandbox(_) | Command::Doctor(_) | Command::Init(_) => {
            Err(wrong_runtime())
        }
    })
}

pub async fn run_async(cli: Cli) -> ExitCode {
    exit_code(match cli.command {
        Command::Run(args) => run(*args).await,
        Command::Sandbox(args) => serve_sandbox(args).await,
        Command::Doctor(args) => doctor(*args).await,
        Command::Init(args) => init(*args).await,
        Command::List(_)
        | Command::Explain(_)
        | Command::Verify(_)
        | Command::Keygen(_)
        | Command::Diff(_)
        | Command::Lint(_)
        | Command::Merge(_)
        | Command::Rejudge(_)
        | Command::Validate(_)
        | Command::Site(_)
        | Command::Report(_)
        | Command::Config(_) => Err(wrong_runtime()),
    })
}

fn wrong_runtime() -> CmdError {
    CmdError::internal("a command was dispatched to the wrong runtime")
}

/// `--config FILE`, or `./mts.toml` when it exists.
pub(crate) fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_owned)
        .or_else(|| Some(PathBuf::from("mts.toml")).filter(|p| p.exists()))
}

/// The file and a run's settings resolved over it (`settings.rs`).
pub(crate) fn load_settings(
    args: &crate::cli::RunArgs,
) -> Result<(ConfigFile, settings::Resolved), CmdError> {
    let profile = settings::config_profile(args.config_profile.as_deref(), &settings::process_env);
    let config = load_config(
        config_path(args.config.as_deref()).as_deref(),
        profile.as_deref(),
    )?;
    let resolved =
        settings::resolve(args, &config, &settings::process_env).map_err(CmdError::usage)?;
    Ok((config, resolved))
}

/// The file (default `./mts.toml` when present) with the chosen profile laid over it.
pub(crate) fn load_config(
    path: Option<&Path>,
    profile: Option<&str>,
) -> Result<ConfigFile, CmdError> {
    let loaded = match (path, profile) {
        (Some(path), profile) => ConfigFile::load_with_profile(path, profile),
        (None, Some(name)) => {
            return Err(CmdError::invalid(format!(
                "--config-profile {name} needs a configuration file (--config or ./mts.toml)"
            )));
        }
        (None, None) => Ok(ConfigFile::default()),
    };
    loaded.map_err(CmdError::invalid)
}

pub(crate) fn load_catalogue() -> Result<Catalogue, CmdError> {
    catalogue::load_embedded().map_err(CmdError::invalid)
}

/// Writes a file only its owner can read (the sandbox's keys, however throwaway).
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// SIGINT and SIGTERM, caught from the moment this is made: tokio installs its handler on
/// registration, not at the first await, so a signal that lands just after `MTS_READY` is
/// printed still stops the process cleanly instead of killing it with its key folder behind.
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The name of the next signal to arrive.
    #[cfg(unix)]
    async fn next(&mut self) -> &'static str {
        async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.interrupt) => "SIGINT",
            _ = recv(&mut self.terminate) => "SIGTERM",
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

pub fn parse_cli() -> Result<Cli, clap::Error> {
    <Cli as clap::Parser>::try_parse()
}
