//! Command orchestration. Returns an exit code; never calls `process::exit`, so tests can drive it.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tabled::settings::{Style, Width, object::Columns};
use tabled::{Table, Tabled};

use crate::auth::{ClientCredentials, ClientKey, Credentials};
use crate::catalogue::{self, Catalogue, Profile};
use crate::checks::PASSIVE_CHECKS;
use crate::cli::{Cli, Command, ExplainArgs, ListArgs, ListFormat, RunArgs, SandboxArgs};
use crate::config::{self, ConfigFile, TestData};
use crate::exit::ExitCode;
use crate::features::Suite;
use crate::report::{self, TableStyle};
use crate::runner::{self, RunError, RunOptions, Selection};
use crate::sandbox::{self, Fault, SandboxOptions};

/// Environment variable holding the bearer token (never a flag: flags end up in shell history).
pub const TOKEN_VARIABLE: &str = "MTS_TOKEN";

pub fn needs_runtime(cli: &Cli) -> bool {
    matches!(
        cli.command,
        Command::Run(_) | Command::Sandbox(_) | Command::Doctor(_)
    )
}

/// Commands that need no async runtime (`list`, `explain`): cheap to start.
pub fn run_sync(cli: Cli) -> ExitCode {
    match cli.command {
        Command::List(args) => list(&args),
        Command::Explain(args) => explain(&args),
        Command::Verify(args) => verify(&args),
        Command::Keygen(args) => keygen(&args),
        Command::Diff(args) => diff_runs(&args),
        Command::Lint(args) => lint_suite(&args),
        Command::Merge(args) => merge_runs(&args),
        Command::Rejudge(args) => rejudge_run(&args),
        Command::Config(crate::cli::ConfigCommand::Show(args)) => show_config(&args),
        Command::Validate(args) => crate::commands::validate::run(&args),
        Command::Run(_) | Command::Sandbox(_) | Command::Doctor(_) => ExitCode::Internal,
    }
}

pub async fn run_async(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run(args) => run(*args).await,
        Command::Sandbox(args) => serve_sandbox(args).await,
        Command::Doctor(args) => doctor(*args).await,
        Command::List(_)
        | Command::Explain(_)
        | Command::Verify(_)
        | Command::Keygen(_)
        | Command::Diff(_)
        | Command::Lint(_)
        | Command::Merge(_)
        | Command::Rejudge(_)
        | Command::Validate(_)
        | Command::Config(_) => ExitCode::Internal,
    }
}

/// `--config FILE`, or `./mts.toml` when it exists.
fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_owned)
        .or_else(|| Some(PathBuf::from("mts.toml")).filter(|p| p.exists()))
}

/// The file (default `./mts.toml` when present) with the chosen profile laid over it.
fn load_config(path: Option<&Path>, profile: Option<&str>) -> Result<ConfigFile, ExitCode> {
    let loaded = match (path, profile) {
        (Some(path), profile) => ConfigFile::load_with_profile(path, profile),
        (None, Some(name)) => {
            eprintln!(
                "error: --config-profile {name} needs a configuration file (--config or ./mts.toml)"
            );
            return Err(ExitCode::InvalidInput);
        }
        (None, None) => Ok(ConfigFile::default()),
    };
    loaded.map_err(|error| {
        print_error(&error);
        ExitCode::InvalidInput
    })
}

/// Environment variables `mts run` reads, and whether their values are secret.
const ENVIRONMENT: &[(&str, bool)] = &[
    ("MTS_TARGET", false),
    ("MTS_PROFILE", false),
    ("MTS_CONFIG_PROFILE", false),
    ("MTS_CONCURRENCY", false),
    ("MTS_TIMEOUT", false),
    ("MTS_OPENAPI", false),
    ("MTS_STRICT", false),
    ("MTS_SHARD", false),
    ("MTS_TOKEN", true),
    ("MTS_TOKEN_URL", false),
    ("MTS_CLIENT_ID", false),
    ("MTS_KID", false),
    ("MTS_CLIENT_KEY", false),
    ("MTS_LOW_PRIVILEGE_TOKEN", true),
    ("MTS_LOAD_TOKEN", true),
    ("MTS_RATE_LIMIT", false),
    ("MTS_TLS_CLIENT_CERT", false),
    ("MTS_TLS_CLIENT_KEY", false),
    ("MTS_TLS_CLIENT_CA_CERT", false),
    ("MTS_TLS_CLIENT_CA_KEY", false),
    ("MTS_TLS_REVOKED_CERT", false),
    ("MTS_TLS_REVOKED_KEY", false),
];

