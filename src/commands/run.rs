//! `mts run`: the suite against a target, and the options, credentials and output folder it needs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::{ClientCredentials, ClientKey, Credentials};
use crate::catalogue::Profile;
use crate::cli::RunArgs;
use crate::config::{self, ConfigFile, TestData};
use crate::exit::ExitCode;
use crate::report;
use crate::runner::{self, RunError, RunOptions, Selection};

use super::*;

/// The run's settings from its flags, the environment (through clap) and the configuration.
pub(crate) fn run_options(
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
        target: match target {
            Some(url) => runner::Target::Remote(url),
            None => runner::Target::Started(std::sync::Arc::new(crate::sandbox::EmbeddedSandbox {
                faults: args.faults.clone(),
            })),
        },
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

pub(crate) async fn run(args: RunArgs) -> ExitCode {
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

/// The first Ctrl-C or SIGTERM stops the run and still writes its report; a second one exits
/// at once (130).
pub(crate) fn interrupt_on_signals() -> runner::Interrupt {
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

/// Credentials from `[auth]` and the environment (`MTS_TOKEN`, or `MTS_TOKEN_URL`,
/// `MTS_CLIENT_ID`, `MTS_KID` and `MTS_CLIENT_KEY` for client credentials).
pub(crate) fn resolve_credentials(
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
pub(crate) fn resolve_mtls(
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
            .map(|(cert, key)| crate::tls::trust::ClientIdentity::load(&cert, &key))
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

/// A fresh folder per run: never append to or overwrite an older run.
pub(crate) fn prepare_out_dir(out: Option<&Path>) -> Result<PathBuf, String> {
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
