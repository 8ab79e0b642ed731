//! `mts sandbox`: the reference server (and its hostile cases) for tests and demos.

use std::path::PathBuf;

use crate::cli::SandboxArgs;
use crate::exit::ExitCode;
use crate::sandbox::{self, Fault, SandboxOptions};

use super::*;

pub(crate) async fn serve_sandbox(args: SandboxArgs) -> Result<ExitCode, CmdError> {
    if let Some(case) = &args.hostile {
        return serve_hostile(case, &args).await;
    }
    if args.faults.iter().any(|f| f == "list") {
        for fault in Fault::ALL {
            outln!(
                "{:<22} {} (breaks {})",
                fault.name(),
                fault.description(),
                fault.breaks().join(", ")
            );
        }
        return Ok(ExitCode::Success);
    }
    let mut faults = Vec::new();
    for name in &args.faults {
        match name.parse::<Fault>() {
            Ok(fault) => faults.push(fault),
            Err(message) => {
                return Err(CmdError::usage(message.to_string()));
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
                return Err(CmdError::invalid(format!(
                    "--seed {}: {message}",
                    path.display()
                )));
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
                return Err(CmdError::usage(sandbox::OWN_CERTIFICATE_AND_FAULTS));
            }
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            };
            let loaded = read(cert)
                .and_then(|cert_pem| sandbox::OwnCertificate::from_pem(&cert_pem, &read(key)?));
            match loaded {
                Ok(certificate) => Some(certificate),
                Err(message) => {
                    return Err(CmdError::invalid(format!(
                        "--tls-cert {} --tls-key {}: {message}",
                        cert.display(),
                        key.display()
                    )));
                }
            }
        }
        _ => None,
    };
    // MTS_SANDBOX_TOKEN fixes the static token (the canary test plants one); otherwise a fresh one.
    let token = (!args.no_auth).then(|| {
        settings::process_env("MTS_SANDBOX_TOKEN")
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
            return Err(CmdError::internal(error.to_string()));
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
            return Err(CmdError::usage(format!(
                "cannot listen on 127.0.0.1:{}: {error}",
                args.port
            )));
        }
    };
    // Machine-readable lines (KEY=value, ending with MTS_READY=1), so scripts and tests can
    // `export` what they need. Files are named after the port so parallel sandboxes do not clash.
    let port = running.address().port();
    // Keys and certificates go in one private folder, removed again when the sandbox stops.
    let state_dir = match private_state_dir(port) {
        Ok(dir) => dir,
        Err(error) => {
            return Err(CmdError::internal(format!(
                "cannot create the sandbox's key folder: {error}"
            )));
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
                return Err(CmdError::internal(message.to_string()));
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
                return Err(CmdError::internal(message.to_string()));
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
                    return Err(CmdError::internal(message.to_string()));
                }
            }
        }
    }
    let mut signals = Signals::listen();
    for (key, value) in &lines {
        outln!("{key}={value}");
    }
    outln!("MTS_READY=1");
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
    Ok(ExitCode::Success)
}

/// `$TMPDIR/mts-sandbox-<port>-<random>/`, readable by its owner only.
pub(crate) fn private_state_dir(port: u16) -> std::io::Result<PathBuf> {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("mts-sandbox-{port}-{}", &random[..8]));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    Ok(dir)
}

/// Removes the sandbox's key folder however the sandbox stops (signal, error return).
pub(crate) struct StateDirGuard(PathBuf);

impl Drop for StateDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `mts sandbox --hostile CASE`: a broken or malicious server, for robustness tests.
pub(crate) async fn serve_hostile(case: &str, args: &SandboxArgs) -> Result<ExitCode, CmdError> {
    if case == "list" {
        for case in sandbox::Hostile::ALL {
            outln!("{:<22} {}", case.name(), case.description());
        }
        return Ok(ExitCode::Success);
    }
    let case = match case.parse::<sandbox::Hostile>() {
        Ok(case) => case,
        Err(message) => {
            return Err(CmdError::usage(message.to_string()));
        }
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let (address, task) = match sandbox::start_hostile(listen, case, args.redirect_to.clone()).await
    {
        Ok(started) => started,
        Err(error) => {
            return Err(CmdError::usage(format!(
                "cannot listen on {listen}: {error}"
            )));
        }
    };
    let mut signals = Signals::listen();
    outln!("MTS_SANDBOX_URL=http://{address}{}", sandbox::BASE_PATH);
    outln!("MTS_READY=1");
    eprintln!(
        "mts sandbox serving hostile case `{}` ({}) on http://{address}; Ctrl-C stops it",
        case.name(),
        case.description()
    );
    signals.next().await;
    task.abort();
    Ok(ExitCode::Success)
}

pub(crate) async fn running_wait(running: sandbox::RunningSandbox) {
    running.wait().await;
}
