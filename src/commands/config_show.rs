//! `mts config show`: the configuration in force and where each value came from.

use crate::exit::ExitCode;

use super::*;

/// Environment variables `mts run` reads, and whether their values are secret.
pub(crate) const ENVIRONMENT: &[(&str, bool)] = &[
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
pub(crate) fn show_config(args: &crate::cli::ConfigShowArgs) -> ExitCode {
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