/// `mts config show`: the file and profile as one TOML document, then the environment layer.
fn show_config(args: &crate::cli::ConfigShowArgs) -> ExitCode {
    let path = config_path(args.config.as_deref());
    let config = match load_config(path.as_deref(), args.config_profile.as_deref()) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let mut shown = config.clone();
    shown.profile.clear();
    let text = match toml::to_string_pretty(&shown) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::Internal;
        }
    };
    println!(
        "# file: {}{}",
        path.as_deref()
            .map_or("none (defaults)".to_owned(), |p| p.display().to_string()),
        args.config_profile
            .as_deref()
            .map(|p| format!(", profile: {p}"))
            .unwrap_or_default()
    );
    if !config.profile.is_empty() {
        let names: Vec<&str> = config.profile.keys().map(String::as_str).collect();
        println!("# profiles in the file: {}", names.join(", "));
    }
    println!("{text}");
    println!("# environment (overrides the file; flags override both)");
    let mut any = false;
    for (name, secret) in ENVIRONMENT {
        if let Some(value) = env_secret(name) {
            any = true;
            let shown = if *secret {
                crate::http::REDACTED.to_owned()
            } else {
                value
            };
            println!("{name}={shown}");
        }
    }
    if !any {
        println!("# (no MTS_* variables set)");
    }
    ExitCode::Conformant
}

