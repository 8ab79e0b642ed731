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

use super::settings::{Resolved, Setting, process_env};
use super::*;

/// The run's options: its settings resolved once (`settings.rs`: flags > environment > file >
/// defaults), the credentials and client certificates they name, and the file's other sections.
pub(crate) fn run_options(
    args: &RunArgs,
    config: &ConfigFile,
    settings: &Resolved,
    requirements: Option<String>,
) -> Result<RunOptions, CmdError> {
    let value = |setting: &Option<Setting<PathBuf>>| setting.as_ref().map(|s| s.value.clone());
    let profile = settings.profile.value;
    let credentials = resolve_credentials(settings, config.auth.kind, profile, &process_env)
        .map_err(CmdError::invalid)?;
    let mtls = resolve_mtls(settings).map_err(CmdError::invalid)?;
    Ok(RunOptions {
        target: match settings.target.as_ref().map(|s| s.value.clone()) {
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
            shard: settings.shard.as_ref().map(|s| s.value),
        },
        concurrency: settings.concurrency.value,
        timeout: Duration::from_secs_f64(settings.timeout_seconds.value),
        body_limit: settings.body_limit.value,
        ca_cert: value(&settings.ca_cert),
        allow_writes: settings.allow_writes.value,
        keep_written: settings.keep_written.value,
        credentials,
        low_privilege_token: process_env("MTS_LOW_PRIVILEGE_TOKEN"),
        allow_load: args.allow_load,
        rate_limit: settings.rate_limit.value,
        load_token: process_env("MTS_LOAD_TOKEN"),
        data: TestData::from_section(&config.data),
        features_dir: args.features_dir.clone(),
        catalogue_dir: args.catalogue_dir.clone(),
        openapi: settings.openapi.as_ref().map(|s| s.value.clone()),
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
            strict: settings.strict.value,
            waivers: config.waivers.clone(),
            today: chrono::Utc::now().date_naive(),
        },
        declares: config.target.declares.clone(),
        declares_complete: config.target.declares_complete,
        write: config.target.write.clone(),
        attestations: match value(&settings.attestations) {
            None => runner::attest::Attestations::default(),
            Some(path) => {
                let catalogue = match &args.catalogue_dir {
                    Some(dir) => crate::catalogue::load_dir(dir),
                    None => crate::catalogue::load_embedded(),
                }
                .map_err(CmdError::invalid)?;
                runner::attest::Attestations::load(&path, &catalogue).map_err(CmdError::invalid)?
            }
        },
    })
}

pub(crate) async fn run(args: RunArgs) -> Result<ExitCode, CmdError> {
    let (config, settings) = load_settings(&args)?;
    if settings.target.is_some() && !args.faults.is_empty() {
        return Err(CmdError::usage(
            "--fault switches the embedded sandbox's faults; with --target, start `mts sandbox --fault …` yourself",
        ));
    }
    let sign_key = load_sign_key(args.sign_key.as_deref())?;
    let requirements = match &args.rerun_failed {
        None => args.requirements.clone(),
        Some(folder) => match failed_in(folder) {
            Ok(ids) if ids.is_empty() => {
                outln!(
                    "nothing to rerun: no requirement failed or errored in {}",
                    folder.display()
                );
                return Ok(ExitCode::Success);
            }
            Ok(ids) => Some(ids.join(",")),
            Err(error) => return Err(error),
        },
    };
    let options = run_options(&args, &config, &settings, requirements)?;
    let out = match prepare_out_dir(args.out.as_deref()) {
        Ok(out) => out,
        Err(message) => {
            return Err(CmdError::usage(message.to_string()));
        }
    };
    let attestations = options.attestations.clone();
    let executed = match runner::execute(options).await {
        Ok(executed) => executed,
        Err(error @ RunError::Selection(_)) => return Err(CmdError::usage(error)),
        Err(error) => return Err(CmdError::invalid(error)),
    };
    if let Some(shard) = &executed.shard {
        // Before the report files, so the manifest covers it.
        let written = serde_json::to_vec_pretty(shard)
            .map_err(std::io::Error::other)
            .and_then(|text| report::write_atomically(&out.join(SHARD_FILE), &text));
        if let Err(error) = written {
            return Err(CmdError::internal(format!(
                "failed to write {SHARD_FILE}: {error}"
            )));
        }
    }
    // Before the report files, so the manifest covers the evidence.
    if let Err(error) = attestations.copy_into(&out) {
        return Err(CmdError::internal(format!(
            "failed to copy attestation evidence into {}: {error}",
            out.display()
        )));
    }
    write_and_print(
        &executed.report,
        &out,
        &args.format,
        sign_key.as_ref(),
        Console::new(args.quiet, args.show),
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

/// Credentials: `[auth] kind`, else what is given: the client-credentials settings (resolved
/// variable over `[auth]` entry), else a bearer token in `MTS_TOKEN`.
pub(crate) fn resolve_credentials(
    settings: &Resolved,
    kind: Option<config::AuthKind>,
    profile: Profile,
    env: super::settings::Env,
) -> Result<Credentials, String> {
    let text = |setting: &Option<Setting<String>>| setting.as_ref().map(|s| s.value.clone());
    let token_url = text(&settings.token_url);
    let client_id = text(&settings.client_id);
    let kid = text(&settings.kid);
    let key_path = settings.private_key.as_ref().map(|s| s.value.clone());
    let complete =
        token_url.is_some() && client_id.is_some() && kid.is_some() && key_path.is_some();
    let kind = kind.unwrap_or(if complete {
        config::AuthKind::ClientCredentials
    } else if env(TOKEN_VARIABLE).is_some() {
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
        config::AuthKind::Bearer => env(TOKEN_VARIABLE)
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

/// Mutual TLS material from the resolved settings; each certificate comes with its key.
pub(crate) fn resolve_mtls(settings: &Resolved) -> Result<runner::MutualTls, String> {
    let pair = |what: &str,
                cert: &Option<Setting<PathBuf>>,
                key: &Option<Setting<PathBuf>>|
     -> Result<Option<(PathBuf, PathBuf)>, String> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some((cert.value.clone(), key.value.clone()))),
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
        &settings.client_ca_cert,
        &settings.client_ca_key,
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
            &settings.client_cert,
            &settings.client_key,
        )?)?,
        issuing_ca,
        revoked: identity(pair(
            "the revoked client certificate",
            &settings.revoked_client_cert,
            &settings.revoked_client_key,
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