/// `mts lint`: exit 3 with every problem, or 0.
fn lint_suite(args: &crate::cli::LintArgs) -> ExitCode {
    let catalogue = match &args.catalogue_dir {
        Some(dir) => catalogue::load_dir(dir),
        None => catalogue::load_embedded(),
    };
    let catalogue = match catalogue {
        Ok(catalogue) => catalogue,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
    let suite = match &args.features_dir {
        Some(dir) => crate::features::Suite::load_dir(dir),
        None => crate::features::Suite::load_embedded(),
    };
    let suite = match suite {
        Ok(suite) => suite,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
    let problems = crate::lint::lint(&catalogue, &suite, &crate::steps::StepLibrary::new());
    if problems.is_empty() {
        println!(
            "lint: {} requirements, {} scenarios, {} sandbox faults: no problems",
            catalogue.requirements.len(),
            suite.scenarios().len(),
            Fault::ALL.len()
        );
        return ExitCode::Conformant;
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    eprintln!("lint: {} problem(s)", problems.len());
    ExitCode::InvalidInput
}

/// Requirement ids that failed or errored in an earlier run (`--rerun-failed`).
fn failed_in(folder: &Path) -> Result<Vec<String>, ExitCode> {
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
fn diff_runs(args: &crate::cli::DiffArgs) -> ExitCode {
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

fn print_error(error: &dyn std::error::Error) {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
}

fn load_catalogue() -> Result<Catalogue, ExitCode> {
    catalogue::load_embedded().map_err(|error| {
        print_error(&error);
        ExitCode::InvalidInput
    })
}

/// The run's settings from its flags, the environment (through clap) and the configuration.
fn run_options(
    args: &RunArgs,
    config: &ConfigFile,
    requirements: Option<String>,
) -> Result<RunOptions, ExitCode> {
    let target = args.target.clone().or(config.target.url.clone());
    let profile = args.profile.or(config.run.profile).unwrap_or(Profile::Apim);
    let credentials = resolve_credentials(&config.auth, profile).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::InvalidInput
    })?;
    let mtls = resolve_mtls(args, &config.target).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::InvalidInput
    })?;
    Ok(RunOptions {
        target,
        profile,
        selection: Selection {
            requirements,
            tags: args.tags.clone(),
            levels: args.levels.clone(),
            areas: args.areas.clone(),
            shard: args.shard,
        },
        concurrency: args
            .concurrency
            .map(usize::from)
            .or(config.run.concurrency)
            .unwrap_or(config::DEFAULT_CONCURRENCY),
        timeout: Duration::from_secs_f64(
            args.timeout
                .or(config.run.timeout_seconds)
                .unwrap_or(config::DEFAULT_TIMEOUT_SECONDS),
        ),
        body_limit: config
            .run
            .body_limit_bytes
            .unwrap_or(config::DEFAULT_BODY_LIMIT),
        ca_cert: args.ca_cert.clone().or(config.target.ca_cert.clone()),
        allow_writes: args.allow_writes || config.run.allow_writes.unwrap_or(false),
        credentials,
        low_privilege_token: env_secret("MTS_LOW_PRIVILEGE_TOKEN"),
        allow_load: args.allow_load,
        rate_limit: args
            .rate_limit
            .or_else(|| env_secret("MTS_RATE_LIMIT").and_then(|v| v.parse().ok()))
            .unwrap_or(5),
        load_token: env_secret("MTS_LOAD_TOKEN"),
        data: TestData::from_section(&config.data),
        features_dir: args.features_dir.clone(),
        catalogue_dir: args.catalogue_dir.clone(),
        sandbox_faults: args.faults.clone(),
        openapi: args.openapi.clone().or(config.run.openapi.clone()),
        insecure: args.insecure,
        gpc: config.gpc.clone(),
        mtls,
        interrupt: interrupt_on_signals(),
        verbosity: if args.quiet {
            runner::Verbosity::Quiet
        } else if args.verbose {
            runner::Verbosity::Verbose
        } else {
            runner::Verbosity::Normal
        },
        gate: runner::Gate {
            strict: args.strict || config.gate.strict.unwrap_or(false),
            waivers: config.waivers.clone(),
            today: chrono::Utc::now().date_naive(),
        },
        declares: config.target.declares.clone(),
        declares_complete: config.target.declares_complete,
        write: config.target.write.clone(),
    })
}

/// `mts doctor`: exit 0 when a run can go ahead, 1 when something must be fixed first.
async fn doctor(args: RunArgs) -> ExitCode {
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

async fn run(args: RunArgs) -> ExitCode {
    let config = match load_config(
        config_path(args.config.as_deref()).as_deref(),
        args.config_profile.as_deref(),
    ) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if (args.target.is_some() || config.target.url.is_some()) && !args.faults.is_empty() {
        eprintln!(
            "error: --fault switches the embedded sandbox's faults; with --target, start `mts sandbox --fault …` yourself"
        );
        return ExitCode::Usage;
    }
    let sign_key = match load_sign_key(args.sign_key.as_deref()) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let requirements = match &args.rerun_failed {
        None => args.requirements.clone(),
        Some(folder) => match failed_in(folder) {
            Ok(ids) if ids.is_empty() => {
                println!(
                    "nothing to rerun: no requirement failed or errored in {}",
                    folder.display()
                );
                return ExitCode::Conformant;
            }
            Ok(ids) => Some(ids.join(",")),
            Err(code) => return code,
        },
    };
    let options = match run_options(&args, &config, requirements) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let out = match prepare_out_dir(args.out.as_deref()) {
        Ok(out) => out,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::Usage;
        }
    };
    let executed = match runner::execute(options).await {
        Ok(executed) => executed,
        Err(error) => {
            print_error(&error);
            return match error {
                RunError::Selection(_) => ExitCode::Usage,
                _ => ExitCode::InvalidInput,
            };
        }
    };
    if let Some(shard) = &executed.shard {
        // Before the report files, so the manifest covers it.
        let written = serde_json::to_vec_pretty(shard)
            .map_err(std::io::Error::other)
            .and_then(|text| report::write_atomically(&out.join(SHARD_FILE), &text));
        if let Err(error) = written {
            eprintln!("error: failed to write {SHARD_FILE}: {error}");
            return ExitCode::Internal;
        }
    }
    write_and_print(
        &executed.report,
        &out,
        &args.format,
        sign_key.as_ref(),
        args.quiet,
    )
}

/// `mts merge`: the shards' folders into one report, written and judged like a run's.
fn merge_runs(args: &crate::cli::MergeArgs) -> ExitCode {
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

/// `mts rejudge`: a run folder's evidence judged again, offline, into a new folder.
fn rejudge_run(args: &crate::cli::RejudgeArgs) -> ExitCode {
    let openapi = match args
        .openapi
        .as_deref()
        .map(std::fs::read_to_string)
        .transpose()
    {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read the OpenAPI document: {error}");
            return ExitCode::InvalidInput;
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
            eprintln!("error: give a run folder or --har FILE");
            return ExitCode::Usage;
        }
    };
    let rejudged = match rejudged {
        Ok(rejudged) => rejudged,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
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
        args.quiet,
    )
}

/// `--sign-key FILE`, loaded.
fn load_sign_key(path: Option<&Path>) -> Result<Option<report::SigningKey>, ExitCode> {
    path.map(report::SigningKey::load)
        .transpose()
        .map_err(|error| {
            eprintln!("error: {error}");
            ExitCode::InvalidInput
        })
}

/// A report made without a live run (merge, rejudge) into a fresh folder, then shown.
fn write_to_new_folder(
    report: &report::Report,
    out: Option<&Path>,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    quiet: bool,
) -> ExitCode {
    match prepare_out_dir(out) {
        Ok(out) => write_and_print(report, &out, formats, sign_key, quiet),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::Usage
        }
    }
}

/// What a shard keeps besides its report, for `mts merge`.
const SHARD_FILE: &str = "shard.json";

/// Writes the chosen formats (all by default), prints the table (or the verdict line alone) and
/// gives the exit code the verdict calls for.
fn write_and_print(
    report: &report::Report,
    out: &Path,
    formats: &[report::Format],
    sign_key: Option<&report::SigningKey>,
    quiet: bool,
) -> ExitCode {
    let formats = if formats.is_empty() {
        report::Format::ALL.to_vec()
    } else {
        formats.to_vec()
    };
    if let Err(error) = report::write_all(report, out, &formats, sign_key) {
        eprintln!(
            "error: failed to write the report into {}: {error}",
            out.display()
        );
        return ExitCode::Internal;
    }
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let style = TableStyle {
        colour,
        detail_width: 60,
    };
    if quiet {
        print!("{}", report::render_verdict_line(report, style));
    } else {
        print!("{}", report::render_table(report, style));
        eprintln!("report: {}", out.display());
    }
    runner::exit_code_for(report)
}

/// `mts verify`: 0 when every file matches its manifest (and the signature, if any, holds);
/// 1 on any discrepancy, each named; 3 when there is no readable manifest or key.
fn verify(args: &crate::cli::VerifyArgs) -> ExitCode {
    let public_key = match args
        .public_key
        .as_deref()
        .map(report::load_public_key)
        .transpose()
    {
        Ok(key) => key,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::InvalidInput;
        }
    };
    match report::verify(&args.folder, public_key.as_deref()) {
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::InvalidInput
        }
        Ok(outcome) if outcome.problems.is_empty() => {
            println!(
                "verified: {} file(s) match {}",
                outcome.verified,
                args.folder.join("manifest.json").display()
            );
            match &outcome.signature {
                Some(signature) => println!("{signature}"),
                None => println!("not signed"),
            }
            ExitCode::Conformant
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
            ExitCode::NonConformant
        }
    }
}

/// `mts keygen`: an Ed25519 key pair for `--sign-key` and `mts verify --public-key`.
fn keygen(args: &crate::cli::KeygenArgs) -> ExitCode {
    if args.out.exists() {
        eprintln!(
            "error: {} exists; a key is never overwritten",
            args.out.display()
        );
        return ExitCode::Usage;
    }
    let (private, public) = match report::SigningKey::generate() {
        Ok(pair) => pair,
        Err(error) => {
            eprintln!("error: cannot make a key: {error}");
            return ExitCode::Internal;
        }
    };
    let public_path = PathBuf::from(format!("{}.pub", args.out.display()));
    let written =
        write_private(&args.out, &private).and_then(|()| std::fs::write(&public_path, &public));
    if let Err(error) = written {
        eprintln!("error: cannot write the key: {error}");
        return ExitCode::Internal;
    }
    println!("private key: {} (keep it secret)", args.out.display());
    println!("public key:  {}", public_path.display());
    ExitCode::Conformant
}

/// The first Ctrl-C or SIGTERM stops the run and still writes its report; a second one exits
/// at once (130).
fn interrupt_on_signals() -> runner::Interrupt {
    let (switch, interrupt) = runner::Interrupt::channel();
    let mut signals = Signals::listen();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let name = signals.next().await;
            if !first {
                eprintln!("\n{name} again: stopping without a report");
                std::process::exit(130);
            }
            first = false;
            eprintln!(
                "\n{name}: stopping; the report will cover what finished (again to quit at once)"
            );
            let _ = switch.send(Some(name.to_owned()));
        }
    });
    interrupt
}

/// SIGINT and SIGTERM, caught from the moment this is made: tokio installs its handler on
/// registration, not at the first await, so a signal that lands just after `MTS_READY` is
/// printed still stops the process cleanly instead of killing it with its key folder behind.
struct Signals {
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

fn env_secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Credentials from `[auth]` and the environment (`MTS_TOKEN`, or `MTS_TOKEN_URL`,
/// `MTS_CLIENT_ID`, `MTS_KID` and `MTS_CLIENT_KEY` for client credentials).
fn resolve_credentials(
    section: &config::AuthSection,
    profile: Profile,
) -> Result<Credentials, String> {
    let token_url = section
        .token_url
        .clone()
        .or_else(|| env_secret("MTS_TOKEN_URL"));
    let client_id = section
        .client_id
        .clone()
        .or_else(|| env_secret("MTS_CLIENT_ID"));
    let kid = section.kid.clone().or_else(|| env_secret("MTS_KID"));
    let key_path = section
        .private_key
        .clone()
        .or_else(|| env_secret("MTS_CLIENT_KEY").map(PathBuf::from));
    let complete =
        token_url.is_some() && client_id.is_some() && kid.is_some() && key_path.is_some();
    let kind = section.kind.unwrap_or(if complete {
        config::AuthKind::ClientCredentials
    } else if env_secret(TOKEN_VARIABLE).is_some() {
        config::AuthKind::Bearer
    } else if profile == Profile::Gpc {
        // GP Connect consumers authenticate with mutual TLS and a provenance JWT, no token.
        config::AuthKind::GpcProvenance
    } else {
        config::AuthKind::None
    });
    match kind {
        config::AuthKind::None => Ok(Credentials::None),
        config::AuthKind::GpcProvenance => Ok(Credentials::GpcProvenance),
        config::AuthKind::Bearer => env_secret(TOKEN_VARIABLE)
            .map(Credentials::Bearer)
            .ok_or_else(|| format!("[auth] kind = \"bearer\" needs the token in {TOKEN_VARIABLE}")),
        config::AuthKind::ClientCredentials => {
            let (Some(token_url), Some(client_id), Some(kid), Some(key_path)) =
                (token_url, client_id, kid, key_path)
            else {
                return Err("client credentials need token_url, client_id, kid and private_key ([auth] or MTS_TOKEN_URL, MTS_CLIENT_ID, MTS_KID, MTS_CLIENT_KEY)".into());
            };
            let pem = std::fs::read_to_string(&key_path)
                .map_err(|e| format!("cannot read the private key {}: {e}", key_path.display()))?;
            let key =
                ClientKey::from_pem(&pem).map_err(|e| format!("{}: {e}", key_path.display()))?;
            Ok(Credentials::ClientCredentials(ClientCredentials {
                token_url,
                client_id,
                kid,
                key: std::sync::Arc::new(key),
            }))
        }
    }
}

/// Mutual TLS material from flags (or their MTS_TLS_* variables), else `[target]`; each
/// certificate comes with its key.
fn resolve_mtls(
    args: &RunArgs,
    target: &config::TargetSection,
) -> Result<runner::MutualTls, String> {
    let pair = |what: &str,
                flags: (&Option<PathBuf>, &Option<PathBuf>),
                file: (&Option<PathBuf>, &Option<PathBuf>)|
     -> Result<Option<(PathBuf, PathBuf)>, String> {
        let cert = flags.0.clone().or_else(|| file.0.clone());
        let key = flags.1.clone().or_else(|| file.1.clone());
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            _ => Err(format!("{what} needs both a certificate and its key")),
        }
    };
    let identity = |paths: Option<(PathBuf, PathBuf)>| {
        paths
            .map(|(cert, key)| crate::http::tls::ClientIdentity::load(&cert, &key))
            .transpose()
    };
    let issuing_ca = pair(
        "the client CA",
        (&args.client_ca_cert, &args.client_ca_key),
        (&target.client_ca_cert, &target.client_ca_key),
    )?
    .map(|(cert, key)| -> Result<_, String> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        crate::tls::pki::TestCa::from_pem(&read(&cert)?, &read(&key)?)
            .map(std::sync::Arc::new)
            .map_err(|e| format!("{}: {e}", cert.display()))
    })
    .transpose()?;
    Ok(runner::MutualTls {
        identity: identity(pair(
            "the client certificate",
            (&args.client_cert, &args.client_key),
            (&target.client_cert, &target.client_key),
        )?)?,
        issuing_ca,
        revoked: identity(pair(
            "the revoked client certificate",
            (&args.revoked_client_cert, &args.revoked_client_key),
            (&target.revoked_client_cert, &target.revoked_client_key),
        )?)?,
    })
}

/// Writes a file only its owner can read (the sandbox's keys, however throwaway).
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// A fresh folder per run: never append to or overwrite an older run.
fn prepare_out_dir(out: Option<&Path>) -> Result<PathBuf, String> {
    let dir = match out {
        Some(dir) => dir.to_owned(),
        None => {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let id = uuid::Uuid::new_v4().simple().to_string();
            Path::new("reports").join(format!("{stamp}-{}", &id[..8]))
        }
    };
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(format!(
                "{} already holds files: a run never overwrites an older one; choose a new --out",
                dir.display()
            ));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

#[derive(Tabled)]
struct ListRow {
    #[tabled(rename = "Requirement")]
    id: String,
    #[tabled(rename = "Level")]
    level: String,
    #[tabled(rename = "Status")]
    status: String,
    #[tabled(rename = "Profiles")]
    profiles: String,
    #[tabled(rename = "Title")]
    title: String,
}

fn list(args: &ListArgs) -> ExitCode {
    let catalogue = match load_catalogue() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let requirements: Vec<&catalogue::Requirement> = catalogue
        .requirements
        .iter()
        .filter(|r| args.profile.is_none_or(|p| r.applies_to(p)))
        .collect();
    match args.format {
        ListFormat::Json => {
            let value = json!({
                "catalogue": {"version": catalogue.version, "digest": catalogue.digest, "title": catalogue.title},
                "requirements": requirements,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        ListFormat::Table => {
            let rows: Vec<ListRow> = requirements
                .iter()
                .map(|r| ListRow {
                    id: r.id.to_string(),
                    level: match args.profile {
                        Some(p) => r.level_for(p).to_string(),
                        None => r.level.to_string(),
                    },
                    status: r.status.as_str().to_owned(),
                    profiles: r
                        .profiles
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    title: r.title.clone(),
                })
                .collect();
            let mut table = Table::new(rows);
            table
                .with(Style::sharp())
                .modify(Columns::new(4..5), Width::wrap(60));
            println!("{table}");
            let automated = requirements
                .iter()
                .filter(|r| r.status == catalogue::Status::Automated)
                .count();
            println!(
                "{} requirements ({automated} automated), catalogue {} {}",
                requirements.len(),
                catalogue.version,
                catalogue.digest
            );
        }
    }
    ExitCode::Conformant
}

fn explain(args: &ExplainArgs) -> ExitCode {
    let catalogue = match load_catalogue() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(requirement) = catalogue.get(&args.id.to_ascii_uppercase()) else {
        let hint = crate::util::did_you_mean(
            &args.id.to_ascii_uppercase(),
            catalogue.requirements.iter().map(|r| r.id.as_str()),
        )
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
        eprintln!("error: no requirement {} in the catalogue{hint}", args.id);
        return ExitCode::Usage;
    };
    let suite = match Suite::load_embedded() {
        Ok(suite) => suite,
        Err(error) => {
            print_error(&error);
            return ExitCode::InvalidInput;
        }
    };
    let scenarios: Vec<String> = suite
        .scenarios()
        .into_iter()
        .filter(|s| s.requirements.contains(&requirement.id))
        .map(|s| format!("{} {}", s.location(), s.name))
        .collect();
    let checks: Vec<String> = PASSIVE_CHECKS
        .iter()
        .filter(|c| c.requirement == requirement.id.as_str())
        .map(|c| format!("{}: {}", c.id, c.summary))
        .collect();
    let faults: Vec<String> = Fault::ALL
        .iter()
        .filter(|f| f.breaks().contains(&requirement.id.as_str()))
        .map(|f| format!("{}: {}", f.name(), f.description()))
        .collect();
    if args.format == ListFormat::Json {
        let value = json!({"requirement": requirement, "scenarios": scenarios, "checks": checks, "sandbox_faults": faults});
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return ExitCode::Conformant;
    }
    let mut out = format!(
        "{} [{}] {}\n\n",
        requirement.id, requirement.level, requirement.title
    );
    for (profile, level) in &requirement.level_overrides {
        out.push_str(&format!("Level under the {profile} profile: {level}\n"));
    }
    let profiles: Vec<&str> = requirement.profiles.iter().map(|p| p.as_str()).collect();
    let needs: Vec<&str> = requirement.needs.iter().map(|n| n.as_str()).collect();
    out.push_str(&format!(
        "Profiles: {}\nNeeds: {}\nStatus: {}\n",
        profiles.join(", "),
        if needs.is_empty() {
            "nothing".into()
        } else {
            needs.join(", ")
        },
        requirement.status.as_str()
    ));
    if let Some(reason) = &requirement.reason {
        out.push_str(&format!("Why: {reason}\n"));
    }
    out.push_str(&format!(
        "\nRequirement:\n  {}\n\nHow it is verified:\n  {}\n\nSources:\n",
        requirement.statement.trim(),
        requirement.verification.trim()
    ));
    for source in &requirement.sources {
        let title = catalogue
            .source(&source.code)
            .map_or("", |s| s.title.as_str());
        let url = catalogue.source_url(source).unwrap_or_default();
        out.push_str(&format!(
            "  {} {title}: {}\n    {url}\n",
            source.code, source.detail
        ));
    }
    let section = |title: &str, items: &[String]| {
        if items.is_empty() {
            format!("\n{title}: none\n")
        } else {
            format!(
                "\n{title}:\n{}\n",
                items
                    .iter()
                    .map(|i| format!("  {i}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
    };
    out.push_str(&section("Scenarios", &scenarios));
    out.push_str(&section("Checks over every exchange", &checks));
    out.push_str(&section("Sandbox faults it is proven to catch", &faults));
    print!("{out}");
    ExitCode::Conformant
}

async fn serve_sandbox(args: SandboxArgs) -> ExitCode {
    if let Some(case) = &args.hostile {
        return serve_hostile(case, &args).await;
    }
    if args.faults.iter().any(|f| f == "list") {
        for fault in Fault::ALL {
            println!(
                "{:<22} {} (breaks {})",
                fault.name(),
                fault.description(),
                fault.breaks().join(", ")
            );
        }
        return ExitCode::Conformant;
    }
    let mut faults = Vec::new();
    for name in &args.faults {
        match name.parse::<Fault>() {
            Ok(fault) => faults.push(fault),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::Usage;
            }
        }
    }
    let seed = match &args.seed {
        None => Vec::new(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| sandbox::parse_seed(&text))
        {
            Ok(seed) => seed,
            Err(message) => {
                eprintln!("error: --seed {}: {message}", path.display());
                return ExitCode::InvalidInput;
            }
        },
    };
    let certificate = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            if faults.iter().any(|f| {
                matches!(
                    f,
                    Fault::ExpiredCertificate | Fault::WrongHostnameCertificate
                )
            }) {
                eprintln!("error: {}", sandbox::OWN_CERTIFICATE_AND_FAULTS);
                return ExitCode::Usage;
            }
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            };
            let loaded = read(cert)
                .and_then(|cert_pem| sandbox::OwnCertificate::from_pem(&cert_pem, &read(key)?));
            match loaded {
                Ok(certificate) => Some(certificate),
                Err(message) => {
                    eprintln!(
                        "error: --tls-cert {} --tls-key {}: {message}",
                        cert.display(),
                        key.display()
                    );
                    return ExitCode::InvalidInput;
                }
            }
        }
        _ => None,
    };
    // MTS_SANDBOX_TOKEN fixes the static token (the canary test plants one); otherwise a fresh one.
    let token = (!args.no_auth).then(|| {
        env_secret("MTS_SANDBOX_TOKEN")
            .unwrap_or_else(|| format!("mts-sandbox-{}", uuid::Uuid::new_v4().simple()))
    });
    let read_only =
        (!args.no_auth).then(|| format!("mts-read-only-{}", uuid::Uuid::new_v4().simple()));
    let load_token = (!args.no_auth).then(|| format!("mts-load-{}", uuid::Uuid::new_v4().simple()));
    let client = match (!args.no_auth)
        .then(sandbox::SandboxClient::generate)
        .transpose()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::Internal;
        }
    };
    let options = SandboxOptions {
        faults: faults.clone(),
        token: token.clone(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        tls: args.tls,
        certificate,
        read_only_token: read_only.clone(),
        load_token: load_token.clone().map(|t| (t, sandbox::LOAD_RATE_LIMIT)),
        client: client.clone(),
        token_lifetime: std::time::Duration::from_secs(args.token_lifetime),
        mtls: args.mtls,
        seed,
    };
    let running = match sandbox::start(options).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {error}", args.port);
            return ExitCode::Usage;
        }
    };
    // Machine-readable lines (KEY=value, ending with MTS_READY=1), so scripts and tests can
    // `export` what they need. Files are named after the port so parallel sandboxes do not clash.
    let port = running.address().port();
    // Keys and certificates go in one private folder, removed again when the sandbox stops.
    let state_dir = match private_state_dir(port) {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("error: cannot create the sandbox's key folder: {error}");
            return ExitCode::Internal;
        }
    };
    let state = StateDirGuard(state_dir.clone());
    let write = |name: &str, contents: &str| -> Result<String, String> {
        let path = state_dir.join(format!("{name}.pem"));
        write_private(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path.display().to_string())
    };
    let mut lines = vec![
        ("MTS_SANDBOX_URL".to_owned(), running.base_url()),
        ("MTS_TOKEN".to_owned(), token.clone().unwrap_or_default()),
    ];
    if let Some(pem) = running.ca_pem() {
        match write("ca", pem) {
            Ok(path) => lines.push(("MTS_CA_CERT".into(), path)),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::Internal;
            }
        }
    }
    if let Some(client) = &client {
        let key = client
            .key
            .to_pem()
            .and_then(|pem| write("client-key", &pem));
        match key {
            Ok(path) => lines.extend([
                ("MTS_TOKEN_URL".to_owned(), running.token_url()),
                ("MTS_CLIENT_ID".to_owned(), client.client_id.clone()),
                ("MTS_KID".to_owned(), client.kid.clone()),
                ("MTS_CLIENT_KEY".to_owned(), path),
                (
                    "MTS_LOW_PRIVILEGE_TOKEN".to_owned(),
                    read_only.clone().unwrap_or_default(),
                ),
                (
                    "MTS_LOAD_TOKEN".to_owned(),
                    load_token.clone().unwrap_or_default(),
                ),
                (
                    "MTS_RATE_LIMIT".to_owned(),
                    sandbox::LOAD_RATE_LIMIT.to_string(),
                ),
            ]),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::Internal;
            }
        }
    }
    if let Some(pki) = running.client_pki() {
        let files = [
            (
                "MTS_TLS_CLIENT_CERT",
                "client-cert",
                pki.valid.cert_pem.clone(),
            ),
            (
                "MTS_TLS_CLIENT_KEY",
                "client-cert-key",
                pki.valid.key_pem.clone(),
            ),
            (
                "MTS_TLS_CLIENT_CA_CERT",
                "client-ca",
                pki.ca.cert_pem.clone(),
            ),
            ("MTS_TLS_CLIENT_CA_KEY", "client-ca-key", pki.ca.key_pem()),
            (
                "MTS_TLS_REVOKED_CERT",
                "revoked-cert",
                pki.revoked.cert_pem.clone(),
            ),
            (
                "MTS_TLS_REVOKED_KEY",
                "revoked-cert-key",
                pki.revoked.key_pem.clone(),
            ),
        ];
        for (variable, name, contents) in files {
            match write(name, &contents) {
                Ok(path) => lines.push((variable.to_owned(), path)),
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::Internal;
                }
            }
        }
    }
    let mut signals = Signals::listen();
    for (key, value) in &lines {
        println!("{key}={value}");
    }
    println!("MTS_READY=1");
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    eprintln!(
        "mts sandbox serving {} (faults: {}); Ctrl-C stops it",
        running.base_url(),
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    );
    tokio::select! {
        _ = running_wait(running) => {}
        _ = signals.next() => {}
    }
    drop(state);
    ExitCode::Conformant
}

/// `$TMPDIR/mts-sandbox-<port>-<random>/`, readable by its owner only.
fn private_state_dir(port: u16) -> std::io::Result<PathBuf> {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("mts-sandbox-{port}-{}", &random[..8]));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    Ok(dir)
}

/// Removes the sandbox's key folder however the sandbox stops (signal, error return).
struct StateDirGuard(PathBuf);

impl Drop for StateDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `mts sandbox --hostile CASE`: a broken or malicious server, for robustness tests.
async fn serve_hostile(case: &str, args: &SandboxArgs) -> ExitCode {
    if case == "list" {
        for case in sandbox::Hostile::ALL {
            println!("{:<22} {}", case.name(), case.description());
        }
        return ExitCode::Conformant;
    }
    let case = match case.parse::<sandbox::Hostile>() {
        Ok(case) => case,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::Usage;
        }
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let (address, task) = match sandbox::start_hostile(listen, case, args.redirect_to.clone()).await
    {
        Ok(started) => started,
        Err(error) => {
            eprintln!("error: cannot listen on {listen}: {error}");
            return ExitCode::Usage;
        }
    };
    let mut signals = Signals::listen();
    println!("MTS_SANDBOX_URL=http://{address}{}", sandbox::BASE_PATH);
    println!("MTS_READY=1");
    eprintln!(
        "mts sandbox serving hostile case `{}` ({}) on http://{address}; Ctrl-C stops it",
        case.name(),
        case.description()
    );
    signals.next().await;
    task.abort();
    ExitCode::Conformant
}

async fn running_wait(running: sandbox::RunningSandbox) {
    running.wait().await;
}

pub fn parse_cli() -> Result<Cli, clap::Error> {
    <Cli as clap::Parser>::try_parse()
}
